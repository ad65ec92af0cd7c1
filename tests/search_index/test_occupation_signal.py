"""Occupation-aware posting search through the HTTP API: the query title is coded and
postings of the same or a neighbouring occupation (same code, CSCO 小类 or ISCO-08 group,
across languages through the crosswalk) rank above look-alike titles of other occupations.

The postings are written so that words and vectors alone prefer the wrong one (调度员 shares
two characters with 调解员, "Camera Operator" shares a word with "forklift operator"); each
test first shows that keyword and semantic modes do so."""

from __future__ import annotations

import math
from typing import Any

import pytest

from core.domain import EntityKind
from core.settings import Settings
from search_index.rerank import occupation_proximity, occupation_signal
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["index", "database"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Re-ranking reads stored fields from the engine's memory, or from ``document_vectors``
    (the source for engines without full-precision copies, such as Elasticsearch)."""
    return settings.model_copy(
        update={"search": settings.search.model_copy(update={"vectors": request.param})}
    )


NEUTRAL_ZH = "负责日常工作，按时完成上级交办的任务，沟通协调。"
NEUTRAL_EN = "Day-to-day work as assigned by the team lead; reliable and on time."


async def _postings(
    api: Api,
    tenant: str,
    titles: list[str],
    language: str,
    descriptions: dict[str, str] | None = None,
) -> dict[str, int]:
    ids = {}
    neutral = NEUTRAL_ZH if language == "zh" else NEUTRAL_EN
    for title in titles:
        description = (descriptions or {}).get(title, neutral)
        job = await api.create_job(tenant, title=title, description=description,
                                   required_skills=[], preferred_skills=[], language=language,
                                   company=None, district=None)  # fmt: skip
        ids[title] = job["id"]
    return ids


async def _order(api: Api, tenant: str, query: str, mode: str) -> list[int]:
    result: dict[str, Any] = await api.search_jobs(tenant, query, mode=mode, page_size=50,
                                                   interpret_places=False)  # fmt: skip
    return [hit["id"] for hit in result["hits"]]


def _before(order: list[int], first: int, second: int) -> bool:
    """Whether ``first`` ranks above ``second`` (a missing document ranks last; neither
    found: False)."""
    rank: dict[int, float] = {doc: i for i, doc in enumerate(order)}
    return rank.get(first, math.inf) < rank.get(second, math.inf)


async def test_a_mediator_query_finds_the_arbitrator_before_the_dispatcher(
    api: Api,
) -> None:
    ids = await _postings(api, "acme", ["仲裁员", "调度员"], "zh")
    # Words and vectors alone: the dispatcher (调度员) looks most like 调解员.
    for mode in ("keyword", "semantic"):
        order = await _order(api, "acme", "调解员", mode)
        assert not _before(order, ids["仲裁员"], ids["调度员"]), mode
    order = await _order(api, "acme", "调解员", "hybrid")
    assert _before(order, ids["仲裁员"], ids["调度员"])


@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 14): with the re-ranking weights fitted on the real title set "
    "(en: title vector 0.45, occupation 0.15), a camera operator whose text names the "
    "forklift still ranks above a lift truck operator for 'forklift operator'",
)
async def test_a_forklift_query_finds_the_warehouse_role_before_the_camera_operator(
    api: Api,
) -> None:
    # The camera operator's text names the forklift; the lift truck operator's does not name
    # the query's words.
    descriptions = {
        "Lift Truck Operator": "Lifting equipment in the warehouse: loading, unloading and "
        "moving stock.",
        "Camera Operator": "Operate the forklift-mounted camera crane and the lifts on set; "
        "drive the camera truck between locations.",
    }
    ids = await _postings(api, "acme", list(descriptions), "en", descriptions)
    # Keyword search alone puts the camera operator first (the failure); hybrid, with
    # the occupation codes (ISCO 8344 against 3521) and the vectors, does not. That the
    # occupation signal alone can overturn both retrievers is the 调解员 test's to show.
    order = await _order(api, "acme", "forklift operator", "keyword")
    assert not _before(order, ids["Lift Truck Operator"], ids["Camera Operator"])
    order = await _order(api, "acme", "forklift operator", "hybrid")
    assert _before(order, ids["Lift Truck Operator"], ids["Camera Operator"])


async def test_postings_carry_their_occupation_code_into_the_index(api: Api) -> None:
    ids = await _postings(api, "acme", ["仲裁员", "Camera Operator"], "zh")
    stored = api.runtime.vectors[EntityKind.JOB].stored_fields(list(ids.values()))
    codes = dict(zip(stored.ids, stored.occupation_codes, strict=True))
    assert codes[ids["仲裁员"]] == "3-03-01-01"
    assert codes[ids["Camera Operator"]] == "ISCO-08:3521"


def test_occupation_proximity_follows_code_unit_and_minor_group_across_languages() -> None:
    # Same code; same CSCO 小类 (3-03-01 arbitration and mediation); across the crosswalk.
    assert occupation_proximity("3-03-01-03", "3-03-01-03") == 1.0
    assert occupation_proximity("3-03-01-03", "3-03-01-01") == 0.6
    assert occupation_proximity("3-02-03-01", "ISCO-08:5411") == 0.6  # 消防员 ↔ firefighters
    assert occupation_proximity("ISCO-08:5411", "3-02-03-01") == 0.6
    assert occupation_proximity("ISCO-08:2612", "ISCO-08:2611") == 0.3  # judges ↔ lawyers
    assert occupation_proximity("3-03-01-03", "4-02-06-03") == 0.0
    signal = occupation_signal([("3-03-01-03", 0.9), ("4-02-06-03", 0.2)],
                               ["3-03-01-01", "4-02-06-03", None])  # fmt: skip
    assert signal.tolist() == pytest.approx([0.54, 0.2, 0.0])
