"""Secrets: production refuses weak ones; a data key other than the one the data was written
with refuses to start (server and CLI) and writes nothing; ``talentmatch data-key rotate``
moves every encrypted value, identity digest and stored file to a new key, and resumes after
a crash."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import text

from api.app import create_app
from core.encoder import Encoder
from core.settings import Settings
from store.data_key import CHECK_NAME, PENDING_NAME, DataKeyMismatch, rotate_data_key
from store.db import Database
from store.keys import create_key
from store.pii import DataKey

pytestmark = pytest.mark.anyio
RESUME = """林晓雯
电话：13912345678  邮箱：linxiaowen@example.com
现居地：深圳
求职意向：数据分析师
工作经验：5年
技能：Python、SQL、Tableau
工作经历
2020.01 - 至今 某科技公司 数据分析师 负责用户增长分析与看板建设。"""
RESUME_2 = """王强
电话：13700001111  邮箱：wangqiang@example.com
现居地：深圳
求职意向：后端开发工程师
工作经验：3年
技能：Go、Redis、Kubernetes
工作经历
2021.03 - 至今 某互联网公司 后端工程师 负责订单服务。"""
KEY_A = secrets.token_hex(32)
KEY_B = secrets.token_urlsafe(32)
HOW_TO = "secrets.token_hex(32)"


def with_data_key(settings: Settings, key: str) -> Settings:
    return settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"data_key": SecretStr(key)})}
    )


def agency_key(settings: Settings, tenant: str = "acme") -> str:
    db = Database(settings)
    try:
        with db.session() as session:
            return create_key(
                session, tenant_id=tenant, role="agency",
                pepper=settings.auth.key_pepper.get_secret_value(),
            )  # fmt: skip
    finally:
        db.dispose()


@asynccontextmanager
async def serving(settings: Settings, encoder: Encoder) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (lifespan and all) with ``settings``, and a client for it."""
    app = create_app(settings, encoder=encoder)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``talentmatch ARGS`` as a real process on the same data as ``settings``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    base.update(
        TALENTMATCH_DATA_DIR=str(settings.data_dir),
        TALENTMATCH_EMBEDDING__PROVIDER="hashing",
        TALENTMATCH_AUTH__DATA_KEY=settings.auth.data_key.get_secret_value(),
    )
    if settings.db.url:
        base["TALENTMATCH_DB__URL"] = settings.db.url
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True, text=True, env=base, timeout=300,
    )  # fmt: skip


def snapshot(settings: Settings) -> dict[str, Any]:
    """Everything stored: raw rows (as written, encrypted) and the stored files' bytes."""
    db = Database(settings)
    try:
        with db.session() as session:
            rows = {
                table: [tuple(r) for r in session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in ("candidates", "stored_files", "instance_meta", "api_keys")
            }  # fmt: skip
    finally:
        db.dispose()
    files = {
        str(p.relative_to(settings.files_dir)): p.read_bytes()
        for p in sorted(settings.files_dir.glob("??/*"))
    }
    return {"rows": rows, "files": files}


async def upload(client: httpx.AsyncClient, key: str, name: str, content: str) -> int:
    response = await client.post(
        "/v1/candidates/files", files=[("files", (name, content.encode()))],
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "created", result
    return int(result["id"])


# --- 18: strong secrets in production ---------------------------------------------------------

WEAK = {
    "empty": "",
    "one character": "x",
    "development value with a space": "development-data-key ",
    "development pepper with a newline": "development-pepper\n",
    "one byte repeated (hex)": "ab" * 32,
    "zeros (base64)": base64.b64encode(bytes(48)).decode(),
    "16 random bytes": secrets.token_hex(16),
    "strong but with a trailing newline": secrets.token_hex(32) + "\n",
}


@pytest.mark.parametrize("variable", ["key_pepper", "data_key"])
@pytest.mark.parametrize("case", list(WEAK))
def test_production_refuses_weak_secrets(tmp_path: Path, variable: str, case: str) -> None:
    auth = {"key_pepper": secrets.token_hex(32), "data_key": secrets.token_hex(32)}
    auth[variable] = WEAK[case]
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production", data_dir=tmp_path, auth=auth)
    message = str(refused.value)
    assert f"TALENTMATCH_AUTH__{variable.upper()}" in message
    assert HOW_TO in message
    if len(WEAK[case].strip()) > 3:
        assert WEAK[case].strip() not in message  # the secret is never echoed


def test_production_refuses_one_secret_for_both(tmp_path: Path) -> None:
    same = secrets.token_hex(32)
    with pytest.raises(ValidationError, match="must differ|are equal"):
        Settings(environment="production", auth={"key_pepper": same, "data_key": same})


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_hex(32),
        lambda: secrets.token_urlsafe(32),
        lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(40)).decode().rstrip("="),
    ],
    ids=["hex", "base64url", "base64", "base64url-unpadded"],
)
def test_production_accepts_strong_secrets(tmp_path: Path, make: Any) -> None:
    settings = Settings(
        environment="production", data_dir=tmp_path, auth={"key_pepper": make(), "data_key": make()}
    )
    assert settings.environment == "production"


