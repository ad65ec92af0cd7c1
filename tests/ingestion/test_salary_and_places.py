"""Salary and location normalization, unit cases and the labelled evaluation sets."""

from __future__ import annotations

import pytest

from bench.normalization_eval import evaluate_locations, evaluate_salaries
from ingestion.salary import parse_salary
from store.normalize import normalize_place_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15-25K·13薪", (15000, 25000, 13)),
        ("1.5万-2万/月", (15000, 20000, 12)),
        ("20-30万/年", (16666.67, 25000, 12)),
        ("200元/天", (4350, 4350, 12)),
        ("$120k–150k/yr", (72000, 90000, 12)),
    ],
)
def test_issue_examples(text: str, expected: tuple[float, float, int]) -> None:
    salary = parse_salary(text)
    assert salary is not None
    assert (salary.monthly_min, salary.monthly_max, salary.months_per_year) == pytest.approx(
        expected
    )


def test_negotiable_and_non_salaries() -> None:
    negotiable = parse_salary("面议")
    assert negotiable is not None and negotiable.negotiable and negotiable.monthly_min is None
    assert parse_salary("3年经验") is None
    assert parse_salary("") is None


def test_exchange_rates_are_a_setting() -> None:
    salary = parse_salary("$10k/month", rates_to_cny={"USD": 7.0})
    assert salary is not None and salary.monthly_min == 70000


def test_places_from_free_text() -> None:
    place = normalize_place_text("广东省深圳市南山区科技园")
    assert (place.city, place.city_code, place.district, place.district_code) == (
        "深圳",
        440300,
        "南山",
        440305,
    )
    assert normalize_place_text("Remote").city_code is None


def test_labelled_sets_meet_their_bar() -> None:
    salaries = evaluate_salaries()
    places = evaluate_locations()
    assert salaries.total >= 100 and places.total >= 100
    assert salaries.accuracy >= 0.95, salaries.failures
    assert places.accuracy >= 0.95, places.failures
