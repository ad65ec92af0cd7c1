"""Two runtimes in one process, each with its own data directory, database and data key:
profiles, stored files and identity merges of one never use the other's key, whichever
database was opened last; and what one runtime caches about its data never answers for the
other's."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text, update

from api.app import create_app
from core.encoder import Encoder
from core.settings import Settings
from store.models import Job
from store.pii import DataKey, contact_keys
from tests.conftest import Api, fresh_postgres_database

pytestmark = pytest.mark.anyio
KEY_A = secrets.token_hex(32)
KEY_B = secrets.token_hex(32)
# One person who registers with both agencies: the same contacts, in each database.
EMAIL = "Zhou.Min@Example.com"
PHONE = "+86 139-1234-5678"


def resume(city: str) -> str:
    return (
        f"周敏\n电话：13912345678  邮箱：zhou.min@example.com\n现居地：{city}\n"
        "求职意向：数据分析师\n工作经验：4年\n技能：Python、SQL\n工作经历\n"
        "2021.01 - 至今 某科技公司 数据分析师 负责用户增长分析。"
    )


@pytest.fixture
def second_database_url(database_url: str | None) -> Iterator[str | None]:
    """A second, separate database of the same kind as ``database_url``."""
    if database_url is None:
        yield None
        return
    yield from fresh_postgres_database()


def own_settings(settings: Settings, data_dir: Path, url: str | None, key: str) -> Settings:
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "db": settings.db.model_copy(update={"url": url}),
            "auth": settings.auth.model_copy(update={"data_key": SecretStr(key)}),
        }
    )


@pytest.fixture
async def two_runtimes(
    settings: Settings,
    database_url: str | None,
    second_database_url: str | None,
    tmp_path: Path,
    use_encoder: Encoder,
) -> AsyncIterator[tuple[Api, Api]]:
    """Two apps built by ``create_app``, both started, side by side in this process."""
    settings_a = own_settings(settings, tmp_path / "a", database_url, KEY_A)
    settings_b = own_settings(settings, tmp_path / "b", second_database_url, KEY_B)
    async with AsyncExitStack() as stack:
        apis = []
        for runtime_settings in (settings_a, settings_b):
            app = create_app(runtime_settings, encoder=use_encoder)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            )
            apis.append(Api(client, runtime_settings, app))
        yield apis[0], apis[1]


def stored_candidate(api: Api, candidate_id: int) -> dict[str, str | None]:
    """The raw columns of a profile, as its database holds them."""
    with api.runtime.db.session() as session:
        row = session.execute(
            text(
                "SELECT email, phone, resume_text, email_key, phone_key FROM candidates "
                "WHERE id = :id"
            ),
            {"id": candidate_id},
        ).one()
    return dict(row._mapping)


def stored_files(api: Api) -> list[bytes]:
    return [path.read_bytes() for path in sorted(api.settings.files_dir.glob("??/*"))]


def decrypts(key: DataKey, stored: str) -> bool:
    return stored.startswith("enc1:") and key.decrypts(stored)


async def upload(api: Api, tenant: str, name: str, content: str) -> int:
    response = await api.client.post(
        "/v1/candidates/files", files=[("files", (name, content.encode()))],
        headers=api.auth(tenant),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return int(response.json()["results"][0]["id"])


async def test_two_runtimes_keep_their_own_data_key(two_runtimes: tuple[Api, Api]) -> None:
    api_a, api_b = two_runtimes
    key_a, key_b = DataKey(KEY_A), DataKey(KEY_B)
    # Keys minted for both before any data: each opens its own database once more.
    for api in (api_a, api_b):
        api.key("acme")

    person_a = await api_a.create_candidate("acme", email=EMAIL, phone=PHONE, city="深圳")
    person_b = await api_b.create_candidate("acme", email=EMAIL, phone=PHONE, city="广州")
    file_a = await upload(api_a, "acme", "a.txt", resume("深圳"))
    file_b = await upload(api_b, "acme", "b.txt", resume("广州"))
    # Another key minted for the first runtime while the second one keeps serving.
    api_a.key("globex")

    # Identity merges: the same person again, by e-mail in one and by phone in the other.
    again_a = await api_a.create_candidate(
        "acme", email=EMAIL.lower(), phone=None, external_id="a-2", city="深圳"
    )
    again_b = await api_b.create_candidate(
        "acme", email="other@example.com", phone="13912345678", external_id="b-2", city="广州"
    )
    assert again_a["id"] == person_a["id"]
    assert again_a["sources"][-1]["matched_on"] == "email"
    assert again_b["id"] == person_b["id"]
    assert again_b["sources"][-1]["matched_on"] == "phone"

    # Each runtime reads its own data back, contacts and original files included.
    for api, person, city in ((api_a, person_a, "深圳"), (api_b, person_b, "广州")):
        read = await api.get(f"/v1/candidates/{person['id']}", "acme")
        assert read.status_code == 200, read.text
        assert read.json()["city"] == city
        assert read.json()["phone"] == "13912345678"
    read_a = await api_a.get(f"/v1/candidates/{person_a['id']}", "acme")
    assert read_a.json()["email"] == EMAIL.lower()
    read_b = await api_b.get(f"/v1/candidates/{person_b['id']}", "acme")
    assert read_b.json()["email"] == "other@example.com"
    for api, file_id, city in ((api_a, file_a, "深圳"), (api_b, file_b, "广州")):
        original = await api.get(f"/v1/candidates/{file_id}/file", "acme")
        assert original.status_code == 200, original.text
        assert original.content == resume(city).encode()

    # At rest, each database's values and files decrypt under its own key only, and its
    # identity digests are those of its own key.
    for api, person, own, other in (
        (api_a, person_a, key_a, key_b),
        (api_b, person_b, key_b, key_a),
    ):
        raw = stored_candidate(api, person["id"])
        for column in ("email", "phone", "resume_text"):
            value = raw[column]
            if value is None:
                continue
            assert decrypts(own, value), column
            assert not decrypts(other, value), column
        email = own.decrypt(str(raw["email"]))
        phone = own.decrypt(str(raw["phone"]))
        assert (raw["email_key"], raw["phone_key"]) == contact_keys(email, phone, key=own)
        assert (raw["email_key"], raw["phone_key"]) != contact_keys(email, phone, key=other)
        files = stored_files(api)
        assert files
        for content in files:
            assert own.decrypt_bytes(content).startswith("周敏".encode())
            with pytest.raises(RuntimeError):
                other.decrypt_bytes(content)


async def test_two_runtimes_score_their_own_postings(two_runtimes: tuple[Api, Api]) -> None:
    """Each database's first posting has id 1; with the same update time too (imported with
    one timestamp), a profile cached by one runtime must not score the other's posting."""
    api_a, api_b = two_runtimes
    job_a = await api_a.create_job("acme", required_skills=["Python"], preferred_skills=[])
    job_b = await api_b.create_job(
        "acme", title="Java开发工程师", required_skills=["Java"], preferred_skills=[]
    )
    assert job_a["id"] == job_b["id"]
    stamp = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for api in (api_a, api_b):
        with api.runtime.db.session() as session:
            session.execute(update(Job).where(Job.id == job_a["id"]).values(updated_at=stamp))
    for api, skill in ((api_a, "Python"), (api_b, "Java")):
        person = await api.create_candidate("acme", skills=["Python", "Java"])
        response = await api.get(f"/v1/candidates/{person['id']}/matches", "acme")
        assert response.status_code == 200, response.text
        (match,) = [m for m in response.json()["matches"] if m["id"] == job_a["id"]]
        assert match["matched_skills"] == [skill]
        assert match["job"]["required_skills"] == [skill]
