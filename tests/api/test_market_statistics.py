"""Labour-market statistics through the API: demand (open positions) against active job
seekers, 求人倍率 and its changes, the shortage ranking, wage bands, the plan's indicators,
small cells suppressed, operator scope only, CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

TITLE = "Java开发工程师"
OTHER = "会计"
CONSENT = {"purpose": "job matching", "granted_at": "2026-11-20T10:00:00Z", "text_version": "v3"}


class Market:
    """An operator key and helpers that post through agencies' keys."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.admin = {"Authorization": f"Bearer {api.new_key('operator', 'admin')}"}

    async def posting(self, agency: str, **fields: Any) -> dict[str, Any]:
        return await self.api.create_job(agency, **fields)

    async def seeker(self, agency: str, title: str) -> dict[str, Any]:
        return await self.api.create_candidate(agency, desired_titles=[title])

    async def stats(self, path: str, language: str = "zh", **params: Any) -> Any:
        response = await self.api.client.get(
            f"/v1/stats/{path}", params=params, headers={**self.admin, "Accept-Language": language}
        )
        assert response.status_code == 200, response.text
        return response.json() if params.get("format") != "csv" else response


async def _fill(market: Market) -> str:
    """Q4: six Java postings (headcount 1–6 = 21) from three employers and five Java
    seekers; Q3: five Java postings of headcount 2 (= 10), closed before Q4. Returns the
    Java occupation code."""
    code = None
    for i in range(6):
        job = await market.posting(
            f"agency{i % 3}", title=TITLE, company=f"公司{i % 3}", headcount=i + 1,
            posted_at="2026-10-05T09:00:00Z", valid_through="2026-12-20T00:00:00Z",
            salary_min=10000 + 2000 * i, salary_max=20000 + 2000 * i,
        )  # fmt: skip
        code = job["occupation_code"]
        assert job["headcount"] == i + 1
    for i in range(5):
        await market.posting(
            f"agency{i % 3}", title=TITLE, company=f"公司{i % 3}", headcount=2,
            posted_at="2026-07-10T09:00:00Z", valid_through="2026-08-30T00:00:00Z",
        )  # fmt: skip
    for _ in range(5):
        await market.seeker("agency0", TITLE)
    assert code
    return code


async def test_demand_seekers_ratio_and_changes(api: Api) -> None:
    market = Market(api)
    code = await _fill(market)
    # Another occupation with two postings only: too small to show.
    for i in range(2):
        await market.posting("agency0", title=OTHER, company=f"事务所{i}",
                             posted_at="2026-10-06T09:00:00Z")  # fmt: skip
    other_code = (await api.search_jobs("agency0", OTHER, mode="keyword"))["hits"][0]["job"][
        "occupation_code"
    ]
    body = await market.stats("market", by="occupation", period="2026-Q4")
    assert body["period"] == "2026-Q4" and body["previous_period"] == "2026-Q3"
    assert body["year_ago"] == "2025-Q4"
    rows = {row["key"]: row for row in body["rows"]}
    java = rows[code]
    assert java["demand"] == 21 and java["seekers"] == 5 and java["ratio"] == 4.2
    assert java["demand_change"]["previous_period"] == 21 - 10
    assert java["demand_change"]["year_ago"] is None  # nothing a year ago: not a change of 21
    assert java["label"] and java["label"] != code
    small = rows[other_code]
    assert small["demand"] is None and small["demand_suppressed"] is True
    assert small["ratio"] is None
    # Q3 alone: only its own postings (the Q4 ones were not yet posted).
    q3 = {row["key"]: row for row in (await market.stats("market", by="occupation",
                                                          period="2026-Q3"))["rows"]}  # fmt: skip
    assert q3[code]["demand"] == 10
    # The same code's major group carries the same figures plus nothing else of its group.
    major = code.split("-")[0] + "-00-00-00"
    groups = await market.stats("market", by="occupation_group", level="major", period="2026-Q4")
    grouped = {row["key"]: row for row in groups["rows"]}
    assert grouped[major]["demand"] >= 21 and grouped[major]["label"] != major
    assert body["totals"]["demand"] == 23 and body["totals"]["seekers"] == 5
    assert body["trend_periods"][-1] == "2026-Q4" and len(body["trend_periods"]) == 6


