#!/usr/bin/env bash
# Creates .venv and installs TalentMatch. "scripts/setup.sh" installs what the service needs;
# "scripts/setup.sh --dev" adds the test and lint tools and sentence-transformers (with the
# CPU build of torch, installed first so pip does not pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON_BIN" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[dev,st]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
