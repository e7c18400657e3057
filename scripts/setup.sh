#!/usr/bin/env bash
# Set up everything on a fresh machine: a venv in .venv, CPU torch first, then the project.
# Safe to re-run: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# CJK fonts so Chinese renders in the chat page (and in its screenshots) on a plain Debian machine.
if command -v apt-get >/dev/null; then bash scripts/system-packages.sh fonts-noto-cjk; fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

stamp=".venv/.installed-$(sha256sum pyproject.toml scripts/constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing CPU torch, then the project (a few minutes the first time)"
  # torch first and pinned: otherwise sentence-transformers pulls the multi-GB CUDA build.
  pip install -q --disable-pip-version-check torch==2.13.0
  pip install -q --disable-pip-version-check -c scripts/constraints.txt -e ".[test]"
  if pip list 2>/dev/null | grep -qiE '^(nvidia-|triton )'; then
    echo "setup: CUDA packages were installed; something asked for a GPU torch" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