def test_development_and_test_keep_the_defaults(tmp_path: Path) -> None:
    for environment in ("development", "test"):
        settings = Settings(environment=environment, data_dir=tmp_path)  # type: ignore[arg-type]
        assert settings.auth.data_key.get_secret_value() == "development-data-key"


def test_the_cli_refuses_weak_production_secrets_in_one_line(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    result = cli(
        settings, "keys", "create", "--tenant", "acme", "--role", "agency",
        TALENTMATCH_ENVIRONMENT="production", TALENTMATCH_AUTH__DATA_KEY="hunter2hunter2",
        TALENTMATCH_AUTH__KEY_PEPPER=secrets.token_hex(32),
    )  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    assert "TALENTMATCH_AUTH__DATA_KEY" in result.stderr and HOW_TO in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert not (tmp_path / "data" / "talentmatch.db").exists()


def key_rows(state: dict[str, Any]) -> list[str]:
    """The data key's rows in instance_meta (the table holds other facts too)."""
    return [row[0] for row in state["rows"]["instance_meta"] if row[0].startswith("data_key")]


# --- 19: the stored data's key is checked at every start -------------------------------------


async def test_a_different_data_key_refuses_to_start_and_writes_nothing(
    settings: Settings, use_encoder: Encoder
) -> None:
    settings_a, settings_b = with_data_key(settings, KEY_A), with_data_key(settings, KEY_B)
    key = agency_key(settings_a)
    async with serving(settings_a, use_encoder) as client:
        person = await upload(client, key, "cv.txt", RESUME)
        assert (await client.get("/healthz")).status_code == 200
    before = snapshot(settings_a)
    assert key_rows(before) == [CHECK_NAME]
    assert KEY_A not in str(before["rows"]["instance_meta"])

    with pytest.raises(DataKeyMismatch, match="TALENTMATCH_AUTH__DATA_KEY"):
        async with serving(settings_b, use_encoder):
            pass
    for command in (
        ("keys", "create", "--tenant", "acme", "--role", "agency"),
        ("serve", "--port", "1"),
        ("data-key", "check"),
    ):
        result = cli(settings_b, *command)
        assert result.returncode == 1, (command, result.stderr)
        assert "TALENTMATCH_AUTH__DATA_KEY" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot(settings_a) == before

    # The right key still starts and reads everything.
    async with serving(settings_a, use_encoder) as client:
        profile = await client.get(
            f"/v1/candidates/{person}", headers={"Authorization": f"Bearer {key}"}
        )
        assert profile.status_code == 200 and profile.json()["email"] == "linxiaowen@example.com"
    assert cli(settings_a, "data-key", "check").returncode == 0


async def test_an_older_database_gets_a_check_value_only_if_its_data_decrypts(
    settings: Settings, use_encoder: Encoder
) -> None:
    settings_a, settings_b = with_data_key(settings, KEY_A), with_data_key(settings, KEY_B)
    key = agency_key(settings_a)
    async with serving(settings_a, use_encoder) as client:
        await upload(client, key, "cv.txt", RESUME)
    db = Database(settings_a)
    with db.session() as session:  # as an older version left it: data, no check value
        session.execute(text("DELETE FROM instance_meta"))
    db.dispose()
    before = snapshot(settings_a)

    with pytest.raises(DataKeyMismatch, match="does not decrypt"):
        async with serving(settings_b, use_encoder):
            pass
    assert cli(settings_b, "data-key", "check").returncode == 1
    assert cli(settings_a, "data-key", "check").returncode == 0
    assert snapshot(settings_a) == before
    async with serving(settings_a, use_encoder) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert key_rows(snapshot(settings_a)) == [CHECK_NAME]


# --- 19: deliberate rotation --------------------------------------------------------------------


async def _everything(client: httpx.AsyncClient, key: str, ids: list[int]) -> dict[str, Any]:
    """What a user sees of each profile: the profile, its export (less the audit trail, which
    grows with every read) and its original file."""
    headers = {"Authorization": f"Bearer {key}"}
    seen: dict[str, Any] = {}
    for person in ids:
        profile = await client.get(f"/v1/candidates/{person}", headers=headers)
        export = await client.get(
            f"/v1/candidates/{person}/export", params={"purpose": "check"}, headers=headers
        )
        original = await client.get(f"/v1/candidates/{person}/file", headers=headers)
        assert (profile.status_code, export.status_code, original.status_code) == (200, 200, 200)
        exported = {k: v for k, v in export.json().items() if k != "audit"}
        seen[str(person)] = (profile.json(), exported, original.content)
    return seen


async def test_rotation_moves_every_value_digest_and_file_to_the_new_key(
    settings: Settings, use_encoder: Encoder
) -> None:
    settings_a, settings_b = with_data_key(settings, KEY_A), with_data_key(settings, KEY_B)
    key = agency_key(settings_a)
    headers = {"Authorization": f"Bearer {key}"}
    async with serving(settings_a, use_encoder) as client:
        from_file = await upload(client, key, "cv.txt", RESUME)
        typed = await client.post(
            "/v1/candidates", headers=headers,
            json={"name": "张伟", "email": "Zhang.Wei@Example.com", "phone": "+86 138-0000-1234",
                  "resume_text": "五年后端开发经验，Python。", "skills": ["Python"]},
        )  # fmt: skip
        assert typed.status_code == 201, typed.text
        before = await _everything(client, key, [from_file])
        # Not while a server uses the data: it would go on writing under the old key.
        busy = cli(settings_a, "data-key", "rotate", TALENTMATCH_NEW_DATA_KEY=KEY_B)
        assert busy.returncode == 1 and "stop it first" in busy.stderr
        typed_before = (
            await client.get(f"/v1/candidates/{typed.json()['id']}", headers=headers)
        ).json()

    # The new key comes from the environment or a file, never the command line.
    refused = cli(settings_a, "data-key", "rotate")
    assert refused.returncode == 1 and "TALENTMATCH_NEW_DATA_KEY" in refused.stderr
    weak = cli(settings_a, "data-key", "rotate", TALENTMATCH_NEW_DATA_KEY="x" * 64)
    assert weak.returncode == 1 and HOW_TO in weak.stderr
    key_file = settings.data_dir.parent / "new.key"
    key_file.write_text(KEY_B + "\n")
    rotated = cli(settings_a, "data-key", "rotate", "--new-key-file", str(key_file))
    assert rotated.returncode == 0, rotated.stderr
    assert KEY_B not in rotated.stdout + rotated.stderr

    stored = snapshot(settings_b)
    old, new = DataKey(KEY_A), DataKey(KEY_B)
    assert stored["files"]
    for content in stored["files"].values():
        new.decrypt_bytes(content)
        with pytest.raises(RuntimeError):
            old.decrypt_bytes(content)

    with pytest.raises(DataKeyMismatch):
        async with serving(settings_a, use_encoder):
            pass
    assert cli(settings_a, "data-key", "check").returncode == 1
    assert cli(settings_b, "data-key", "check").returncode == 0
    async with serving(settings_b, use_encoder) as client:
        assert await _everything(client, key, [from_file]) == before
        typed_after = await client.get(f"/v1/candidates/{typed.json()['id']}", headers=headers)
        assert typed_after.json() == typed_before
        # Identity digests follow the key: the same person arriving again merges.
        by_email = await client.post(
            "/v1/candidates", headers=headers,
            json={"name": "张伟", "email": "zhang.wei@example.com", "skills": ["Go"]},
        )  # fmt: skip
        by_phone = await client.post(
            "/v1/candidates", headers=headers,
            json={"name": "林晓雯", "phone": "13912345678", "skills": ["SQL"]},
        )  # fmt: skip
        assert (by_email.status_code, by_email.json()["id"]) == (200, typed.json()["id"])
        assert (by_phone.status_code, by_phone.json()["id"]) == (200, from_file)
        listing = await client.get("/v1/candidates", headers=headers)
        assert listing.json()["total"] == 2


async def test_an_interrupted_rotation_is_detected_and_finished_by_a_rerun(
    settings: Settings, use_encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_a, settings_b = with_data_key(settings, KEY_A), with_data_key(settings, KEY_B)
    key = agency_key(settings_a)
    async with serving(settings_a, use_encoder) as client:
        ids = [
            await upload(client, key, "a.txt", RESUME),
            await upload(client, key, "b.txt", RESUME_2),
        ]
        before = await _everything(client, key, ids)

    # The process dies after rewriting the first stored file.
    import store.data_key

    rewrite = store.data_key._rewrite_file
    calls: list[Path] = []

    def crash_after_first(path: Path, content: bytes) -> None:
        if calls:
            raise KeyboardInterrupt("killed")
        calls.append(path)
        rewrite(path, content)

    monkeypatch.setattr(store.data_key, "_rewrite_file", crash_after_first)
    db = Database(settings_a)
    try:
        with pytest.raises(KeyboardInterrupt):
            rotate_data_key(db, settings_a.files_dir, DataKey(KEY_A), DataKey(KEY_B))
    finally:
        db.dispose()
    monkeypatch.undo()
    assert sorted(key_rows(snapshot(settings_a))) == sorted([CHECK_NAME, PENDING_NAME])

    # Neither key starts while the rotation is half done; the rerun finishes it.
    for half_done in (settings_a, settings_b):
        with pytest.raises(DataKeyMismatch, match="interrupted"):
            async with serving(half_done, use_encoder):
                pass
    assert cli(settings_a, "data-key", "check").returncode == 1
    other = cli(settings_a, "data-key", "rotate", TALENTMATCH_NEW_DATA_KEY=secrets.token_hex(32))
    assert other.returncode == 1 and "another new key" in other.stderr
    rerun = cli(settings_a, "data-key", "rotate", TALENTMATCH_NEW_DATA_KEY=KEY_B)
    assert rerun.returncode == 0, rerun.stderr
    async with serving(settings_b, use_encoder) as client:
        assert await _everything(client, key, ids) == before
