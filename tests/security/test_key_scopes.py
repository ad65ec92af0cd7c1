"""A key's scopes are exactly what it was given: an empty list is a key that may do nothing,
through the admin API, the CLI and rotation alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from store.db import Database
from store.keys import authenticate
from tests.conftest import Api
from tests.test_cli import talentmatch


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.anyio
async def test_a_key_with_no_scopes_may_do_nothing(api: Api) -> None:
    admin = api.new_key("operator", "admin")
    job = await api.create_job("acme")
    made = await api.client.post("/v1/admin/keys", json={"tenant": "acme", "role": "agency",
                                                         "scopes": []}, headers=bearer(admin))  # fmt: skip
    assert made.status_code == 201 and made.json()["scopes"] == []
    key = made.json()["key"]
    for rotation in range(2):
        calls = [
            await api.client.get("/v1/jobs", headers=bearer(key)),
            await api.client.get(f"/v1/jobs/{job['id']}", headers=bearer(key)),
            await api.client.post("/v1/search/jobs", json={"query": "Python"}, headers=bearer(key)),
            await api.client.get("/v1/candidates", headers=bearer(key)),
            await api.client.post("/v1/jobs", json={"title": "x"}, headers=bearer(key)),
            await api.client.get(f"/v1/jobs/{job['id']}/matches", headers=bearer(key)),
        ]
        assert [c.status_code for c in calls] == [403] * len(calls), rotation
        assert {c.json()["error"]["code"] for c in calls} == {"insufficient_scope"}
        # The replacement key keeps the (empty) scopes.
        key_id = key.split("_")[1]
        rotated = await api.client.post(f"/v1/admin/keys/{key_id}/rotate", headers=bearer(admin))
        key = rotated.json()["key"]
    # Not giving scopes still means the role's defaults.
    default = await api.client.post("/v1/admin/keys", json={"tenant": "acme", "role": "agency"},
                                    headers=bearer(admin))  # fmt: skip
    assert (
        await api.client.get("/v1/jobs", headers=bearer(default.json()["key"]))
    ).status_code == 200


def test_the_cli_makes_a_key_with_no_scopes(tmp_path: Path) -> None:
    created = talentmatch("keys", "create", "--tenant", "acme", "--role", "agency", "--scopes", "",
                          data_dir=tmp_path)  # fmt: skip
    assert created.returncode == 0, created.stderr
    settings = Settings(environment="test", data_dir=tmp_path)
    db = Database(settings)
    try:
        with db.session() as session:
            principal = authenticate(session, created.stdout.strip(),
                                     pepper=settings.auth.key_pepper.get_secret_value())  # fmt: skip
        assert principal.scopes == frozenset()
    finally:
        db.dispose()
