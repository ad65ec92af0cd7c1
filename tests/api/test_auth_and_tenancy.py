"""Keys and tenant isolation: a tenant sees its own candidates only, and public postings."""

from __future__ import annotations

import pytest

from store.db import Database
from store.keys import revoke_key
from tests.conftest import Api, job_payload

pytestmark = pytest.mark.anyio


async def test_missing_malformed_and_unknown_keys_get_401(api: Api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer tm_000000000000_" + "x" * 40},
    ):
        response = await api.client.get("/v1/jobs", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_revoked_key_stops_working(api: Api) -> None:
    key = api.key("acme")
    assert (await api.get("/v1/jobs", "acme")).status_code == 200
    db = Database(api.settings)
    with db.session() as session:
        assert revoke_key(session, key)
    db.dispose()
    assert (await api.get("/v1/jobs", "acme")).status_code == 401


async def test_wrong_secret_for_a_real_key_id_is_refused(api: Api) -> None:
    key_id = api.key("acme").split("_")[1]
    forged = f"tm_{key_id}_{'A' * 43}"
    response = await api.client.get("/v1/jobs", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_candidates_never_cross_tenants(api: Api) -> None:
    mine = await api.create_candidate("acme", skills=["Rust"], summary="Rust developer")
    url = f"/v1/candidates/{mine['id']}"
    assert (await api.get(url, "globex")).status_code == 404
    assert (await api.patch(url, "globex", {"name": "x"})).status_code == 404
    assert (await api.delete(url, "globex")).status_code == 404
    assert (await api.get(f"{url}/matches", "globex")).status_code == 404
    search = await api.post("/v1/search/candidates", "globex", {"query": "Rust"})
    assert search.json()["total"] == 0
    assert (await api.get("/v1/candidates", "globex")).json()["total"] == 0
    # The owner still has it, unchanged.
    assert (await api.get(url, "acme")).json()["name"] == mine["name"]


async def test_job_matches_rank_only_the_callers_candidates(api: Api) -> None:
    job = await api.create_job("acme", title="Python developer")
    await api.create_candidate("acme", name="Acme Person")
    await api.create_candidate("globex", name="Globex Person")
    for tenant, expected in (("acme", "Acme Person"), ("globex", "Globex Person")):
        matches = (await api.get(f"/v1/jobs/{job['id']}/matches", tenant)).json()["matches"]
        assert [m["candidate"]["name"] for m in matches] == [expected]


async def test_public_jobs_are_shared_private_jobs_are_not(api: Api) -> None:
    public = await api.create_job("acme", title="Public Golang role", required_skills=["Go"])
    private = await api.create_job(
        "acme", title="Private Golang role", required_skills=["Go"], private=True
    )
    assert (await api.get(f"/v1/jobs/{public['id']}", "globex")).status_code == 200
    assert (await api.get(f"/v1/jobs/{private['id']}", "globex")).status_code == 404
    titles = {h["job"]["title"] for h in (await api.search_jobs("globex", "Golang"))["hits"]}
    assert titles == {"Public Golang role"}
    owner_titles = {h["job"]["title"] for h in (await api.search_jobs("acme", "Golang"))["hits"]}
    assert owner_titles == {"Public Golang role", "Private Golang role"}
    visible = (await api.get("/v1/jobs", "globex", params={"scope": "visible"})).json()
    assert [j["title"] for j in visible["items"]] == ["Public Golang role"]


async def test_other_tenants_public_job_cannot_be_changed(api: Api) -> None:
    job = await api.create_job("acme")
    response = await api.patch(f"/v1/jobs/{job['id']}", "globex", {"title": "hijacked"})
    assert response.status_code == 403
    assert (await api.delete(f"/v1/jobs/{job['id']}", "globex")).status_code == 403
    assert (await api.get(f"/v1/jobs/{job['id']}", "acme")).json()["title"] == job["title"]


async def test_upsert_with_another_tenants_external_id_creates_its_own(api: Api) -> None:
    mine = await api.post("/v1/jobs", "acme", job_payload(external_id="shared"))
    theirs = await api.post("/v1/jobs", "globex", job_payload(external_id="shared", title="Theirs"))
    assert theirs.status_code == 201
    assert (await api.get(f"/v1/jobs/{mine.json()['id']}", "acme")).json()["title"] != "Theirs"
