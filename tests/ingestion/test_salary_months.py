"""Months paid per year written as a multiplier after the monthly range."""

from __future__ import annotations

import pytest

from ingestion.salary import parse_salary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10k-15k*14", (10000.0, 15000.0, 14)),
        ("10k-15k x 14", (10000.0, 15000.0, 14)),
        ("1.2万*16", (12000.0, 12000.0, 16)),
        ("15-25K·13薪", (15000.0, 25000.0, 13)),
        ("45k-60k RMB/month, 14 months", (45000.0, 60000.0, 14)),
        # Not a months multiplier: the default 12.
        ("8000*2", (8000.0, 8000.0, 12)),
        ("2万-3万", (20000.0, 30000.0, 12)),
    ],
)
def test_months_per_year(text: str, expected: tuple[float, float, int]) -> None:
    salary = parse_salary(text)
    assert salary is not None
    assert (salary.monthly_min, salary.monthly_max, salary.months_per_year) == expected
