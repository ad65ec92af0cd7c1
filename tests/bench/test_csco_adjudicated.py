"""The adjudicated (gold) CSCO title set: the seeded draw it claims to be, codes that exist,
verdicts that agree with the codes, and an evaluation that scores against both labels."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from bench.title_eval import (
    ADJUDICATED,
    VERDICTS,
    AdjudicatedReport,
    Prediction,
    adjudicated_titles,
    cross_validated_predictions,
    evaluate_adjudicated,
)
from taxonomy.occupations import csco_labelled_titles, csco_occupations


@pytest.fixture(scope="module")
def held_out() -> list[tuple[int, Prediction]]:
    return cross_validated_predictions()


def test_file_is_the_seeded_sample_of_labelled_titles() -> None:
    rows = adjudicated_titles()
    assert len(rows) >= 300
    titles = [r["job_name"] for r in rows]
    assert len(set(titles)) == len(titles), "duplicate titles"
    labelled = csco_labelled_titles()
    # Reproducible: the first rows are random.Random(2026).sample over the labelled titles.
    drawn = random.Random(2026).sample(labelled, len(rows))
    assert [(r["job_name"], r["silver_code"]) for r in rows] == drawn


def test_codes_exist_and_verdicts_agree_with_them() -> None:
    with ADJUDICATED.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter="\t"))
    assert header == ["job_name", "silver_code", "gold_code", "verdict", "note"]
    codes = {o.code for o in csco_occupations()}
    rows = adjudicated_titles()
    for row in rows:
        assert row["silver_code"] in codes and row["gold_code"] in codes, row
        assert row["verdict"] in VERDICTS, row
        assert row["note"].strip(), row
        if row["verdict"] == "right":
            assert row["gold_code"] == row["silver_code"], row
        if row["verdict"] in ("acceptable", "wrong"):
            assert row["gold_code"] != row["silver_code"], row
    # Every verdict is used: a sample of silver labels that were all right would be suspect.
    assert set(Counter(r["verdict"] for r in rows)) == set(VERDICTS)


def test_evaluation_scores_held_out_predictions_against_silver_and_gold(
    held_out: list[tuple[int, Prediction]],
) -> None:
    report = evaluate_adjudicated(held_out)
    assert isinstance(report, AdjudicatedReport)
    rows = adjudicated_titles()
    assert report.against_silver.total == report.against_gold.total == len(rows)
    vague = sum(r["verdict"] == "vague" for r in rows)
    assert report.against_gold_codable.total == len(rows) - vague
    for figures in (report.against_silver, report.against_gold, report.against_gold_codable):
        assert 0.0 < figures.top1 <= figures.top5 <= 1.0
    assert sum(report.verdicts.values()) == pytest.approx(1.0)
    assert report.verdicts["right"] == pytest.approx(
        sum(r["verdict"] == "right" for r in rows) / len(rows)
    )
    # Each title keeps the prediction of the fold coder that did not see it.
    by_title = {p.title: p for _, p in held_out}
    silver_right = sum(by_title[r["job_name"]].codes[:1] == (r["silver_code"],) for r in rows)
    gold_right = sum(by_title[r["job_name"]].codes[:1] == (r["gold_code"],) for r in rows)
    assert report.against_silver.top1 == pytest.approx(silver_right / len(rows))
    assert report.against_gold.top1 == pytest.approx(gold_right / len(rows))


def test_gold_figure_uses_the_gold_code(
    tmp_path: Path, held_out: list[tuple[int, Prediction]]
) -> None:
    # Two adjudicated titles: the coder's held-out top code is gold for one, not for the other.
    first, second = (p for _, p in held_out[:2])
    other = next(o.code for o in csco_occupations() if o.code not in second.codes)
    path = tmp_path / "adjudicated.tsv"
    path.write_text(
        "job_name\tsilver_code\tgold_code\tverdict\tnote\n"
        f"{first.title}\t{first.expected}\t{first.codes[0]}\twrong\tx\n"
        f"{second.title}\t{second.expected}\t{other}\tvague\tx\n",
        encoding="utf-8",
    )
    report = evaluate_adjudicated(held_out, path)
    assert report.against_gold.top1 == 0.5
    assert report.against_gold_codable.total == 1 and report.against_gold_codable.top1 == 1.0
    assert report.verdicts == {"right": 0.0, "acceptable": 0.0, "wrong": 0.5, "vague": 0.5}


def test_a_title_outside_the_labelled_set_is_refused(
    tmp_path: Path, held_out: list[tuple[int, Prediction]]
) -> None:
    path = tmp_path / "adjudicated.tsv"
    path.write_text(
        "job_name\tsilver_code\tgold_code\tverdict\tnote\n"
        "不存在的职位名称\t4-01-02-01\t4-01-02-01\tright\tx\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="not in the labelled set"):
        evaluate_adjudicated(held_out, path)
