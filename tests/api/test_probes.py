"""/livez and /readyz: no key needed; readiness is 503 with the failing check named while the
index catches up, while Redis or the database does not answer, or while the backlog is too
large, and 200 again once the cause is gone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine, make_url, text

from core.encoder import Encoder
from core.settings import Settings
from ingestion.sample_data import generate_jobs
from store.db import Database
from store.jobs import upsert_jobs
from store.keys import create_key
from tests.conftest import POSTGRES_URL, Api, free_port

pytestmark = pytest.mark.anyio


class SlowEncoder:
    """The real encoder at a fixed cost per text, so a start-up backlog takes seconds."""

    def __init__(self, inner: Encoder, seconds_per_text: float) -> None:
        self.inner, self.seconds_per_text = inner, seconds_per_text
        self.model_id, self.dim = inner.model_id, inner.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.seconds_per_text * len(texts))
        return self.inner.encode(texts)


@asynccontextmanager
async def client_for(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_probes_answer_without_a_key_and_say_ready(api: Api) -> None:
    await api.create_job("acme")
    live = await api.client.get("/livez")
    assert live.status_code == 200
    assert live.json() == {"status": "alive"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    checks = body["checks"]
    assert set(checks) == {
        "database", "index.job", "index.candidate", "index_caught_up", "outbox_backlog",
    }  # fmt: skip
    assert all(check["ok"] for check in checks.values())
    assert checks["index.job"]["detail"] == "1 documents"
    assert body["outbox_backlog"] == 0
    # Nothing personal, and no tenant's data: a probe answers anyone.
    assert "acme" not in ready.text and "深圳市测试科技有限公司" not in ready.text
    # The old endpoint keeps working beside the new ones.
    assert (await api.client.get("/healthz")).status_code == 200


async def test_readyz_is_503_while_the_index_catches_up_with_a_backlog(
    settings: Settings, use_encoder: Encoder, app_factory: Callable[..., Any]
) -> None:
    backlog = 30
    quick_start = settings.model_copy(
        update={
            "search": settings.search.model_copy(update={"startup_wait_s": 0.0}),
            "readiness_max_backlog": 10,
        }
    )
    db = Database(quick_start)
    try:
        with db.session() as session:
            create_key(session, tenant_id="acme", role="agency",
                       pepper=quick_start.auth.key_pepper.get_secret_value())  # fmt: skip
            upsert_jobs(session, tenant_id="acme",
                        records=[r.fields for r in generate_jobs(backlog, seed=5)])  # fmt: skip
    finally:
        db.dispose()
    # Two texts a posting at 40 ms each: the backlog takes a couple of seconds.
    app = app_factory(settings=quick_start, encoder=SlowEncoder(use_encoder, 0.04))
    async with client_for(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503, ready.text
        body = ready.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["index_caught_up"] == {
            "ok": False, "detail": "catching up after the start",
        }  # fmt: skip
        assert body["checks"]["database"]["ok"] is True
        assert body["outbox_backlog"] > 10
        assert body["checks"]["outbox_backlog"]["ok"] is False
        assert "not ready above 10" in body["checks"]["outbox_backlog"]["detail"]
        # Alive all along: a restart would only start the catching up again.
        assert (await client.get("/livez")).status_code == 200
        for _ in range(300):
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["index.job"]["detail"] == f"{backlog} documents"
        assert ready.json()["outbox_backlog"] == 0


async def test_readyz_is_503_when_redis_does_not_answer(
    settings: Settings, app_factory: Callable[..., Any]
) -> None:
    # A port nothing listens on: connection refused, as when Redis is down.
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with client_for(app_factory(settings=no_redis)) as client:
        began = time.monotonic()
        ready = await client.get("/readyz")
        assert time.monotonic() - began < 5.0
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["redis"]["ok"] is False
        assert "ConnectionError" in checks["redis"]["detail"]
        assert "Traceback" not in ready.text
        assert checks["database"]["ok"] is True
        assert (await client.get("/livez")).status_code == 200


async def test_readyz_is_503_while_the_database_refuses_connections(
    api: Api, database_url: str | None
) -> None:
    if database_url is None or POSTGRES_URL is None:
        pytest.skip("needs PostgreSQL: an SQLite file cannot be made to refuse a SELECT 1")
    name = make_url(database_url).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": name},
            )  # fmt: skip
        try:
            ready = await api.client.get("/readyz")
            assert ready.status_code == 503, ready.text
            database = ready.json()["checks"]["database"]
            assert database["ok"] is False
            assert database["detail"] == "OperationalError"
            assert ready.json()["outbox_backlog"] is None
            assert ready.json()["checks"]["outbox_backlog"]["ok"] is False
            assert name not in ready.text  # no connection details to anonymous callers
            assert (await api.client.get("/livez")).status_code == 200
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        ready = await api.client.get("/readyz")
        assert ready.status_code == 200, ready.text
    finally:
        admin.dispose()
