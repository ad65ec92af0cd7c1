"""The candidate search evaluation: its hand-written set (size, shape, labels, a split by
category that is disjoint and stable), its baseline, and a small run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench.candidate_search_eval import (
    DATA_DIR,
    SYSTEM_ORDER,
    PlainBM25,
    RecruiterQuery,
    Resume,
    fit_shipped_weights,
    grade,
    half_of,
    load_candidate_set,
    parse_resumes,
    plain_terms,
    run_candidate_search_evaluation,
)
from core.settings import EmbeddingSettings
from search_index.candidate_rerank import (
    SIGNALS,
    CandidateExample,
    average_precision_of,
    fit_candidate_reranker,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_set_is_large_bilingual_and_every_resume_has_a_known_category() -> None:
    candidate_set = load_candidate_set()
    categories = Counter(r.category for r in candidate_set.resumes)
    assert len(categories) >= 20 and min(categories.values()) >= 6
    assert len(candidate_set.resumes) >= 120
    assert len({r.id for r in candidate_set.resumes}) == len(candidate_set.resumes)
    languages = Counter(r.language for r in candidate_set.resumes)
    assert languages["zh"] >= len(candidate_set.resumes) // 4 and languages["en"] > 0
    for resume in candidate_set.resumes:
        assert 8 <= len(resume.text.splitlines()) <= 25, resume.id
        assert resume.secondary is None or resume.secondary in categories, resume.id
    queries = Counter(q.category for q in candidate_set.queries)
    assert set(queries) == set(categories) and min(queries.values()) >= 2
    # Every category is asked in both languages.
    asked = {(q.category, q.language) for q in candidate_set.queries}
    assert asked == {(c, language) for c in categories for language in ("en", "zh")}


def test_the_split_is_disjoint_by_category_and_stable() -> None:
    candidate_set = load_candidate_set()
    halves: dict[str, set[str]] = {"reporting": set(), "tuning": set()}
    for query in candidate_set.queries:
        assert query.half == half_of(query.category)
        halves[query.half].add(query.category)
    assert halves["reporting"] and halves["tuning"]
    assert not halves["reporting"] & halves["tuning"]
    assert load_candidate_set() == candidate_set
    # Another process (another string-hash seed) splits the same way.
    categories = sorted(halves["reporting"] | halves["tuning"])
    script = (
        "import sys; from bench.candidate_search_eval import half_of; "
        "print(' '.join(half_of(c) for c in sys.argv[1:]))"
    )
    other = subprocess.run([sys.executable, "-c", script, *categories], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    assert other == [half_of(c) for c in categories]


def test_resumes_are_read_under_their_headers_with_secondary_categories() -> None:
    text = "### a-1\nLine one\nLine two\n\n### a-2 secondary=b\nOther\n"
    assert parse_resumes("a", text) == [
        Resume("a-1", "a", None, "Line one\nLine two"),
        Resume("a-2", "a", "b", "Other"),
    ]
    query = RecruiterQuery("B people", "en", "b", "tuning")
    assert [grade(query, r) for r in parse_resumes("a", text)] == [0, 1]
    assert grade(query, Resume("b-1", "b", None, "x")) == 2
    assert (DATA_DIR / "queries.tsv").exists()


def test_the_plain_baseline_matches_words_and_chinese_bigrams() -> None:
    assert plain_terms("DevOps Engineer, 运维工程师") == [
        "devops", "engineer", "运维", "维工", "工程", "程师",
    ]  # fmt: skip
    index = PlainBM25(["Civil engineer, engineer of record", "DevOps engineer", "高级运维工程师"])
    assert index.rank("DevOps Engineer")[0] == 1
    assert index.rank("运维工程师") == [2]


def test_fitting_chooses_the_signal_that_orders_the_relevant_first() -> None:
    rng = np.random.default_rng(0)
    examples = []
    for _ in range(6):
        relevant = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
        signals = rng.uniform(0.2, 0.4, size=(6, len(SIGNALS)))
        signals[:, 0] = 0.3 + 0.2 * relevant  # the best section separates them
        signals[:, 3] = rng.uniform(0, 1, size=6)  # BM25 is noise here
        examples.append(CandidateExample(signals, relevant, 2, np.zeros(6, dtype=bool)))
    reranker = fit_candidate_reranker(examples, version="test", step=0.25)
    weights = reranker.weights["same"]
    assert weights.section > 0 and reranker.provenance["map@50 shared weights"] == 1.0
    for e in examples:
        assert average_precision_of(e.signals @ weights.vector(), e) == 1.0
    keyword_only = [average_precision_of(e.signals[:, 3], e) for e in examples]
    assert np.mean(keyword_only) < 1.0


def test_a_small_run_writes_both_halves_for_every_system(tmp_path: Path) -> None:
    output = tmp_path / "candidate_search.md"
    assert run_candidate_search_evaluation(
        output=str(output), encoder=EmbeddingSettings(provider="hashing")
    ) == 0  # fmt: skip
    text = output.read_text(encoding="utf-8")
    reporting, tuning = text.split("## Reporting half")[1].split("## Tuning half")
    assert "search_candidates" in text and "in-process" in text
    for section in (reporting, tuning):
        rows = [line.split("|")[1:-1] for line in section.splitlines()
                if line.startswith("| all") or line.startswith("| en")]  # fmt: skip
        assert {c[1].strip() for c in rows} == set(SYSTEM_ORDER)
        for cells in rows:
            assert 0.0 <= float(cells[2]) <= 1.0 and 0.0 <= float(cells[3]) <= 1.0
        # Category names are in the résumés: keyword search finds many of them.
        keyword = [float(c[2]) for c in rows if c[1].strip() == "keyword"]
        assert all(value > 0.2 for value in keyword)


def test_fitting_on_the_set_sees_the_tuning_half_only(tmp_path: Path) -> None:
    candidate_set = load_candidate_set()
    path = tmp_path / "candidate_reranker.json"
    # A coarse grid: what is checked is which queries the fit sees, not the weights found.
    fit_shipped_weights(
        candidate_set, encoder=EmbeddingSettings(provider="hashing"), path=path, step=0.25
    )
    fitted = json.loads(path.read_text(encoding="utf-8"))
    tuning = {q.category for q in candidate_set.queries if q.half == "tuning"}
    assert set(fitted["provenance"]["categories"].split(", ")) == tuning
    assert fitted["provenance"]["queries"] == sum(q.half == "tuning" for q in candidate_set.queries)
    assert set(fitted["weights"]) == {"same", "cross", "default"}
    assert fitted["semantic_floor"] in (0.0, 0.05, 0.1, 0.15, 0.2)
    for weights in fitted["weights"].values():
        assert sum(weights.values()) == pytest.approx(1.0)
