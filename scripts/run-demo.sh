#!/usr/bin/env bash
# One command from a fresh checkout to a running service on the embedded default
# (SQLite + tantivy + HNSW under ./data) with bilingual sample data and a printed API key.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/talentmatch serve --demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