async def test_a_month_and_a_city(api: Api) -> None:
    market = Market(api)
    code = await _fill(market)
    october = {r["key"]: r for r in (await market.stats("market", by="occupation",
                                                         period="2026-10"))["rows"]}  # fmt: skip
    assert october[code]["demand"] == 21
    beijing = await market.stats("market", by="occupation", period="2026-Q4", city="北京")
    assert all(row["key"] != code or row["demand"] is None for row in beijing["rows"])
    shenzhen = await market.stats("market", by="occupation", period="2026-Q4", city="深圳")
    assert {r["key"]: r for r in shenzhen["rows"]}[code]["demand"] == 21


async def test_wage_bands_are_the_percentiles_of_posted_pay(api: Api) -> None:
    market = Market(api)
    code = await _fill(market)
    body = await market.stats("wages", by="occupation", period="2026-Q4")
    row = {r["key"]: r for r in body["rows"]}[code]
    midpoints = [(10000 + 2000 * i + 20000 + 2000 * i) / 2 for i in range(6)]
    assert row["postings"] == 6
    values = np.array(midpoints)
    for name, share in (("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9)):
        # A quantile as the bureaus define it ("P90: the value 90% do not exceed"), exact to
        # the 500-CNY bin the statistics count in.
        assert np.mean(values <= row[name] + 500) >= share, (name, row)
        assert np.mean(values < row[name] - 500) <= share, (name, row)
    assert row["p10"] < row["p25"] < row["p50"] < row["p75"] < row["p90"]


async def test_thirteen_months_raise_the_monthly_pay(api: Api) -> None:
    market = Market(api)
    for i in range(5):
        await market.posting(f"agency{i % 3}", title="销售经理", company=f"商贸{i % 3}",
                             salary_min=12000, salary_max=12000, salary_months=13,
                             posted_at="2026-10-05T09:00:00Z")  # fmt: skip
    row = (await market.stats("wages", by="occupation", period="2026-Q4"))["rows"][0]
    assert 12000 * 13 / 12 - 500 <= row["p50"] <= 12000 * 13 / 12 + 500


async def test_shortage_ranking_by_gap_with_the_previous_rank(api: Api) -> None:
    market = Market(api)
    code = await _fill(market)
    body = await market.stats("shortage", period="2026-Q4")
    assert body["rows"][0]["key"] == code
    top = body["rows"][0]
    assert top["rank"] == 1 and top["gap"] == 21 - 5
    assert top["previous_rank"] is None  # no seekers were active in Q3: not ranked then


async def test_indicators_count_seeker_services_placements_and_postings(api: Api) -> None:
    market = Market(api)
    job = await market.posting("agency0", title=TITLE, company="甲公司")
    partner = {"Authorization": f"Bearer {api.new_key('jobapp', 'partner')}"}
    for _ in range(3):
        response = await api.client.post("/v1/search/jobs", json={"query": "Java"},
                                         headers=partner)  # fmt: skip
        assert response.status_code == 200
    await api.search_jobs("agency0", "Java")  # an agency's search is no job-seeker service
    seeker = await api.client.post(
        "/v1/candidates",
        json={"name": "李四", "desired_titles": [TITLE], "consent": CONSENT},
        headers=partner,
    )
    assert seeker.status_code == 201, seeker.text
    recommended = await api.client.get(f"/v1/candidates/{seeker.json()['id']}/matches",
                                       headers=partner)  # fmt: skip
    assert recommended.status_code == 200
    candidate = await api.create_candidate("agency0")
    hired = await api.post("/v1/feedback", "agency0", {"job_id": job["id"],
                           "candidate_id": candidate["id"], "action": "hired"})  # fmt: skip
    assert hired.status_code in (200, 201), hired.text
    body = await market.stats("indicators", year=2026)
    rows = {row["key"]: row for row in body["rows"]}
    assert body["job_seeker_services_by_kind"]["search"] == 3
    assert body["job_seeker_services_by_kind"]["recommendation"] == 1
    assert rows["job_seeker_services"]["value"] == 4
    assert rows["placements"]["value"] == 1
    assert rows["postings_published"]["value"] == 1
    assert rows["employers_served"]["value"] == 1
    target = rows["postings_published"]["target_year"]
    assert rows["postings_published"]["target_to_date"] == round(
        target * body["days_elapsed"] / body["days_in_year"]
    )
    english = await market.stats("indicators", language="en", year=2026)
    assert {r["key"]: r["label"] for r in english["rows"]}["placements"] == "placements"


async def test_only_the_operator_reads_statistics(api: Api) -> None:
    for path in ("market", "shortage", "wages", "indicators"):
        response = await api.get(f"/v1/stats/{path}", "agency0")
        assert response.status_code == 403, response.text
        assert (await api.client.get(f"/v1/stats/{path}")).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("market", {"period": "2026-13"}, "period"),
        ("market", {"period": "Q4"}, "period"),
        ("market", {"by": "gender"}, "by"),
        ("wages", {"by": "experience"}, "by"),
        ("market", {"city": "亚特兰蒂斯"}, "city"),
        ("indicators", {"year": "1800"}, "year"),
    ],
)
async def test_bad_parameters_name_the_field(api: Api, path: str, params: dict[str, str],
                                             field: str) -> None:  # fmt: skip
    market = Market(api)
    response = await api.client.get(f"/v1/stats/{path}", params=params, headers=market.admin)
    assert response.status_code == 422, response.text
    fields = [d.get("field") for d in response.json()["error"]["details"]]
    assert any(field in str(f) for f in fields), response.json()


