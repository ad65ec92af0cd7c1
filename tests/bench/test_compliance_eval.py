"""The compliance evaluation set and its metrics: the halves are fixed by the ids (disjoint,
stable), every category is in both, and the numbers are computed from the checker's output."""

from __future__ import annotations

from pathlib import Path

from bench.compliance_eval import (
    Example,
    evaluate,
    half_of,
    load_sentences,
    meets_targets,
    run_compliance_evaluation,
)
from core.compliance import CATEGORIES


def test_the_set_is_large_enough_with_every_category_and_a_third_hard_negatives() -> None:
    examples = load_sentences()
    assert len(examples) >= 300 and len({e.id for e in examples}) == len(examples)
    assert sum(1 for e in examples if not e.expected) >= len(examples) / 3
    for half in ("development", "reporting"):
        covered = {c for e in examples if e.half == half for c in e.expected}
        assert covered == set(CATEGORIES), half
    assert {e.language for e in examples} == {"zh", "en"}


def test_halves_are_disjoint_and_fixed_by_the_id() -> None:
    examples = load_sentences()
    assert all(e.half == half_of(e.id) for e in examples)
    halves = {h: {e.id for e in examples if e.half == h} for h in ("development", "reporting")}
    assert not halves["development"] & halves["reporting"]
    assert min(len(ids) for ids in halves.values()) > len(examples) / 3
    assert half_of("s001") == half_of("s001") == "development"


def test_metrics_count_false_positives_and_misses() -> None:
    examples = [
        Example("a", "zh", "限男性。", frozenset({"sex"}), "reporting"),
        Example("b", "zh", "年龄不限。", frozenset({"age"}), "reporting"),  # a miss
        Example("c", "zh", "负责女装运营。", frozenset(), "reporting"),
        Example("d", "zh", "性别：男。", frozenset(), "reporting"),  # labelled wrongly on purpose
    ]
    result = evaluate(examples)
    sex = next(c for c in result.per_category if c.category == "sex")
    age = next(c for c in result.per_category if c.category == "age")
    assert (sex.support, sex.flagged, sex.correct) == (1, 2, 1)
    assert (age.support, age.flagged, age.recall) == (1, 0, 0.0)
    assert result.negatives == 2 and result.negatives_flagged == 1
    assert not meets_targets(result, 0.5)


def test_reviews_speak_for_their_category_only() -> None:
    reviewed = [
        Example("r1", "zh", "限男性，35岁以下。", frozenset({"sex"}), "reviews", "sex"),
        Example("r2", "zh", "限男性，35岁以下。", frozenset(), "reviews", "age"),
    ]
    result = evaluate(reviewed)
    flagged = {c.category: (c.flagged, c.correct) for c in result.per_category if c.flagged}
    assert flagged == {"sex": (1, 1), "age": (1, 0)}


def test_the_report_meets_the_targets_on_the_reporting_half(tmp_path: Path) -> None:
    output = tmp_path / "compliance.md"
    assert run_compliance_evaluation(output=str(output)) == 0
    report = output.read_text(encoding="utf-8")
    assert "## Reporting half" in report and "## Development half" in report
    assert "Mean time per posting" in report
