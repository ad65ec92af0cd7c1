"""Roles, scopes and keys: what each kind of key may do, expiry, revocation, rotation, the
admin API, and career fairs' browser keys (fair-scoped, origin-bound, rate-limited)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from core.errors import InvalidInput
from store.models import utcnow
from tests.conftest import Api

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


async def test_scopes_limit_what_a_key_can_do(api: Api) -> None:
    reader = api.new_key("acme", "agency", scopes=["jobs:read"])
    write = await api.client.post("/v1/jobs", json={"title": "x"}, headers=bearer(reader))
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "insufficient_scope"
    assert write.json()["error"]["details"] == [{"field": "scope", "message": "jobs:write"}]
    assert (await api.client.get("/v1/jobs", headers=bearer(reader))).status_code == 200
    people = await api.client.get("/v1/candidates", headers=bearer(reader))
    assert people.status_code == 403
    # Scopes beyond the role are refused when the key is made, naming the field.
    with pytest.raises(InvalidInput, match="cannot have: candidates:read"):
        api.new_key("fairco", "fair", scopes=["candidates:read"])


async def test_expired_revoked_and_rotated_keys(api: Api) -> None:
    soon = api.new_key("acme", "agency", expires_at=utcnow() + timedelta(hours=1))
    assert (await api.client.get("/v1/jobs", headers=bearer(soon))).status_code == 200
    admin = api.new_key("operator", "admin")
    key_id = soon.split("_")[1]
    # Rotation: the new key works at once; the old one stops (no grace period).
    rotated = await api.client.post(f"/v1/admin/keys/{key_id}/rotate", headers=bearer(admin))
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["key"]
    assert new_key != soon and rotated.json()["role"] == "agency"
    assert set(rotated.json()["scopes"]) >= {"jobs:read", "candidates:contact"}
    assert rotated.json()["expires_at"] is not None  # the old key's expiry carries over
    assert (await api.client.get("/v1/jobs", headers=bearer(new_key))).status_code == 200
    old = await api.client.get("/v1/jobs", headers=bearer(soon))
    assert old.status_code == 401
    # With a grace period the old key keeps working until it ends.
    graced = api.new_key("acme", "agency")
    response = await api.client.post(f"/v1/admin/keys/{graced.split('_')[1]}/rotate",
                                     params={"grace_hours": 1}, headers=bearer(admin))  # fmt: skip
    assert response.status_code == 200
    assert (await api.client.get("/v1/jobs", headers=bearer(graced))).status_code == 200
    # Revocation by id through the admin API.
    revoked = await api.client.delete(
        f"/v1/admin/keys/{new_key.split('_')[1]}", headers=bearer(admin)
    )
    assert revoked.status_code == 204
    assert (await api.client.get("/v1/jobs", headers=bearer(new_key))).status_code == 401
    expired = api.new_key("acme", "agency", expires_at=utcnow() + timedelta(days=1))
    api.expire_key(expired)
    gone = await api.client.get("/v1/jobs", headers=bearer(expired))
    assert gone.status_code == 401 and "expired" in gone.json()["error"]["message"]


async def test_admin_api_is_for_admins(api: Api) -> None:
    admin = api.new_key("operator", "admin")
    created = await api.client.post("/v1/admin/keys", json={"tenant": "newagency", "role": "agency"},
                                    headers=bearer(admin))  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(f"tm_{body['id']}_") and "candidates:contact" in body["scopes"]
    listed = (await api.client.get("/v1/admin/keys", params={"tenant": "newagency"},
                                   headers=bearer(admin))).json()  # fmt: skip
    assert [k["id"] for k in listed] == [body["id"]] and "key" not in listed[0]
    agency = await api.client.get("/v1/admin/keys", headers=api.auth("acme"))
    assert agency.status_code == 403
    bad = await api.client.post("/v1/admin/keys", json={"tenant": "x", "role": "public", "fair": None},
                                headers=bearer(admin))  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "fair"


async def _fair_with_postings(api: Api) -> tuple[str, dict, dict, dict]:
    fair_key = api.key("szu", "fair")
    # acme is on the fair's list of agencies that publish directly.
    created = await api.client.post("/v1/fairs", json={"id": "szu-2026-autumn", "name": "深大秋招",
                                    "apply_url": "https://jobs.szu.edu.cn/apply?job={job_id}",
                                    "publishers": ["acme"]},
                                    headers=bearer(fair_key))  # fmt: skip
    assert created.status_code == 201, created.text
    shown = await api.create_job("acme", title="Python后端开发工程师")
    hidden = await api.create_job("acme", title="Python数据分析师")
    private = await api.create_job("acme", title="Python 内部岗位", private=True)
    # The agency publishes its own posting; the fair could curate any public one.
    put = await api.client.put(
        f"/v1/fairs/szu-2026-autumn/postings/{shown['id']}", headers=api.auth("acme")
    )
    assert put.status_code == 201
    again = await api.client.put(
        f"/v1/fairs/szu-2026-autumn/postings/{shown['id']}", headers=api.auth("acme")
    )
    assert again.status_code == 200
    refused = await api.client.put(f"/v1/fairs/szu-2026-autumn/postings/{private['id']}",
                                   headers=api.auth("acme"))  # fmt: skip
    assert refused.status_code == 422
    public_key = api.new_key("szu", "public", fair_id="szu-2026-autumn", origins=[SITE])
    return public_key, shown, hidden, private


async def test_public_key_sees_its_fair_only_from_its_origin(api: Api) -> None:
    public_key, shown, hidden, _ = await _fair_with_postings(api)
    headers = bearer(public_key, Origin=SITE)
    found = await api.client.post("/v1/search/jobs", json={"query": "Python"}, headers=headers)
    assert found.status_code == 200
    assert [h["id"] for h in found.json()["hits"]] == [shown["id"]]
    assert found.headers["access-control-allow-origin"] == SITE
    assert (await api.client.get(f"/v1/jobs/{shown['id']}", headers=headers)).status_code == 200
    assert (await api.client.get(f"/v1/jobs/{hidden['id']}", headers=headers)).status_code == 404
    listing = (await api.client.get("/v1/jobs", headers=headers)).json()
    assert [j["id"] for j in listing["items"]] == [shown["id"]]
    fair = (await api.client.get("/v1/fairs/szu-2026-autumn", headers=headers)).json()
    assert fair["postings"] == 1 and fair["apply_url"].endswith("{job_id}")
    # Never candidates, never writes, never another origin, never without an origin.
    assert (
        await api.client.post("/v1/search/candidates", json={"query": "x"}, headers=headers)
    ).status_code == 403
    assert (await api.client.get("/v1/candidates", headers=headers)).status_code == 403
    assert (
        await api.client.post("/v1/jobs", json={"title": "x"}, headers=headers)
    ).status_code == 403
    assert (
        await api.client.get(f"/v1/jobs/{shown['id']}/duplicates", headers=headers)
    ).status_code == 403
    elsewhere = await api.client.post("/v1/search/jobs", json={"query": "Python"},
                                      headers=bearer(public_key, Origin="https://evil.example"))  # fmt: skip
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in elsewhere.headers
    bare = await api.client.post(
        "/v1/search/jobs", json={"query": "Python"}, headers=bearer(public_key)
    )
    assert bare.status_code == 403


async def test_cors_preflight_answers_allowed_origins_only(api: Api) -> None:
    await _fair_with_postings(api)
    api.runtime._browser_origins = (set(), -1e9)  # re-read the keys now
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}  # fmt: skip
    ok = await api.client.options("/v1/search/jobs", headers={"Origin": SITE, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SITE
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    other = await api.client.options(
        "/v1/search/jobs", headers={"Origin": "https://evil.example", **preflight}
    )
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers


async def test_public_keys_are_rate_limited_per_client(api: Api, app_factory: object) -> None:
    public_key, _, _, _ = await _fair_with_postings(api)
    api.runtime.rate_limiter._per_minute["public"] = 30  # a burst of 5, then 1 per 2 s
    statuses = []
    for _ in range(8):
        response = await api.client.post("/v1/search/jobs", json={"query": "Python"},
                                         headers=bearer(public_key, Origin=SITE))  # fmt: skip
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
    # Another visitor (client IP) of the same fair has a bucket of its own.
    other_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, client=("10.0.0.9", 1234)),
        base_url="http://testserver",
    )
    async with other_client:
        fresh = await other_client.post("/v1/search/jobs", json={"query": "Python"},
                                        headers=bearer(public_key, Origin=SITE))  # fmt: skip
    assert fresh.status_code == 200


async def test_fair_curates_and_withdraws(api: Api) -> None:
    public_key, shown, hidden, _ = await _fair_with_postings(api)
    fair_key = api.key("szu", "fair")
    curated = await api.client.put(
        f"/v1/fairs/szu-2026-autumn/postings/{hidden['id']}", headers=bearer(fair_key)
    )
    assert curated.status_code == 201
    other_agency = await api.client.delete(f"/v1/fairs/szu-2026-autumn/postings/{shown['id']}",
                                           headers=api.auth("globex"))  # fmt: skip
    assert other_agency.status_code == 403
    withdrawn = await api.client.delete(
        f"/v1/fairs/szu-2026-autumn/postings/{shown['id']}", headers=bearer(fair_key)
    )
    assert withdrawn.status_code == 204
    listed = (await api.client.get("/v1/fairs/szu-2026-autumn/postings",
                                   headers=bearer(public_key, Origin=SITE))).json()  # fmt: skip
    assert [j["id"] for j in listed] == [hidden["id"]]
    taken = await api.client.post("/v1/fairs", json={"id": "szu-2026-autumn", "name": "mine"},
                                  headers=bearer(api.new_key("other-fair", "fair")))  # fmt: skip
    assert taken.status_code == 409


async def test_a_fair_widget_gets_postings_without_contacts_or_extraction(api: Api) -> None:
    public_key, shown, _, _ = await _fair_with_postings(api)
    text = "简历请发 hr.zhang@example.com 或致电 13912345678，注明应聘岗位。"
    patched = await api.patch(f"/v1/jobs/{shown['id']}", "acme", {"description": text})
    assert patched.status_code == 200
    headers = bearer(public_key, Origin=SITE)
    found = await api.client.post("/v1/search/jobs", json={"query": "", "facets": ["city"]},
                                  headers=headers)  # fmt: skip
    listing = await api.client.get("/v1/fairs/szu-2026-autumn/postings", headers=headers)
    single = await api.client.get(f"/v1/jobs/{shown['id']}", headers=headers)
    for job in [found.json()["hits"][0]["job"], listing.json()[0], single.json()]:
        assert "13912345678" not in job["description"] and "hr.zhang@" not in job["description"]
        assert "139****5678" in job["description"] and job["extraction"] is None
    assert found.json()["facets"]["city"][0]["count"] == 1  # the fair's postings only
    # The agency that owns the posting still reads it as written.
    own = await api.get(f"/v1/jobs/{shown['id']}", "acme")
    assert own.json()["description"] == text


async def test_a_same_origin_page_may_use_its_browser_key_by_referer(api: Api) -> None:
    public_key, shown, _, _ = await _fair_with_postings(api)
    by_referer = await api.client.get(
        f"/v1/jobs/{shown['id']}", headers=bearer(public_key, Referer=f"{SITE}/careers/fair")
    )
    assert by_referer.status_code == 200
    elsewhere = await api.client.get(
        f"/v1/jobs/{shown['id']}", headers=bearer(public_key, Referer="https://evil.example/x")
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "origin_not_allowed"
