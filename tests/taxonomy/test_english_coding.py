"""English titles code to the right ISCO-08 unit group with calibrated confidences; titles
are cleaned of seniority, place, pay and urgency; postings and candidates carry the code's
name and groups."""

from __future__ import annotations

import pytest

from bench.title_eval import english_predictions, evaluate_titles_cross_validated
from taxonomy.occupations import clean_title, code_title
from tests.conftest import Api


@pytest.mark.parametrize(
    ("title", "code", "wrong_before"),
    [
        ("Machine Learning Engineer", "ISCO-08:2512", "ISCO-08:2424"),
        ("Registered Nurse", "ISCO-08:2221", "ISCO-08:4311"),
        ("Site Reliability Engineer", "ISCO-08:2522", "ISCO-08:2142"),
        ("HR Business Partner", "ISCO-08:2423", "ISCO-08:3434"),
        ("Sr. Backend Engineer (Go)", "ISCO-08:2512", None),
        ("RN - ICU", "ISCO-08:2221", None),
        ("Warehouse Associate", "ISCO-08:9333", None),
    ],
)
def test_english_titles_from_the_issue(title: str, code: str, wrong_before: str | None) -> None:
    match = code_title(title)
    assert match is not None and match.code == code, match
    assert 0 < match.confidence < 1


def test_no_code_is_given_with_certainty() -> None:
    for title in ("会计", "服务员", "Accountant", "Software Engineer", "Registered Nurse"):
        match = code_title(title)
        assert match is not None and match.confidence < 1, (title, match)


@pytest.mark.parametrize(
    ("title", "cleaned"),
    [
        ("高级Java开发工程师（跨境电商）-深圳南山", "Java开发工程师"),
        ("资深会计 月薪8千-1.2万", "会计"),
        ("Sr. Backend Engineer (Go)", "Backend Engineer"),
        ("Cashier - Part Time", "Cashier"),
        ("Forklift Operator - $20/hr", "Forklift Operator"),
    ],
)
def test_titles_are_cleaned_of_seniority_place_pay_and_urgency(title: str, cleaned: str) -> None:
    assert clean_title(title) == cleaned


def test_chinese_titles_held_out_from_the_aliases_code_better() -> None:
    # k-fold over the 5,903 labelled titles: 0.549 top-1 with the earlier coder.
    report = evaluate_titles_cross_validated()
    assert report.total == 5903 and report.top1 >= 0.58


def test_reporting_half_of_hand_labelled_english_titles() -> None:
    predictions = english_predictions("reporting")
    assert len(predictions) >= 50
    accuracy = sum(p.right for p in predictions) / len(predictions)
    assert accuracy >= 0.85


@pytest.mark.anyio
async def test_postings_and_candidates_carry_the_occupation_name_and_groups(api: Api) -> None:
    job = await api.create_job(
        "acme", title="Registered Nurse - ICU", description="Care for patients."
    )
    assert job["occupation_code"] == "ISCO-08:2221"
    assert job["occupation_name"] and job["occupation_name_language"] == "en"
    levels = [(g["level"], g["code"]) for g in job["occupation_hierarchy"]]
    assert levels == [("major", "ISCO-08:2"), ("middle", "ISCO-08:22"), ("minor", "ISCO-08:222"),
                      ("unit", "ISCO-08:2221")]  # fmt: skip
    assert job["occupation_hierarchy"][1]["name"] == "Health professionals"
    chinese = await api.create_job("acme", title="高级Java开发工程师（跨境电商）")
    assert chinese["occupation_code"] == "2-02-10-03"
    assert chinese["occupation_name"] == "计算机软件工程技术人员"
    assert [g["name"] for g in chinese["occupation_hierarchy"]][:2] == [
        "专业技术人员",
        "工程技术人员",
    ]
    # Asked in English: CSCO has no English names below its major groups, and says so.
    in_english = await api.client.get(
        f"/v1/jobs/{chinese['id']}",
        headers={**api.auth("acme"), "Accept-Language": "en-US,en;q=0.9"},
    )
    body = in_english.json()
    assert body["occupation_hierarchy"][0]["name"] == "Professional and technical personnel"
    assert body["occupation_hierarchy"][0]["language"] == "en"
    assert (body["occupation_name"], body["occupation_name_language"]) == (
        "计算机软件工程技术人员",
        "zh",
    )
    person = await api.create_candidate("acme", desired_titles=["Site Reliability Engineer"])
    assert person["occupation_code"] == "ISCO-08:2522"
    assert person["occupation_hierarchy"][-1]["code"] == "ISCO-08:2522"
    assert person["occupation_name"]
