#!/usr/bin/env bash
# Set up, index the seed articles, and answer questions about them.
#   bash scripts/run.sh                      # a few example questions
#   bash scripts/run.sh "谅山省2023年进出口总额是多少？"
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
  for q in "When does the smart port open?" "谅山省2023年进出口总额是多少？" "What is the capital of France?"; do
    echo "Q: $q"; rag ask "$q" --index "$INDEX"; echo
  done
fi
