#!/usr/bin/env bash
# Set up, index the seed articles, and serve the chat page on http://127.0.0.1:7860
#   bash scripts/run.sh                                   # the chat page
#   bash scripts/run.sh "谅山省2023年进出口总额是多少？"   # or answer questions in the terminal
# The index is the one plain `rag ask`, `rag chat` and `rag.answer()` use too: $RAG_INDEX, else
# ~/.cache/rag-news-qa/seeds-index ($RAG_HOME/seeds-index).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
rag index seeds/
if [ "$#" -gt 0 ]; then
  for q in "$@"; do rag ask "$q"; echo; done
else
  export GRADIO_ANALYTICS_ENABLED=False
  exec rag chat --host 127.0.0.1 --port "${PORT:-7860}"
fi
