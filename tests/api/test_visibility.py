"""Visibility is one rule on every read path: a posting made private after it was shown at a
fair, grouped with near-duplicates, found by search and matched to candidates disappears
from every path for everyone but its owner (lists, reads, search and facets, the fair's
postings and count, duplicate groups and ``duplicate_of``, matches), and the rest of its
duplicate group still shows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, candidate_payload, job_payload

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"
FAIR = "szu-2026-autumn"
CONSENT = {"purpose": "job matching", "granted_at": "2026-11-20T10:00:00Z", "text_version": "v3"}
REPOST = {
    "title": "Python后端开发工程师",
    "description": "负责后端服务开发与维护，熟悉Python、Django和MySQL，有微服务经验者优先。",
    "company": "深圳市前海云帆科技有限公司",
}


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


class Viewer:
    """One caller: its headers, and the ids it gets back from each read path."""

    def __init__(self, api: Api, headers: dict[str, str]) -> None:
        self.api, self.headers = api, headers

    async def get(self, url: str, **params: Any) -> Any:
        response = await self.api.client.get(url, headers=self.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def status(self, url: str) -> int:
        return (await self.api.client.get(url, headers=self.headers)).status_code

    async def search(self, **body: Any) -> dict[str, Any]:
        response = await self.api.client.post(
            "/v1/search/jobs", json={"query": "", **body}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


async def _world(api: Api) -> dict[str, Any]:
    """acme's posting heads a duplicate group with reposts by globex and initech; a fair
    shows acme's and globex's; then acme makes its posting private."""
    head = await api.create_job("acme", **REPOST, external_id="acme-1")
    repost = await api.create_job("globex", **REPOST, external_id="globex-1")
    third = await api.create_job("initech", **REPOST, external_id="initech-1")
    other = await api.create_job("globex", title="中餐厨师", description="负责粤菜制作。",
                                 required_skills=["烹饪"], company="粤味轩")  # fmt: skip
    assert repost["duplicate_of"] == head["id"] and third["duplicate_of"] == head["id"]
    fair_key = api.new_key("szu", "fair")
    created = await api.client.post(
        "/v1/fairs", json={"id": FAIR, "name": "深大秋招"}, headers=bearer(fair_key)
    )
    assert created.status_code == 201, created.text
    for job in (head, repost):
        shown = await api.client.put(f"/v1/fairs/{FAIR}/postings/{job['id']}",
                                     headers=bearer(fair_key))  # fmt: skip
        assert shown.status_code == 201, shown.text
    public = api.new_key("szu", "public", fair_id=FAIR, origins=[SITE])
    browser = Viewer(api, bearer(public, Origin=SITE))
    assert [j["id"] for j in await browser.get(f"/v1/fairs/{FAIR}/postings")] == [
        head["id"], repost["id"]
    ]  # fmt: skip
    seeker = await api.create_candidate("globex", desired_titles=["Python后端开发工程师"])
    made_private = await api.patch(f"/v1/jobs/{head['id']}", "acme", {"private": True})
    assert made_private.status_code == 200 and made_private.json()["private"] is True
    return {"head": head, "repost": repost, "third": third, "other": other, "public": public,
            "seeker": seeker, "fair_key": fair_key}  # fmt: skip


async def test_a_posting_made_private_leaves_every_read_path_of_everyone_but_its_owner(
    api: Api,
) -> None:
    world = await _world(api)
    head, repost, third = world["head"]["id"], world["repost"]["id"], world["third"]["id"]
    partner_key = api.new_key("jobapp", "partner")
    viewers = {
        "the fair's browser key": Viewer(api, bearer(world["public"], Origin=SITE)),
        "the fair's own key": Viewer(api, bearer(world["fair_key"])),
        "another agency": Viewer(api, api.auth("globex")),
        "a partner app": Viewer(api, bearer(partner_key)),
    }
    for who, viewer in viewers.items():
        at_fair = await viewer.get(f"/v1/fairs/{FAIR}/postings")
        assert [j["id"] for j in at_fair] == [repost], who
        assert at_fair[0]["duplicate_of"] is None, who  # the head's id is not given out
        assert (await viewer.get(f"/v1/fairs/{FAIR}"))["postings"] == 1, who
        assert await viewer.status(f"/v1/jobs/{head}") == 404, who
        assert (await viewer.get(f"/v1/jobs/{repost}"))["duplicate_of"] is None, who
        listed = await viewer.get("/v1/jobs", scope="visible", page_size=100)
        assert head not in [j["id"] for j in listed["items"]], who
        for body in ({"query": "Python后端开发工程师"}, {"query": ""},
                     {"query": "Python", "include_duplicates": True}):  # fmt: skip
            found = await viewer.search(**body, facets=["company"])
            ids = [h["id"] for h in found["hits"]]
            assert head not in ids and ids, (who, body)
            assert all(h["job"]["duplicate_of"] != head for h in found["hits"]), (who, body)
    # Searching the whole market: the group still shows once, through a visible member,
    # folding the other visible member only; its company counts once.
    for who in ("another agency", "a partner app"):
        found = await viewers[who].search(query="Python后端开发工程师", facets=["company"])
        group = [h for h in found["hits"] if h["id"] in (repost, third)]
        assert len(group) == 1 and group[0]["duplicates"] == 1, who
        assert {"value": REPOST["company"], "count": 1} in [
            {"value": v["value"], "count": v["count"]} for v in found["facets"]["company"]
        ], who
        # The group as this viewer can see it: the earliest visible member stands for it.
        shown_third = await viewers[who].get(f"/v1/jobs/{third}")
        assert shown_third["duplicate_of"] == repost, who
    # Duplicates: the head is neither listed nor reachable; the visible members still are.
    others = await viewers["another agency"].get(f"/v1/jobs/{repost}/duplicates")
    assert [j["id"] for j in others] == [third] and others[0]["duplicate_of"] == repost
    assert await viewers["another agency"].status(f"/v1/jobs/{head}/duplicates") == 404
    # Matches: never a posting the caller cannot see; a posting it cannot see is 404.
    assert await viewers["another agency"].status(f"/v1/jobs/{head}/matches") == 404
    matches = await viewers["another agency"].get(f"/v1/candidates/{world['seeker']['id']}/matches")
    ids = [m["id"] for m in matches["matches"]]
    # Matching shows one posting per duplicate group: a visible member stands for it.
    assert head not in ids and len({repost, third} & set(ids)) == 1
    assert all(m["job"]["duplicate_of"] != head for m in matches["matches"])
    partner_person = await api.client.post(
        "/v1/candidates", json=candidate_payload(consent=CONSENT), headers=bearer(partner_key)
    )
    assert partner_person.status_code == 201, partner_person.text
    partner_matches = await viewers["a partner app"].get(
        f"/v1/candidates/{partner_person.json()['id']}/matches"
    )
    assert head not in [m["id"] for m in partner_matches["matches"]]


async def test_the_owner_still_sees_its_private_posting_but_not_at_the_fair(api: Api) -> None:
    world = await _world(api)
    head, repost = world["head"]["id"], world["repost"]["id"]
    owner = Viewer(api, api.auth("acme"))
    assert (await owner.get(f"/v1/jobs/{head}"))["private"] is True
    assert head in [j["id"] for j in (await owner.get("/v1/jobs"))["items"]]
    found = await owner.search(query="Python后端开发工程师", include_duplicates=True)
    assert head in [h["id"] for h in found["hits"]]
    assert repost in [j["id"] for j in await owner.get(f"/v1/jobs/{head}/duplicates")]
    # The owner still sees the group's head, so the reposts still point at it.
    assert (await owner.get(f"/v1/jobs/{repost}"))["duplicate_of"] == head
    assert (await owner.get(f"/v1/jobs/{head}/matches"))["job_id"] == head
    # The fair no longer shows it, even to its owner: only the fair tenant's own private
    # postings are shown at a fair.
    assert [j["id"] for j in await owner.get(f"/v1/fairs/{FAIR}/postings")] == [repost]
    assert (await owner.get(f"/v1/fairs/{FAIR}"))["postings"] == 1
    # The fair's approval stays on record: made public again, it is shown there again.
    public_again = await api.patch(f"/v1/jobs/{head}", "acme", {"private": False})
    assert public_again.status_code == 200
    browser = Viewer(api, bearer(world["public"], Origin=SITE))
    assert [j["id"] for j in await browser.get(f"/v1/fairs/{FAIR}/postings")] == [head, repost]
    assert (await browser.get(f"/v1/jobs/{head}"))["id"] == head
    found = await browser.search(query="Python", include_duplicates=True)
    assert head in [h["id"] for h in found["hits"]]


async def test_a_fairs_own_private_posting_is_shown_to_its_browser_key_only(api: Api) -> None:
    world = await _world(api)
    own = await api.post("/v1/jobs", "szu", job_payload(title="就业指导中心助理", private=True))
    assert own.status_code == 201
    own_id = own.json()["id"]
    fair_key = world["fair_key"]
    shown = await api.client.put(f"/v1/fairs/{FAIR}/postings/{own_id}", headers=bearer(fair_key))
    assert shown.status_code == 201, shown.text
    browser = Viewer(api, bearer(world["public"], Origin=SITE))
    assert own_id in [j["id"] for j in await browser.get(f"/v1/fairs/{FAIR}/postings")]
    assert (await browser.get(f"/v1/jobs/{own_id}"))["id"] == own_id
    assert (await browser.get(f"/v1/fairs/{FAIR}"))["postings"] == 2
    agency = Viewer(api, api.auth("globex"))
    assert own_id not in [j["id"] for j in await agency.get(f"/v1/fairs/{FAIR}/postings")]
    assert (await agency.get(f"/v1/fairs/{FAIR}"))["postings"] == 1
    assert await agency.status(f"/v1/jobs/{own_id}") == 404
