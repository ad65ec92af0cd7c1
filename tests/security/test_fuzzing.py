"""Property-based fuzzing of every endpoint in the OpenAPI schema (schemathesis +
hypothesis) against a real server over HTTP: whatever the input, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from core.settings import Settings
from representation.encoders import HashingEncoder
from store.db import Database
from store.keys import create_key
from tests.conftest import start_server

EXAMPLES_PER_OPERATION = 20
schema = schemathesis.openapi.from_dict(create_app(Settings(environment="test")).openapi())


@dataclass(frozen=True)
class LiveServer:
    url: str
    key: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    config = Settings(
        environment="test", data_dir=data_dir,
        auth={"rate_limits_per_minute": {}},  # fuzzing is not an attack on the limiter
        search={"embedded": {"checkpoint_interval_s": 0.0}},
    )  # fmt: skip
    db = Database(config)
    with db.session() as session:
        key = create_key(session, tenant_id="fuzz", role="admin",
                         pepper=config.auth.key_pepper.get_secret_value())  # fmt: skip
    db.dispose()
    url, server, thread = start_server(create_app(config, encoder=HashingEncoder()))
    # Something to point ids at: a posting and a candidate.
    auth = {"Authorization": f"Bearer {key}"}
    httpx.post(
        f"{url}/v1/jobs", json={"title": "Python后端开发工程师"}, headers=auth
    ).raise_for_status()
    httpx.post(f"{url}/v1/candidates", json={"name": "张伟", "skills": ["Python"]},
               headers=auth).raise_for_status()  # fmt: skip
    yield LiveServer(url, key)
    server.should_exit = True
    thread.join(timeout=10)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_no_input_makes_the_server_fail(case: schemathesis.Case, live_server: LiveServer) -> None:
    response = case.call(
        base_url=live_server.url, headers={"Authorization": f"Bearer {live_server.key}"}
    )
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
