"""NUL and other control characters anywhere a client can put text (body fields the intake
tests do not cover, path segments, query parameters) are a 422 naming the field, never a
database error; dates a database cannot hold likewise."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.settings import Settings
from store.db import Database
from store.fairs import upsert_fair
from store.keys import create_key
from tests.conftest import Api


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.anyio
async def test_control_characters_in_body_fields_are_a_422_naming_the_field(api: Api) -> None:
    job = await api.create_job("acme")
    person = await api.create_candidate("acme")
    fair_key = api.new_key("szu-office", "fair")
    admin = api.new_key("operator", "admin")
    cases = [
        ("/v1/fairs", fair_key, {"id": "szu-fair", "name": "深圳\x00大学"}, "name"),
        ("/v1/feedback", api.key("acme"), {"job_id": job["id"], "candidate_id": person["id"],
                                          "action": "rejected", "reason": "不合适\x00"}, "reason"),
        ("/v1/search/jobs", api.key("acme"), {"query": "Java\x00"}, "query"),
        ("/v1/search/jobs", api.key("acme"), {"filters": {"city": "深\x01圳"}}, "filters.city"),
        ("/v1/admin/keys", admin, {"tenant": "ac\x00me", "role": "agency"}, "tenant"),
        ("/v1/admin/keys", admin, {"tenant": "acme", "role": "agency",
                                   "expires_at": "9999-12-31T23:59:59-05:00"}, "expires_at"),
    ]  # fmt: skip
    for path, key, body, field in cases:
        response = await api.client.post(path, json=body, headers=bearer(key))
        assert response.status_code == 422, (path, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), (path, fields)
    # Nothing of it was stored.
    assert (await api.client.get("/v1/fairs/szu-fair", headers=bearer(fair_key))).status_code == 404
    assert (await api.get("/v1/feedback", "acme")).json()["items"] == []


@pytest.mark.anyio
async def test_control_characters_in_the_url_are_a_422_naming_path_or_query(api: Api) -> None:
    person = await api.create_candidate("acme")
    cases = [
        (f"/v1/candidates/{person['id']}?purpose=call%00back", "query"),
        (f"/v1/candidates/{person['id']}/export?purpose=%00", "query"),
        ("/v1/fairs/szu%00fair", "path"),
        ("/v1/fairs/szu%00fair/postings", "path"),
        ("/v1/ingest-jobs/abc%00def", "path"),
        ("/v1/admin/keys?tenant=ac%00me", "query"),
    ]
    admin = api.new_key("operator", "admin")
    for url, field in cases:
        key = admin if url.startswith("/v1/admin") else api.key("acme")
        response = await api.client.get(url, headers=bearer(key))
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["details"][0]["field"] == field
    # The audit trail got no entry from the refused reads.
    export = await api.get(f"/v1/candidates/{person['id']}/export", "acme",
                           params={"purpose": "DSAR-1"})  # fmt: skip
    assert [e["purpose"] for e in export.json()["audit"]] == ["DSAR-1"]


def test_ids_with_a_trailing_newline_are_refused(settings: Settings) -> None:
    """``$`` in a pattern matches before a final newline: "acme\\n" (the API strips it, the
    CLI and the store's other callers do not) would be a second tenant that looks like acme
    in every log and list."""
    db = Database(settings)
    try:
        with db.session() as session:
            with pytest.raises(InvalidInput, match="tenant id"):
                create_key(session, tenant_id="acme\n", role="agency", pepper="p")
            create_key(session, tenant_id="szu-office", role="fair", pepper="p")
            with pytest.raises(InvalidInput, match="fair id"):
                upsert_fair(session, tenant_id="szu-office", fair_id="szu-fair\n", name="SZU",
                            apply_url=None)  # fmt: skip
    finally:
        db.dispose()
