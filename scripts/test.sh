#!/usr/bin/env bash
# One command from a fresh checkout to the whole check: install, lint, type-check, start a
# throwaway PostgreSQL and Redis, run the test suite on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
stops=()
trap 'for stop in "${stops[@]}"; do $stop; done' EXIT
if PGURL="$(scripts/test-postgres.sh start)"; then
  export TALENTMATCH_TEST_POSTGRES_URL="$PGURL"
  stops+=("scripts/test-postgres.sh stop")
else
  echo "warning: no PostgreSQL server could be started; PostgreSQL tests are skipped" >&2
fi
# Rate limits shared by several API processes are tested against a real Redis.
if REDISURL="$(scripts/test-redis.sh start)"; then
  export TALENTMATCH_TEST_REDIS_URL="$REDISURL"
  stops+=("scripts/test-redis.sh stop")
elif [ "${TALENTMATCH_REQUIRE_REDIS:-}" = 1 ]; then
  echo "error: no Redis server could be started (TALENTMATCH_REQUIRE_REDIS=1)" >&2
  exit 1
else
  echo "warning: no Redis server could be started; shared rate limit tests are skipped" >&2
fi
# Two workers by default (CI has two cores; most tests wait on servers, files or subprocesses
# as much as on the CPU), whole files per worker so a file's module fixtures are built once;
# TALENTMATCH_TEST_WORKERS=0 runs in one process, and arguments given here override both.
.venv/bin/python -m pytest -n "${TALENTMATCH_TEST_WORKERS:-2}" --dist loadfile --durations=30 "$@"
