#!/usr/bin/env bash
# One command from a fresh checkout to the whole check: install, lint, type-check, start a
# throwaway PostgreSQL, run the test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
if PGURL="$(scripts/test-postgres.sh start)"; then
  export TALENTMATCH_TEST_POSTGRES_URL="$PGURL"
  trap 'scripts/test-postgres.sh stop' EXIT
else
  echo "warning: no PostgreSQL server could be started; PostgreSQL tests are skipped" >&2
fi
.venv/bin/python -m pytest "$@"
