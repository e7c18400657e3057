#!/usr/bin/env bash
# Set up, then run the whole test suite (real embedder, real index, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
# The browser tests drive Debian's chromium with Playwright (never `playwright install`).
bash scripts/system-packages.sh chromium
# shellcheck disable=SC1091
. .venv/bin/activate
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1
python -m pytest "$@"
