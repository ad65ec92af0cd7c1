"""A fair decides who publishes there: listed agencies publish directly, anyone else's
request waits for the fair's review (or is refused), a posting the fair withdrew stays
withdrawn until the fair approves it again, and only approved postings are shown. A fair's
browser key reaches nothing but its fair's postings; the apply link is a web link only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from core.settings import Settings
from store.db import migrate
from store.models import Job
from tests.conftest import Api

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"
FAIR = "szu-2026-autumn"


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


class Fair:
    """The career office's keys and what its fair shows to students."""

    def __init__(self, api: Api) -> None:
        self.api = api
        # These tests read the fair many times a second; rate limits have their own tests.
        api.runtime.rate_limiter._per_minute["public"] = 0
        self.key = api.new_key("szu", "fair")
        self.public: str | None = None

    async def create(self, **settings: Any) -> httpx.Response:
        return await self.api.client.post("/v1/fairs", json={"id": FAIR, "name": "深大秋招",
                                          **settings}, headers=bearer(self.key))  # fmt: skip

    def browser(self) -> dict[str, str]:
        if self.public is None:
            self.public = self.api.new_key("szu", "public", fair_id=FAIR, origins=[SITE])
        return bearer(self.public, Origin=SITE)

    async def shown(self) -> dict[str, Any]:
        """Every way the browser key sees the fair's postings, as ids."""
        client, headers = self.api.client, self.browser()
        listing = (await client.get(f"/v1/fairs/{FAIR}/postings", headers=headers)).json()
        jobs = (await client.get("/v1/jobs", headers=headers)).json()
        found = (await client.post("/v1/search/jobs", headers=headers,
                                   json={"query": "", "include_duplicates": True})).json()  # fmt: skip
        count = (await client.get(f"/v1/fairs/{FAIR}", headers=headers)).json()["postings"]
        return {
            "postings": sorted(j["id"] for j in listing),
            "jobs": sorted(j["id"] for j in jobs["items"]),
            "search": sorted(h["id"] for h in found["hits"]),
            "count": count,
        }

    async def readable(self, job_id: int) -> int:
        response = await self.api.client.get(f"/v1/jobs/{job_id}", headers=self.browser())
        return response.status_code

    async def decide(self, job_id: int, verb: str) -> httpx.Response:
        return await self.api.client.post(f"/v1/fairs/{FAIR}/postings/{job_id}:{verb}",
                                          headers=bearer(self.key))  # fmt: skip

    async def requests(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        response = await self.api.client.get(f"/v1/fairs/{FAIR}/requests", params=params,
                                             headers=bearer(self.key))  # fmt: skip
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


async def _put(api: Api, job_id: int, headers: dict[str, str]) -> httpx.Response:
    return await api.client.put(f"/v1/fairs/{FAIR}/postings/{job_id}", headers=headers)


async def test_the_fair_decides_who_publishes_and_what_it_withdrew_stays_withdrawn(
    api: Api,
) -> None:
    fair = Fair(api)
    created = await fair.create(publishers=["acme"], approval="review")
    assert created.status_code == 201, created.text
    assert created.json()["publishers"] == ["acme"] and created.json()["approval"] == "review"
    listed = await api.create_job("acme", title="Python后端开发工程师")
    asked = await api.create_job("globex", title="Java开发工程师", description="Spring Boot 开发。",
                                 required_skills=["Java"], company="环球科技")  # fmt: skip
    # A listed agency publishes directly.
    direct = await _put(api, listed["id"], api.auth("acme"))
    assert direct.status_code == 201 and direct.json()["status"] == "approved", direct.text
    assert (await _put(api, listed["id"], api.auth("acme"))).status_code == 200
    # Anyone else asks; nothing is shown until the fair approves.
    request = await _put(api, asked["id"], api.auth("globex"))
    assert request.status_code == 202, request.text
    assert request.json()["status"] == "pending" and request.json()["published"] is False
    assert (await _put(api, asked["id"], api.auth("globex"))).status_code == 202
    only_listed = {"postings": [listed["id"]], "jobs": [listed["id"]],
                   "search": [listed["id"]], "count": 1}  # fmt: skip
    assert await fair.shown() == only_listed
    assert await fair.readable(asked["id"]) == 404
    # Who may publish is the fair's business: its visitors and other agencies are not told.
    for headers in (fair.browser(), api.auth("globex")):
        seen = (await api.client.get(f"/v1/fairs/{FAIR}", headers=headers)).json()
        assert seen["publishers"] is None and seen["approval"] is None
    # The agency is no reviewer, and cannot approve its own request.
    assert (await api.get(f"/v1/fairs/{FAIR}/requests", "globex")).status_code == 403
    self_approval = await api.client.post(f"/v1/fairs/{FAIR}/postings/{asked['id']}:approve",
                                          headers=api.auth("globex"))  # fmt: skip
    assert self_approval.status_code == 403
    pending = await fair.requests("pending")
    assert [(r["job_id"], r["published_by"], r["job"]["title"]) for r in pending] == [
        (asked["id"], "globex", "Java开发工程师")
    ]
    approved = await fair.decide(asked["id"], "approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    both = sorted([listed["id"], asked["id"]])
    assert await fair.shown() == {"postings": both, "jobs": both, "search": both, "count": 2}
    assert await fair.requests("pending") == []
    # The fair withdraws it; its owner can neither put it back nor erase the decision.
    withdrawn = await api.client.delete(
        f"/v1/fairs/{FAIR}/postings/{asked['id']}", headers=bearer(fair.key)
    )
    assert withdrawn.status_code == 204
    again = await _put(api, asked["id"], api.auth("globex"))
    assert again.status_code == 409, again.text
    assert again.json()["error"]["details"] == [{"field": "job_id", "message": "withdrawn"}]
    retracted = await api.delete(f"/v1/fairs/{FAIR}/postings/{asked['id']}", "globex")
    assert retracted.status_code == 204
    assert (await _put(api, asked["id"], api.auth("globex"))).status_code == 409
    assert await fair.shown() == only_listed
    assert await fair.readable(asked["id"]) == 404
    assert [r["job_id"] for r in await fair.requests("withdrawn")] == [asked["id"]]
    # Until the fair approves it again (PUT by the fair is an approval too).
    assert (await _put(api, asked["id"], bearer(fair.key))).status_code == 201
    assert await fair.readable(asked["id"]) == 200


async def test_a_rejected_request_stays_rejected_and_the_fair_curates_directly(
    api: Api,
) -> None:
    fair = Fair(api)
    assert (await fair.create()).json()["approval"] == "review"  # the default
    mine = await api.create_job("initech", title="测试工程师", required_skills=["Selenium"])
    other = await api.create_job("initech", title="运维工程师", required_skills=["Linux"])
    secret = await api.create_job("initech", title="内部岗位", private=True)
    assert (await _put(api, mine["id"], api.auth("initech"))).status_code == 202
    rejected = await fair.decide(mine["id"], "reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["decided_by"] == "szu"
    assert (await _put(api, mine["id"], api.auth("initech"))).status_code == 409
    assert await fair.readable(mine["id"]) == 404
    # The fair shows any public posting without being asked, never a private one.
    assert (await _put(api, other["id"], bearer(fair.key))).status_code == 201
    assert (await _put(api, secret["id"], bearer(fair.key))).status_code == 404
    assert (await fair.decide(secret["id"], "approve")).status_code == 404
    assert (await fair.shown())["postings"] == [other["id"]]
    # A request for a posting made private since drops out of the review list.
    late = await api.create_job("globex", title="产品经理", required_skills=["Axure"])
    assert (await _put(api, late["id"], api.auth("globex"))).status_code == 202
    assert [r["job_id"] for r in await fair.requests("pending")] == [late["id"]]
    assert (
        await api.patch(f"/v1/jobs/{late['id']}", "globex", {"private": True})
    ).status_code == 200
    assert await fair.requests("pending") == []
    approve_private = await fair.decide(late["id"], "approve")
    assert approve_private.status_code == 404
    assert await fair.readable(late["id"]) == 404


async def test_allow_list_only_fairs_refuse_unlisted_agencies(api: Api) -> None:
    fair = Fair(api)
    created = await fair.create(publishers=["acme"], approval="allow_list_only")
    assert created.status_code == 201
    theirs = await api.create_job("globex", title="Go开发工程师", required_skills=["Go"])
    refused = await _put(api, theirs["id"], api.auth("globex"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert await fair.requests() == []
    assert (await fair.shown())["count"] == 0
    ours = await api.create_job("acme", title="Go开发工程师", required_skills=["Go"])
    assert (await _put(api, ours["id"], api.auth("acme"))).status_code == 201
    bad = await fair.create(approval="anyone", publishers=["Not A Tenant"])
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"approval", "publishers.0"}


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(document.cookie)", "JavaScript://%0aalert(1)", "data:text/html,<b>x</b>",
     "//evil.example/apply", "https:///nohost", "ftp://career.szu.edu.cn/apply", "vbscript:x",
     "https://career.szu.edu.cn/apply?job={job_id} onmouseover=alert(1)"],
)  # fmt: skip
async def test_the_apply_link_is_a_web_link_only(api: Api, link: str) -> None:
    fair = Fair(api)
    good = "https://career.szu.edu.cn/apply?job={job_id}&ref={external_id}"
    assert (await fair.create(apply_url=good)).status_code == 201
    refused = await fair.create(apply_url=link)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "apply_url"
    shown = await api.client.get(f"/v1/fairs/{FAIR}", headers=fair.browser())
    assert shown.json()["apply_url"] == good  # the stored link is unchanged


async def test_the_browser_key_gets_what_the_apply_link_needs_and_nothing_more(api: Api) -> None:
    fair = Fair(api)
    await fair.create(apply_url="http://career.szu.edu.cn/apply?job={job_id}&ref={external_id}")
    job = await api.create_job("szu", title="学生助理", external_id="szu/2026 #7")
    assert (await _put(api, job["id"], bearer(fair.key))).status_code == 201
    read = await api.client.get(f"/v1/jobs/{job['id']}", headers=fair.browser())
    assert read.json()["external_id"] == "szu/2026 #7"
    # The fair's tenant bulk-loads postings; its browser key cannot follow the load.
    load = await api.client.post("/v1/jobs:bulk", headers=api.auth("szu"),
                                 files={"file": ("jobs.jsonl", b'{"title": "x"}\n')})  # fmt: skip
    assert load.status_code == 202, load.text
    url = f"/v1/ingest-jobs/{load.json()['id']}"
    assert (await api.client.get(url, headers=api.auth("szu"))).status_code == 200
    refused = await api.client.get(url, headers=fair.browser())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    # Nothing else but reading its fair and its postings and searching them.
    client, headers = api.client, fair.browser()
    for method, path in [
        ("GET", f"/v1/fairs/{FAIR}/requests"),
        ("POST", f"/v1/fairs/{FAIR}/postings/{job['id']}:approve"),
        ("POST", f"/v1/fairs/{FAIR}/postings/{job['id']}:reject"),
        ("PUT", f"/v1/fairs/{FAIR}/postings/{job['id']}"),
        ("DELETE", f"/v1/fairs/{FAIR}/postings/{job['id']}"),
        ("GET", f"/v1/jobs/{job['id']}/duplicates"),
        ("GET", f"/v1/jobs/{job['id']}/file"),
        ("GET", f"/v1/jobs/{job['id']}/matches"),
        ("GET", "/v1/feedback"),
        ("GET", "/v1/candidates"),
    ]:
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    assert (await fair.shown())["postings"] == [job["id"]]


async def test_fair_postings_from_before_the_review_step_stay_shown(
    settings: Settings, app_factory: Callable[..., Any]
) -> None:
    """Migration 0013: a posting shown at a fair before fairs reviewed requests stays shown."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine, "0012")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as connection:
        for tenant in ("szu", "acme"):
            connection.execute(text("INSERT INTO tenants (id, name, created_at) VALUES (:t, :t, :now)"),
                               {"t": tenant, "now": now})  # fmt: skip
        connection.execute(
            Job.__table__.insert().values(
                tenant_id="acme", title="Python后端开发工程师", description="", remote=False,
                employment_type="full_time", required_skills=[], preferred_skills=[],
                benefits=[], private=False, posted_at=now, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        job_id = connection.execute(text("SELECT id FROM jobs")).scalar_one()
        connection.execute(text("INSERT INTO fairs (id, tenant_id, name, created_at) "
                                "VALUES (:f, 'szu', 'old fair', :now)"), {"f": FAIR, "now": now})  # fmt: skip
        connection.execute(text("INSERT INTO fair_postings (fair_id, job_id, published_by, "
                                "created_at) VALUES (:f, :j, 'acme', :now)"),
                           {"f": FAIR, "j": job_id, "now": now})  # fmt: skip
    engine.dispose()
    app = app_factory()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            fair = Fair(api)
            shown = (await client.get(f"/v1/fairs/{FAIR}", headers=bearer(fair.key))).json()
            assert shown["postings"] == 1 and shown["approval"] == "review"
            assert shown["publishers"] == []
            assert [r["status"] for r in await fair.requests()] == ["approved"]
            assert await fair.readable(job_id) == 200
