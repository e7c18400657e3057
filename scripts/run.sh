#!/usr/bin/env bash
# Set up, index the seed articles, and serve the chat page on http://127.0.0.1:7860
#   bash scripts/run.sh                                   # the chat page
#   bash scripts/run.sh "谅山省2023年进出口总额是多少？"   # or answer questions in the terminal
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
INDEX=${RAG_INDEX:-.rag-index}
rag index seeds/ --index "$INDEX"
if [ "$#" -gt 0 ]; then
  for q in "$@"; do rag ask "$q" --index "$INDEX"; echo; done
else
  export GRADIO_ANALYTICS_ENABLED=False
  exec rag chat --index "$INDEX" --host 127.0.0.1 --port "${PORT:-7860}"
fi
