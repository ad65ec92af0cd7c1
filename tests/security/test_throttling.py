"""Failed authentications are throttled per client address and per key id (without letting
anyone lock a client out), and forwarded client addresses count only from trusted proxies,
checked on a real uvicorn server configured the way ``talentmatch serve`` configures it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from cli.main import uvicorn_options
from core.encoder import Encoder
from core.settings import Settings
from store.db import Database
from store.keys import create_key
from tests.conftest import Api, free_port, start_server

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def wrong_secret(key: str) -> str:
    """The same key id with another secret."""
    prefix, key_id, _ = key.split("_", 2)
    return f"{prefix}_{key_id}_{secrets.token_urlsafe(32)}"


def client_from(api: Api, address: str) -> httpx.AsyncClient:
    """A client of the same app whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- 20: failed authentications ----------------------------------------------------------------


async def test_wrong_secrets_for_one_key_are_throttled_without_locking_its_owner_out(
    api: Api,
) -> None:
    key = api.key("acme")
    statuses = []
    for _ in range(14):
        response = await api.client.get("/v1/jobs", headers=bearer(wrong_secret(key)))
        statuses.append(response.status_code)
    # Ten wrong secrets per minute for a key id, then 429 with Retry-After.
    assert statuses == [401] * 10 + [429] * 4
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    # The guessing address gets no answer about the right secret either...
    right_from_guesser = await api.client.get("/v1/jobs", headers=bearer(key))
    assert right_from_guesser.status_code == 429
    # ...but the key's holder, elsewhere, keeps working, however long the guessing goes on.
    async with client_from(api, "10.0.0.7") as owner:
        for _ in range(3):
            assert (await owner.get("/v1/jobs", headers=bearer(key))).status_code == 200
            await api.client.get("/v1/jobs", headers=bearer(wrong_secret(key)))
        # A wrong secret from the owner's address is refused too (the key id is throttled).
        assert (await owner.get("/v1/jobs", headers=bearer(wrong_secret(key)))).status_code == 429


async def test_an_address_that_keeps_failing_is_refused_even_with_a_valid_key(api: Api) -> None:
    key = api.key("acme")
    statuses = []
    for _ in range(20):
        # Unknown key ids, each once: only the per-address count grows.
        response = await api.client.get("/v1/jobs", headers=bearer(api_like_key()))
        statuses.append(response.status_code)
    assert statuses == [401] * 20
    throttled = await api.client.get("/v1/jobs", headers=bearer(api_like_key()))
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # Until the minute is over this address is refused whatever it sends...
    assert (await api.client.get("/v1/jobs", headers=bearer(key))).status_code == 429
    assert (await api.client.get("/v1/jobs")).status_code == 429
    # ...while other addresses, with the same key, are not.
    async with client_from(api, "10.0.0.8") as other:
        assert (await other.get("/v1/jobs", headers=bearer(key))).status_code == 200
        assert (await other.get("/v1/jobs", headers=bearer(api_like_key()))).status_code == 401


def api_like_key() -> str:
    """A well-formed key no one was given."""
    return f"tm_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


async def test_successes_do_not_count_as_failures(api: Api) -> None:
    key = api.key("acme")
    for _ in range(40):
        assert (await api.client.get("/v1/jobs", headers=bearer(key))).status_code == 200


# --- 21: forwarded addresses only from trusted proxies -----------------------------------------


