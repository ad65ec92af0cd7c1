"""Accuracy of salary and location normalization on labelled strings
(``bench/data/salary_cases.tsv``, ``bench/data/location_cases.tsv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ingestion.salary import parse_salary
from store.normalize import normalize_place_text

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Outcome:
    total: int
    correct: int
    failures: list[str]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _number(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= max(1.0, 0.001 * abs(b))


def evaluate_salaries(path: Path = DATA / "salary_cases.tsv") -> Outcome:
    failures = []
    rows = _rows(path)
    for row in rows:
        parsed = parse_salary(row["text"])
        expected = (
            _number(row["monthly_min"]),
            _number(row["monthly_max"]),
            int(row["months_per_year"]),
            row["negotiable"] == "1",
        )
        got = (
            (parsed.monthly_min, parsed.monthly_max, parsed.months_per_year, parsed.negotiable)
            if parsed
            else None
        )
        if got is None or not (
            _close(got[0], expected[0]) and _close(got[1], expected[1]) and got[2:] == expected[2:]
        ):
            failures.append(f"{row['text']!r}: expected {expected}, got {got}")
    return Outcome(len(rows), len(rows) - len(failures), failures)


def evaluate_locations(path: Path = DATA / "location_cases.tsv") -> Outcome:
    failures = []
    rows = _rows(path)
    for row in rows:
        place = normalize_place_text(row["text"])
        expected = (_code(row["city_code"]), _code(row["district_code"]))
        got = (place.city_code, place.district_code)
        if got != expected:
            failures.append(f"{row['text']!r}: expected {expected}, got {got}")
    return Outcome(len(rows), len(rows) - len(failures), failures)


def _code(cell: str) -> int | None:
    return int(cell) if cell.strip() else None
