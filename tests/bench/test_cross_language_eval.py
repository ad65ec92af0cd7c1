"""The cross-language title evaluation: its hand-graded set, its metrics on hand-computed
rankings, and a small run end to end with the hashing test encoder."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pytest

from bench.cross_language_eval import (
    DIRECTIONS,
    GRADES_PATH,
    MODES,
    Document,
    Query,
    average_precision_at,
    half_of,
    load_grades,
    load_queries,
    measure,
    ndcg_at,
    rankings,
    run_cross_language_evaluation,
)
from core.settings import EmbeddingSettings

HASHING = EmbeddingSettings(provider="hashing")
A, B, C, D, E = (Document(t, "zh") for t in ("会计", "出纳", "财务经理", "主办会计", "审计"))


def test_average_precision_counts_grade_two_over_the_relevant_it_could_find() -> None:
    grades = {A: 2, C: 1, D: 2, E: 2}
    # Grade-2 titles at ranks 1 and 4 of three: (1/1 + 2/4) / 3.
    assert average_precision_at([A, B, C, D], grades) == pytest.approx(0.5)
    assert average_precision_at([B, C], grades) == 0.0
    assert average_precision_at([D, A, E], grades) == pytest.approx(1.0)
    # Beyond the cut-off nothing counts.
    assert average_precision_at([B, A], grades, k=1) == 0.0


def test_ndcg_is_graded_against_the_ideal_order_of_every_graded_title() -> None:
    grades = {A: 2, B: 0, C: 1, D: 2, E: 2}
    dcg = 3 / math.log2(2) + 0 + 1 / math.log2(4) + 3 / math.log2(5)
    ideal = 3 / math.log2(2) + 3 / math.log2(3) + 3 / math.log2(4) + 1 / math.log2(5)
    assert ndcg_at([A, B, C, D], grades) == pytest.approx(dcg / ideal)
    assert ndcg_at([A, D, E, C], grades) == pytest.approx(1.0)
    assert ndcg_at([B], grades) == 0.0


def test_measure_scores_per_half_and_direction_with_unpooled_titles_as_zero() -> None:
    en = Query("accountant", "en")
    zh = Query("会计", "zh")
    accountant, auditor = Document("accountant", "en"), Document("auditor", "en")
    ranked = {(q.text, m): [] for q in (en, zh) for m in MODES}
    ranked[(en.text, "semantic")] = [B, A, C]
    ranked[(zh.text, "semantic")] = [auditor, accountant]
    # D is relevant but pooled by no mode and ungraded: it counts as 0 and is not
    # among the relevant the AP divides by.
    grades = {en.text: {A: 2, B: 0, C: 1}, zh.text: {accountant: 2, auditor: 1}}
    rows = measure([en, zh], ranked, grades)
    en_row = rows[(en.half, "en→zh", "semantic")]
    assert en_row.map20 == [pytest.approx(0.5)]
    assert en_row.pooled == en_row.graded == 3
    zh_row = rows[(zh.half, "zh→en", "semantic")]
    assert zh_row.map20 == [pytest.approx(0.5)]
    assert rows[(en.half, "en→zh", "keyword")].map20 == [0.0]
    # A query with no grade-2 title has no average precision, only nDCG.
    rows = measure([en], ranked, {en.text: {C: 1}})
    assert rows[(en.half, "en→zh", "semantic")].map20 == []
    assert rows[(en.half, "en→zh", "semantic")].ndcg10 == [pytest.approx(1 / math.log2(4))]


def test_the_hand_graded_set_is_complete_and_consistent() -> None:
    queries = load_queries()
    assert Counter(q.language for q in queries) == {"en": 40, "zh": 40}
    assert len({q.text for q in queries}) == 80
    by_text = {q.text: q for q in queries}
    with GRADES_PATH.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    pairs = Counter((r["query"], r["title"], r["language"]) for r in rows)
    assert max(pairs.values()) == 1, "each pooled title is graded once"
    for r in rows:
        assert r["grade"] in {"0", "1", "2"}
        assert r["language"] == by_text[r["query"]].other, "only other-language titles"
        assert bool(r["reason"]) == (r["grade"] == "1"), "a reason for each grade 1"
    grades = load_grades()
    assert sum(len(g) for g in grades.values()) == len(rows)
    # Both halves have queries in both directions; the split is a hash of the text only.
    halves = Counter((q.half, q.direction) for q in queries)
    assert all(halves[(h, d)] >= 10 for h in ("reporting", "tuning") for d in DIRECTIONS)
    assert half_of("会计") == Query("会计", "zh").half == Query("会计", "en").half


def test_only_the_other_languages_hits_are_ranked(tmp_path: Path) -> None:
    docs = [Document("Java开发工程师", "zh"), Document("Java developer", "en"),
            Document("Java架构师", "zh"), Document("会计", "zh"), Document("accountant", "en")]  # fmt: skip
    query = Query("Java developer", "en")
    ranked, model = rankings([query], docs, encoder=HASHING, cache_dir=tmp_path / "cache")
    assert model.startswith("hashing")
    keyword = ranked[(query.text, "keyword")]
    assert Document("Java开发工程师", "zh") in keyword
    assert all(d.language == "zh" for m in MODES for d in ranked[(query.text, m)])


def test_a_small_run_writes_the_report(tmp_path: Path) -> None:
    queries = [Query("Java developer", "en"), Query("会计", "zh"), Query("accountant", "en")]
    docs = [Document("Java开发工程师", "zh"), Document("高级Java开发工程师", "zh"),
            Document("会计", "zh"), Document("accountant", "en"),
            Document("Java developer", "en"), Document("accounting assistant", "en")]  # fmt: skip
    grades = {"Java developer": {Document("Java开发工程师", "zh"): 2},
              "会计": {Document("accountant", "en"): 2,
                       Document("accounting assistant", "en"): 1}}  # fmt: skip
    output = tmp_path / "cross_language.md"
    assert run_cross_language_evaluation(
        output=str(output), encoder=HASHING, queries=queries, docs=docs, grades=grades,
        cache_dir=tmp_path / "cache",
    ) == 0  # fmt: skip
    report = output.read_text(encoding="utf-8")
    assert report.startswith("# Cross-language job-title relevance (hand-graded)")
    for part in ("## Reporting half", "## Tuning half (not the reported numbers)",
                 "one annotator", "pool", "Limits:", "2 English and 1 Chinese queries",
                 "3 English and 3 Chinese title-only postings"):  # fmt: skip
        assert part in report
    header = "| direction | mode | MAP@20 | nDCG@10 | queries | with a grade 2 | with a grade ≥ 1 |"
    assert report.count(header) == 2
    rows = [line.split(" | ") for line in report.splitlines() if line.startswith("| en→zh")
            or line.startswith("| zh→en")]  # fmt: skip
    assert len(rows) == 2 * len(DIRECTIONS) * len(MODES)
    for row in rows:
        assert 0.0 <= float(row[2]) <= 1.0 and 0.0 <= float(row[3]) <= 1.0
    # The keyword mode finds the Java posting across languages (the shared word), and it is
    # the reporting half's only English query: its keyword row scores 1.
    assert [q.half for q in queries] == ["reporting", "reporting", "tuning"]
    reporting = report.split("## Tuning half")[0].splitlines()
    keyword = next(line for line in reporting if line.startswith("| en→zh | keyword |"))
    assert keyword.split(" | ")[2:6] == ["1.000", "1.000", "1", "1"]


def test_the_cli_has_the_suite() -> None:
    from cli.main import build_parser

    assert build_parser().parse_args(["eval", "crosslang"]).suite == "crosslang"