async def _visitor_statuses(app: Any, key: str, peer: str, forwarded: list[str]) -> list[int]:
    """Browser-key searches through an ASGI server that passes headers on untouched, each
    with the next X-Forwarded-For value."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for value in forwarded:
            response = await client.post(
                "/v1/search/jobs", json={"query": "Python"},
                headers=bearer(key, Origin=SITE, **{"X-Forwarded-For": value}),
            )  # fmt: skip
            statuses.append(response.status_code)
    return statuses


async def test_the_app_reads_forwarded_addresses_only_from_trusted_proxies(
    settings: Settings, app_factory: Any
) -> None:
    trusting = settings.model_copy(
        update={
            "trusted_proxies": ["10.1.0.0/16"],
            "auth": settings.auth.model_copy(update={"rate_limits_per_minute": {"public": 30}}),
        }
    )
    app = app_factory(settings=trusting)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, trusting, app)
            api.key("szu", "fair")
            created = await client.post(
                "/v1/fairs", headers=api.auth("szu"),
                json={"id": "szu-2026-autumn", "name": "深大秋招", "apply_url": f"{SITE}/apply"},
            )  # fmt: skip
            assert created.status_code == 201, created.text
        key = api.new_key("szu", "public", fair_id="szu-2026-autumn", origins=[SITE])
        rotating = [f"203.0.113.{n}" for n in range(1, 9)]
        # From a peer that is no trusted proxy the header is the caller's own claim.
        untrusted = await _visitor_statuses(app, key, "198.51.100.7", rotating)
        assert untrusted[:5] == [200] * 5 and untrusted[-1] == 429
        # From a trusted proxy each forwarded visitor is counted apart; the address a
        # client put in front of the chain does not count, the one the proxy saw does.
        behind_proxy = await _visitor_statuses(
            app, key, "10.1.2.3", [f"6.6.6.6, {address}" for address in rotating]
        )
        assert behind_proxy == [200] * 8
        same_visitor = await _visitor_statuses(
            app, key, "10.1.2.3", [f"{address}, 192.0.2.50" for address in rotating]
        )
        assert same_visitor[:5] == [200] * 5 and same_visitor[-1] == 429


def serve_like_the_cli(settings: Settings, encoder: Encoder) -> Iterator[str]:
    """The app on a real uvicorn server with the options ``talentmatch serve`` uses."""
    port = free_port()
    options = {**uvicorn_options(settings, host="127.0.0.1", port=port), "log_level": "warning"}
    url, server, thread = start_server(create_app(settings, encoder=encoder), options)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _fair_and_browser_key(settings: Settings, url: str) -> str:
    pepper = settings.auth.key_pepper.get_secret_value()
    db = Database(settings)
    try:
        with db.session() as session:
            fair_key = create_key(session, tenant_id="szu", role="fair", pepper=pepper)
    finally:
        db.dispose()
    created = httpx.post(
        f"{url}/v1/fairs", headers=bearer(fair_key),
        json={"id": "szu-2026-autumn", "name": "深大秋招", "apply_url": "https://jobs.szu.edu.cn/apply"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    db = Database(settings)
    try:
        with db.session() as session:
            return create_key(
                session, tenant_id="szu", role="public", pepper=pepper,
                fair_id="szu-2026-autumn", origins=[SITE],
            )  # fmt: skip
    finally:
        db.dispose()


@pytest.mark.parametrize("trusted", [[], ["127.0.0.1"]], ids=["no-proxy-trusted", "local-proxy"])
def test_forwarded_addresses_count_only_from_trusted_proxies(
    settings: Settings, use_encoder: Encoder, trusted: list[str]
) -> None:
    limited = settings.model_copy(
        update={
            "trusted_proxies": trusted,
            # 30 a minute per visitor: a burst of 5, then one every 2 s.
            "auth": settings.auth.model_copy(update={"rate_limits_per_minute": {"public": 30}}),
        }
    )
    servers = serve_like_the_cli(limited, use_encoder)
    url = next(servers)
    try:
        browser_key = _fair_and_browser_key(limited, url)
        statuses: list[Any] = []
        for n in range(12):
            response = httpx.post(
                f"{url}/v1/search/jobs", json={"query": "Python"},
                headers=bearer(browser_key, Origin=SITE, **{"X-Forwarded-For": f"203.0.113.{n + 1}"}),
            )  # fmt: skip
            statuses.append(response.status_code)
        if trusted:
            # Behind a proxy this server trusts, each forwarded address is its own visitor.
            assert statuses == [200] * 12
        else:
            # A header anyone can set does not make a new visitor.
            assert statuses[:5] == [200] * 5 and statuses[-1] == 429
    finally:
        next(servers, None)
