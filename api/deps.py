"""FastAPI dependencies and their ``*Dep`` aliases."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterator
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.runtime import Runtime
from core.errors import InsufficientScope, OriginNotAllowed, Unauthorized
from matching.explain import preferred_language
from store.keys import Principal, authenticate


# ``async`` although nothing here waits: FastAPI runs a plain ``def`` dependency in the
# thread pool, a hop per request for an attribute read.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A transaction per request: committed after the route returns, rolled back on error."""
    with runtime.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _origin_of(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_KEY_ID = re.compile(r"tm_([a-z0-9]{12})_")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(host: str, trusted: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in _networks(trusted))


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The client address that rate limits and throttles count. ``talentmatch serve`` lets
    uvicorn resolve X-Forwarded-For from trusted proxies only; behind another server the
    header is read here, and likewise only when the peer is a trusted proxy (rightmost
    address a trusted proxy did not add): from anyone else it is the caller's own claim."""
    peer = request.client.host if request.client else "unknown"
    trusted = tuple(trusted_proxies)
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not _is_trusted(hop, trusted):
            return hop
    return peer


# Declares the bearer scheme in the OpenAPI document (so the interactive docs can send a
# key); it never refuses a request itself: get_principal reads the header and decides.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth", auto_error=False, description="an API key: tm_<key id>_<secret>"
)


def get_principal(
    request: Request,
    runtime: RuntimeDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> Principal:
    """The caller behind the bearer key: valid, unexpired, unrevoked, from an allowed page
    origin (browser keys), within its rate limit, and not from an address (or for a key
    id) that failed to authenticate too often."""
    client = client_address(request, runtime.settings.trusted_proxies)
    runtime.auth_throttle.check_address(client)
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("missing bearer API key (Authorization: Bearer <key>)")
    try:
        with runtime.db.session() as session:
            principal = authenticate(
                session, credentials, pepper=runtime.settings.auth.key_pepper.get_secret_value()
            )
    except Unauthorized:
        named = _KEY_ID.match(credentials.strip())
        runtime.auth_throttle.failed(client, named.group(1) if named else None)
        raise
    runtime.auth_throttle.succeeded(client, principal.key_id)
    # The request log names the tenant and key id (never the secret) of every line after this.
    request.state.principal = principal
    if principal.origins:
        # A browser key works only from its pages. Browsers send Origin on every cross-origin
        # request and on same-origin POSTs; a same-origin GET (a page served by this host,
        # like /widget/demo) carries only a Referer, whose origin then counts.
        origin = request.headers.get("origin") or _origin_of(request.headers.get("referer"))
        if origin.rstrip("/").lower() not in principal.origins:
            raise OriginNotAllowed(f"this key may not be used from origin {origin or '(none)'}")
    runtime.rate_limiter.check(principal.role, principal.key_id, client)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, who must hold every one of ``scopes``."""

    async def check(principal: PrincipalDep) -> Principal:  # async: no thread-pool hop
        missing = [s for s in scopes if not principal.can(s)]
        if missing:
            raise InsufficientScope(
                f"this key lacks the scope {', '.join(missing)}",
                details=[{"field": "scope", "message": s} for s in missing],
            )
        return principal

    return check


def refuse_browser_keys(principal: Principal) -> None:
    """Endpoints a fair's public key has no business with, whatever its scopes."""
    if principal.role == "public":
        raise InsufficientScope("public keys can only search and read their fair's postings")


def refuse_partner_bulk(principal: Principal) -> None:
    """Partner apps create profiles one at a time, each with the person's consent."""
    if principal.role == "partner":
        raise InsufficientScope(
            "partner apps create profiles with POST /v1/candidates and the person's consent"
        )


JobsRead = Annotated[Principal, Depends(require("jobs:read"))]
JobsWrite = Annotated[Principal, Depends(require("jobs:write"))]
CandidatesRead = Annotated[Principal, Depends(require("candidates:read"))]
CandidatesWrite = Annotated[Principal, Depends(require("candidates:write"))]
MatchCandidates = Annotated[Principal, Depends(require("match", "candidates:read"))]
MatchJobs = Annotated[Principal, Depends(require("match"))]
FeedbackWrite = Annotated[Principal, Depends(require("feedback:write"))]
FairsWrite = Annotated[Principal, Depends(require("fairs:write"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def request_language(
    accept_language: Annotated[
        str | None, Header(description="zh or en: the language of explanations")
    ] = None,
) -> str:
    """``zh`` or ``en`` for the text a response explains things in (English by default)."""
    return preferred_language(accept_language)


LanguageDep = Annotated[str, Depends(request_language)]
