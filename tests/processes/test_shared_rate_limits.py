"""Request limits and the failed-authentication throttle hold across API processes: two real
``talentmatch serve`` processes over one database and one Redis spend one allowance
together, not one each. Without Redis reachable the API keeps serving (fail open)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api.app import create_app
from core.settings import Settings
from representation.encoders import HashingEncoder
from store.db import Database
from tests.conftest import Api, free_port
from tests.test_cli import cli_env

pytestmark = pytest.mark.anyio
REDIS_URL = os.environ.get("TALENTMATCH_TEST_REDIS_URL")
# .ci/run sets TALENTMATCH_REQUIRE_REDIS: there a missing Redis fails these tests.
needs_redis = pytest.mark.skipif(
    REDIS_URL is None and os.environ.get("TALENTMATCH_REQUIRE_REDIS") != "1",
    reason="needs Redis (TALENTMATCH_TEST_REDIS_URL; .ci/run and scripts/test.sh start one)",
)


def _settings(tmp_path: Path, name: str, database_url: str | None, **changes: object) -> Settings:
    """One API process's settings: its own data dir (the embedded index is one process's),
    the shared database, a small agency limit (a burst of 5 per 10 s)."""
    shared_db = database_url or f"sqlite:///{tmp_path / 'shared.db'}"
    return Settings(
        environment="test", data_dir=tmp_path / name, db={"url": shared_db},
        auth={"rate_limits_per_minute": {"agency": 30}}, **changes,
    )  # fmt: skip


def _serve(settings: Settings, shared_db: str, port: int) -> subprocess.Popen[str]:
    """``talentmatch serve`` as its own process: its own data dir, the shared database and
    Redis, a small agency limit (a burst of 5 per 10 s)."""
    env = cli_env(settings.data_dir)
    env.update({
        "TALENTMATCH_DB__URL": shared_db,
        "TALENTMATCH_REDIS_URL": str(REDIS_URL),
        "TALENTMATCH_AUTH__RATE_LIMITS_PER_MINUTE": json.dumps({"agency": 30}),
    })  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture
def two_servers(tmp_path: Path, database_url: str | None) -> Iterator[tuple[list[str], Api]]:
    """Two API server processes sharing the database and Redis; and a key minter."""
    assert REDIS_URL is not None
    shared = redis.Redis.from_url(REDIS_URL)
    # Earlier tests' failures from 127.0.0.1 would count against this one.
    for key in shared.scan_iter("talentmatch*"):
        shared.delete(key)
    shared.close()
    shared_db = database_url or f"sqlite:///{tmp_path / 'shared.db'}"
    settings = _settings(tmp_path, "one", database_url)
    Database(settings).dispose()  # the schema, before two servers race to create it
    ports = [free_port(), free_port()]
    servers = [
        _serve(_settings(tmp_path, name, database_url), shared_db, port)
        for name, port in zip(("one", "two"), ports, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert server.poll() is None, server.communicate()[1]
        yield urls, Api(httpx.AsyncClient(), settings)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.communicate(timeout=60)


def _wrong_secret(key: str) -> str:
    prefix, key_id, _ = key.split("_", 2)
    return f"{prefix}_{key_id}_{secrets.token_urlsafe(32)}"


@needs_redis
async def test_a_key_spends_one_allowance_across_two_servers(
    two_servers: tuple[list[str], Api],
) -> None:
    urls, api = two_servers
    key = api.key("acme")
    statuses = []
    async with httpx.AsyncClient() as client:
        for n in range(10):
            response = await client.get(
                f"{urls[n % 2]}/v1/jobs", headers={"Authorization": f"Bearer {key}"}
            )
            statuses.append(response.status_code)
    # Five each would pass if each server counted alone.
    assert statuses == [200] * 5 + [429] * 5
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 10


@needs_redis
async def test_failed_authentications_are_counted_across_two_servers(
    two_servers: tuple[list[str], Api],
) -> None:
    urls, api = two_servers
    key = api.key("acme")
    statuses = []
    async with httpx.AsyncClient() as client:
        for n in range(14):
            wrong = {"Authorization": f"Bearer {_wrong_secret(key)}"}
            statuses.append((await client.get(f"{urls[n % 2]}/v1/jobs", headers=wrong)).status_code)
        # Ten wrong secrets per minute for a key id, counted by both servers together.
        assert statuses == [401] * 10 + [429] * 4
        # Six more unknown keys from this address make twenty failures across both servers:
        # the address is then refused by either, even with the right key.
        for n in range(6):
            unknown = {
                "Authorization": f"Bearer tm_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
            }
            assert (await client.get(f"{urls[n % 2]}/v1/jobs", headers=unknown)).status_code == 401
        for url in urls:
            refused = await client.get(f"{url}/v1/jobs", headers={"Authorization": f"Bearer {key}"})
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"


async def test_the_api_keeps_serving_when_redis_is_unreachable(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = _settings(tmp_path, "one", database_url, redis_url=down)
    app = create_app(settings, encoder=HashingEncoder(64))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            key = api.key("acme")
            with caplog.at_level(logging.WARNING, logger="api.rate_limit"):
                for _ in range(3):
                    assert (await api.get("/v1/jobs", "acme")).status_code == 200
                wrong = {"Authorization": f"Bearer {_wrong_secret(key)}"}
                assert (await client.get("/v1/jobs", headers=wrong)).status_code == 401
    warnings = [r.getMessage() for r in caplog.records if r.name == "api.rate_limit"]
    assert warnings == ["rate limit store unavailable, serving without limits: ConnectionError"]