async def test_csv_has_every_row_and_localized_labels(api: Api) -> None:
    market = Market(api)
    await _fill(market)
    json_rows = (await market.stats("market", by="education", period="2026-Q4"))["rows"]
    response = await market.stats("market", language="en", by="education", period="2026-Q4",
                                  format="csv")  # fmt: skip
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == len(json_rows)
    assert "bachelor" in {r["label"] for r in rows}
    assert "demand_change_previous_period" in rows[0]
    chinese = await market.stats("market", by="education", period="2026-Q4")
    assert "本科" in {r["label"] for r in chinese["rows"]}


async def test_the_rollup_follows_edits_once_it_is_due(api: Api) -> None:
    from store.market_rollup import ensure_fresh

    market = Market(api)
    code = await _fill(market)
    before = await market.stats("market", by="occupation", period="2026-Q4")
    assert {r["key"]: r for r in before["rows"]}[code]["demand"] == 21
    job = await market.posting("agency1", title=TITLE, company="公司9", headcount=9,
                               posted_at="2026-11-05T09:00:00Z")  # fmt: skip
    # Within the refresh interval the answer is the rollup's, and says when it was built.
    again = await market.stats("market", by="occupation", period="2026-Q4")
    assert again["as_of"] == before["as_of"]
    with api.runtime.db.session() as session:
        ensure_fresh(session, max_age_s=0)  # what the background loop does when due
    after = await market.stats("market", by="occupation", period="2026-Q4")
    assert after["as_of"] > before["as_of"]
    assert {r["key"]: r for r in after["rows"]}[code]["demand"] == 30
    deleted = await api.delete(f"/v1/jobs/{job['id']}", "agency1")
    assert deleted.status_code == 204
    with api.runtime.db.session() as session:
        ensure_fresh(session, max_age_s=0)
    final = await market.stats("market", by="occupation", period="2026-Q4")
    assert {r["key"]: r for r in final["rows"]}[code]["demand"] == 21


async def test_english_postings_join_their_csco_group_through_the_crosswalk(api: Api) -> None:
    market = Market(api)
    code = await _fill(market)  # Chinese software postings: 21 positions
    for i in range(5):
        job = await market.posting(
            f"agency{i % 3}", title="Software Developer", company=f"Firm {i % 3}",
            description="Build backend services in Java.", language="en",
            posted_at="2026-10-07T09:00:00Z",
        )  # fmt: skip
        assert job["occupation_code"].startswith("ISCO-08:")
    minor = "-".join(code.split("-")[:3]) + "-00"
    body = await market.stats("market", by="occupation_group", level="minor", period="2026-Q4")
    assert {r["key"]: r for r in body["rows"]}[minor]["demand"] == 21 + 5
