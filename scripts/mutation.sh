#!/usr/bin/env bash
# Mutation testing (mutmut) of the modules whose tests must be able to fail: scoring,
# fairness, the ranker, privacy and outbox sync. Not part of CI's default run: a module
# takes minutes to an hour on two cores.
#
#   scripts/mutation.sh fairness            # one module (scoring, fairness, ranker, privacy, sync)
#   scripts/mutation.sh fairness privacy    # several, one after the other
#   MUTANTS='search_index.sync.xǁIndexSyncǁdrain*' scripts/mutation.sh sync   # part of one
#   scripts/mutation.sh sync-builders ranker-fit   # parts of a file with their own fast tests
#
# Each module runs in a scratch copy of the working tree whose [tool.mutmut] names that
# module and the tests that cover it (mutmut reads one configuration per project), so runs
# of different modules neither share nor overwrite state. Results: mutants/<module>.txt
# (every mutant and its status), mutants/<module>-survived.diff (each survivor's diff) and
# mutants/<module>.log (mutmut's own output).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python
MUTMUT=${MUTMUT:-$(dirname "$PYTHON")/mutmut}
[ -x "$MUTMUT" ] || MUTMUT=mutmut

# module → files to mutate; test files that cover them; a pytest -k selection of those
# (fast tests only where the slow ones add no line: the counterfactual and English-age API
# tests of fairness)
declare -A FILES=(
  [scoring]="matching/scoring.py"
  [fairness]="representation/fairness.py"
  [ranker]="matching/ranker.py"
  [privacy]="store/privacy.py store/pii.py"
  [sync]="search_index/sync.py"
  [sync-builders]="search_index/sync.py"
  [ranker-fit]="matching/ranker.py"
)
declare -A TESTS=(
  [scoring]="tests/matching/test_scoring.py tests/matching/test_scoring_mutants.py"
  [fairness]="tests/representation/test_fairness.py tests/representation/test_neutralize_brackets.py tests/representation/test_english_age.py tests/core/test_contacts.py"
  [ranker]="tests/matching/test_scoring.py tests/matching/test_ranker_mutants.py tests/search_index/test_rerank.py"
  [privacy]="tests/store/test_pii_masking.py tests/api/test_privacy.py tests/core/test_contacts.py"
  [sync-builders]="tests/search_index/test_sync_builder_mutants.py"
  [ranker-fit]="tests/matching/test_ranker_fit_mutants.py"
  [sync]="tests/search_index/test_outbox_recovery.py tests/processes/test_outbox_claims.py tests/search_index/test_consistency_marker.py tests/search_index/test_rebuild_behind_alias.py tests/search_index/test_startup_messages.py tests/processes/test_worker_heartbeat.py tests/search_index/test_sync_mutants.py"
)

# Parts of a file run against their own fast tests (MUTANTS, when given, still decides):
# the document builders of the sync module; the fitting and evaluation of the ranker, with
# the helpers only fitting calls (the order of graded pairs, weights, penalty, calibration).
declare -A ONLY=(
  [sync-builders]="search_index.sync.x__documents* search_index.sync.x_job_documents* search_index.sync.x_candidate_documents*"
  [ranker-fit]="matching.ranker.x_fit_model* matching.ranker.x__fit_one* matching.ranker.xǁ_Designǁ* matching.ranker.x_evaluate_model* matching.ranker.x_per_query_precisions* matching.ranker.x__ordered_pairs* matching.ranker.x__weights_of* matching.ranker.x__penalty_of* matching.ranker.x__calibration*"
)

declare -A SELECT=(
  [fairness]="not swapping and not test_a_candidate_search_for_the_age and not test_blind_mode_hides_a_bare_english_age"
  [sync]="not test_kill_"
)

[ $# -gt 0 ] || { echo "usage: $0 {scoring|fairness|ranker|privacy|sync|sync-builders|ranker-fit}..." >&2; exit 2; }
mkdir -p "$ROOT/mutants"
for module in "$@"; do
  [ -n "${FILES[$module]:-}" ] || { echo "unknown module: $module" >&2; exit 2; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The tracked and new files of the working tree, without build output or data dirs.
  git ls-files -co --exclude-standard -z | grep -zv '^mutants/' | xargs -0 cp --parents -t "$work"
  "$PYTHON" - "$work/pyproject.toml" "${FILES[$module]}" "${TESTS[$module]}" "${SELECT[$module]:-}" <<'PY'
import re, sys
path, files, tests, select = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4]
text = open(path).read()
tests += ["-k", select] if select else []
packages = ["api", "bench", "cli", "core", "ingestion", "matching", "representation",
            "search_index", "store", "taxonomy", "widget"]
block = (
    "[tool.mutmut]\n"
    f"source_paths = {packages!r}\n"
    f"only_mutate = {files!r}\n"
    f"pytest_add_cli_args_test_selection = {tests!r}\n"
    "pytest_add_cli_args = ['-p', 'no:cacheprovider', '-x', '-q']\n"
    "mutate_only_covered_lines = true\n"
    "use_git_change_detection = false\n"
).replace('"', "'")
text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text) + "\n" + block
open(path, "w").write(text)
PY
  echo "== $module: ${FILES[$module]} against ${TESTS[$module]}"
  # Mutation runs test the embedded SQLite shape only: a PostgreSQL run doubles the time
  # and exercises no extra line of these modules.
  (cd "$work" && env -u TALENTMATCH_TEST_POSTGRES_URL -u TALENTMATCH_TEST_REDIS_URL \
      PATH="$(dirname "$PYTHON"):$PATH" "$MUTMUT" run --max-children "${JOBS:-2}" ${MUTANTS:-${ONLY[$module]:-}} > "$ROOT/mutants/$module.log" 2>&1 || true)
  (cd "$work" && "$MUTMUT" results --all true > "$ROOT/mutants/$module.txt" 2>&1 || true)
  : > "$ROOT/mutants/$module-survived.diff"
  for name in $(grep -E ': survived$' "$ROOT/mutants/$module.txt" | sed 's/: survived$//' | tr -d ' '); do
    (cd "$work" && "$MUTMUT" show "$name" >> "$ROOT/mutants/$module-survived.diff" 2>&1 || true)
  done
  killed=$(grep -c ': killed$' "$ROOT/mutants/$module.txt" || true)
  survived=$(grep -c ': survived$' "$ROOT/mutants/$module.txt" || true)
  echo "   killed $killed, survived $survived (mutants/$module.txt)"
  rm -rf "$work"
  trap - EXIT
done
