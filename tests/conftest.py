"""Shared fixtures: real SQLite files and real index directories under tmp_path, the real
default encoder (loaded once per session), and an HTTP client over the ASGI app."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, make_url, text

from api.app import create_app
from core.encoder import Encoder
from core.settings import Settings
from representation.encoders import UniversalSentenceEncoder
from store.db import Database
from store.keys import create_key
from store.models import ApiKey, utcnow


def free_port() -> int:
    """A TCP port nothing listens on now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    app: Any, options: dict[str, Any] | None = None
) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve ``app`` with uvicorn on a free local port (or ``options["port"]``) in a thread,
    with any other uvicorn ``options``; returns its base URL once /healthz answers. Stop it
    with ``server.should_exit = True``."""
    options = {"host": "127.0.0.1", "log_level": "warning", **(options or {})}
    port = options.setdefault("port", free_port())
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return url, server, thread


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def use_encoder() -> Encoder:
    """The default multilingual encoder; loading its weights takes seconds, so once."""
    return UniversalSentenceEncoder()


# Where set (``.ci/run`` starts a server), every API test also runs on real PostgreSQL.
POSTGRES_URL = os.environ.get("TALENTMATCH_TEST_POSTGRES_URL")


def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the test server, dropped afterwards."""
    assert POSTGRES_URL is not None
    name = f"tm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", *(["postgres"] if POSTGRES_URL else [])])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None = the embedded SQLite default under the data dir; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    yield from fresh_postgres_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        db={"url": database_url},
        # Checkpoint on every drain in tests that do not test checkpoint timing.
        search={
            "embedded": {"checkpoint_interval_s": 0.0},
            "outbox_poll_interval_s": 0.2,
            "purge_interval_s": 0.0,
            # Tests search right after a start: recovery finishes before the first request.
            "startup_wait_s": 120.0,
        },
    )


class Api:
    """An HTTP client plus helpers to mint keys for tenants."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, app: Any = None) -> None:
        self.client = client
        self.settings = settings
        self.app = app
        self._keys: dict[str, str] = {}

    @property
    def runtime(self) -> Any:
        """The app's runtime (database, encoder, indexes), for tests that drive it directly."""
        return self.app.state.runtime

    def key(self, tenant: str, role: str = "agency") -> str:
        """The tenant's key for the tests (created once, role ``agency`` by default)."""
        if tenant not in self._keys:
            self._keys[tenant] = self.new_key(tenant, role)
        return self._keys[tenant]

    def new_key(self, tenant: str, role: str, **options: Any) -> str:
        """A fresh key with any ``create_key`` options (scopes, origins, fair_id, expires_at)."""
        db = Database(self.settings)
        try:
            with db.session() as session:
                return create_key(
                    session, tenant_id=tenant, role=role,
                    pepper=self.settings.auth.key_pepper.get_secret_value(), **options,
                )  # fmt: skip
        finally:
            db.dispose()

    def expire_key(self, key: str) -> None:
        """Move a key's expiry into the past (waiting for a real expiry would be slow)."""
        db = Database(self.settings)
        try:
            with db.session() as session:
                row = session.get(ApiKey, key.split("_")[1])
                assert row is not None
                row.expires_at = utcnow() - timedelta(seconds=1)
        finally:
            db.dispose()

    def auth(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant)}"}

    async def post(self, url: str, tenant: str, json: Any) -> httpx.Response:
        return await self.client.post(url, json=json, headers=self.auth(tenant))

    async def get(self, url: str, tenant: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, headers=self.auth(tenant), **kwargs)

    async def patch(self, url: str, tenant: str, json: Any) -> httpx.Response:
        return await self.client.patch(url, json=json, headers=self.auth(tenant))

    async def delete(self, url: str, tenant: str) -> httpx.Response:
        return await self.client.delete(url, headers=self.auth(tenant))

    async def create_job(self, tenant: str, **fields: Any) -> dict[str, Any]:
        response = await self.post("/v1/jobs", tenant, job_payload(**fields))
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    async def create_candidate(self, tenant: str, **fields: Any) -> dict[str, Any]:
        response = await self.post("/v1/candidates", tenant, candidate_payload(**fields))
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    async def search_jobs(self, tenant: str, query: str = "", **body: Any) -> dict[str, Any]:
        response = await self.post("/v1/search/jobs", tenant, {"query": query, **body})
        assert response.status_code == 200, response.text
        return dict(response.json())


def job_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Python后端开发工程师",
        "description": "负责后端服务开发，熟悉Python和MySQL。",
        "company": "深圳市测试科技有限公司",
        "city": "深圳",
        "district": "南山",
        "salary_min": 20000,
        "salary_max": 35000,
        "employment_type": "full_time",
        "required_skills": ["Python", "MySQL"],
        "preferred_skills": ["Docker"],
        "min_years_experience": 3,
        "education": "bachelor",
        "language": "zh",
    }
    payload.update(overrides)
    return payload


_PEOPLE = itertools.count(1)


def candidate_payload(**overrides: Any) -> dict[str, Any]:
    """A profile with its own email and phone (the same contacts would merge two profiles)."""
    n = next(_PEOPLE)
    payload: dict[str, Any] = {
        "name": "张伟",
        "email": f"person{n}@example.com",
        "phone": f"138{n:08d}",
        "city": "深圳",
        "desired_titles": ["后端开发工程师"],
        "desired_salary_min": 25000,
        "years_experience": 5,
        "education": {"level": "bachelor", "school": "深圳大学", "major": "计算机科学"},
        "experience": [
            {
                "title": "后端工程师",
                "company": "某科技公司",
                "start": "2020-01",
                "end": "present",
                "description": "Python 微服务开发",
            }
        ],
        "skills": ["Python", "MySQL", "Docker"],
        "languages": ["普通话", "英语"],
        "summary": "五年后端开发经验。",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def app_factory(settings: Settings, use_encoder: Encoder) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        return create_app(
            kwargs.pop("settings", settings), encoder=kwargs.pop("encoder", use_encoder)
        )

    return make


@pytest.fixture
async def api(app_factory: Callable[..., Any], settings: Settings) -> AsyncIterator[Api]:
    app = app_factory()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, settings, app)


@pytest.fixture
def sqlite_only(database_url: str | None) -> Iterator[None]:
    if database_url is not None:
        pytest.skip("SQLite-specific")
    yield
