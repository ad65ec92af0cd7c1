"""A junior for a senior role (under 60% of the years asked) is a hard mismatch, as another
city for an on-site post or a pay floor above the range is: it is flagged, explained first,
and costs a strong candidate a visible share of the score; a little short of the years is not."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.api.test_calibrated_scores import FOSHAN_QUALITY_JOB, quality_engineer, scores_for
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every profile retrieved (no semantic floor): the score alone must rate them."""
    search = settings.search.model_copy(update={"semantic_floor": -1.0})
    return settings.model_copy(update={"search": search})


SENIOR_JOB = FOSHAN_QUALITY_JOB | {"title": "高级质量工程师", "min_years_experience": 5}


async def test_a_junior_for_a_senior_role_is_flagged_and_costs_at_least_015(api: Api) -> None:
    job = await api.create_job("acme", **SENIOR_JOB)
    senior = await api.create_candidate("acme", **quality_engineer(years_experience=6))
    junior = await api.create_candidate(
        "acme",
        **quality_engineer(name="彭小伟", years_experience=1, summary="一年注塑行业质量经验。"),
    )
    nearly = await api.create_candidate(  # 4 of 5 years: short, not junior
        "acme",
        **quality_engineer(name="彭大伟", years_experience=4, summary="四年注塑行业质量经验。"),
    )
    matches = await scores_for(api, job["id"])
    assert matches[junior["id"]]["hard_mismatches"] == ["experience"]
    assert matches[nearly["id"]]["hard_mismatches"] == []
    assert matches[senior["id"]]["hard_mismatches"] == []
    assert matches[senior["id"]]["score"] >= 0.5
    assert matches[senior["id"]]["score"] - matches[junior["id"]]["score"] >= 0.15
    assert matches[nearly["id"]]["score"] > matches[junior["id"]]["score"]


async def test_the_junior_mismatch_is_the_first_reason(api: Api) -> None:
    job = await api.create_job("acme", **SENIOR_JOB)
    junior = await api.create_candidate("acme", **quality_engineer(years_experience=1))
    response = await api.client.get(
        f"/v1/jobs/{job['id']}/matches", params={"limit": 10},
        headers=api.auth("acme") | {"Accept-Language": "en"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    (match,) = [m for m in response.json()["matches"] if m["id"] == junior["id"]]
    assert match["reasons"][0] == "Only 1 years of experience; 5 required"
