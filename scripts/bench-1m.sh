#!/usr/bin/env bash
# The scripted million-posting run of issue 18: `talentmatch bench --sizes 1000000` on the
# embedded default, in-process and through a real HTTP server. Not run in CI.
#
# What it takes on the 2-core, 24 GB development machine (measured rates at 10k–300k,
# before the engine and ingest work of issue 18):
#   - embedding 1M generated postings with the default encoder, once (kept in bench/.cache):
#     about 1.5–3 hours depending on what else runs; later runs reuse the vectors;
#   - ingesting them (SQL, outbox, index; near-duplicate grouping per chunk slows down as the
#     corpus grows): about 5 hours;
#   - the measurements themselves (search, match, checkpoint, a server start, HTTP): ~20 min.
#   So plan for 7–9 hours the first time, ~5.5 hours after. It needs the whole machine:
#   other work on it skews every latency.
# Disk: the data directory (database + index + one checkpoint's new files beside the old)
# under $TMPDIR needs ~40 GB; the embedding cache grows by ~4 GB (two 512-d float32 vectors
# per posting). Memory: the benchmark process and the server each hold the index (~7 KB per
# posting today), one after the other; 24 GB is the target machine.
#
# Results: bench/results/bench-1m.md and bench-1m.json (date, machine, encoder, and the data
# labelled as generated), and the run's log in bench/results/bench-1m.log. Commit the .md and
# .json. Usage: scripts/bench-1m.sh [extra talentmatch bench options, e.g. --queries 500]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
WORK_DIR="${TMPDIR:-/tmp}"
NEED_WORK_GB="${NEED_WORK_GB:-40}"
NEED_CACHE_GB="${NEED_CACHE_GB:-5}"
NEED_MEMORY_GB="${NEED_MEMORY_GB:-20}"

free_gb() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }

if [ ! -x "$PYTHON" ]; then
  echo "no Python at $PYTHON: run scripts/setup.sh first (or set PYTHON)" >&2
  exit 1
fi
mkdir -p bench/.cache bench/results
if [ "$(free_gb "$WORK_DIR")" -lt "$NEED_WORK_GB" ]; then
  echo "need ${NEED_WORK_GB} GB free in $WORK_DIR (set TMPDIR elsewhere); $(free_gb "$WORK_DIR") GB free" >&2
  exit 1
fi
if [ "$(free_gb bench/.cache)" -lt "$NEED_CACHE_GB" ]; then
  echo "need ${NEED_CACHE_GB} GB free for the embedding cache in bench/.cache" >&2
  exit 1
fi
memory_gb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
if [ "$memory_gb" -lt "$NEED_MEMORY_GB" ]; then
  echo "need ${NEED_MEMORY_GB} GB of memory; this machine has ${memory_gb} GB" >&2
  exit 1
fi

echo "started $(date -u +%FT%TZ); expect 7-9 hours on a first run (see the top of this script)"
TMPDIR="$WORK_DIR" "$PYTHON" -m cli.main bench --sizes 1000000 \
  --output bench/results/bench-1m.md "$@" 2>&1 | tee bench/results/bench-1m.log
echo "finished $(date -u +%FT%TZ); results in bench/results/bench-1m.md and bench-1m.json"
