"""FastAPI dependencies and their ``*Dep`` aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.runtime import Runtime
from core.errors import InsufficientScope, OriginNotAllowed, Unauthorized
from store.keys import Principal, authenticate


def get_runtime(request: Request) -> Runtime:
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


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The caller behind the bearer key: valid, unexpired, unrevoked, from an allowed page
    origin (browser keys), and within its rate limit."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("missing bearer API key (Authorization: Bearer <key>)")
    with runtime.db.session() as session:
        principal = authenticate(
            session, credentials, pepper=runtime.settings.auth.key_pepper.get_secret_value()
        )
    if principal.origins:
        # A browser key works only from its pages. Browsers send Origin on every cross-origin
        # request and on same-origin POSTs; a same-origin GET (a page served by this host,
        # like /widget/demo) carries only a Referer, whose origin then counts.
        origin = request.headers.get("origin") or _origin_of(request.headers.get("referer"))
        if origin.rstrip("/").lower() not in principal.origins:
            raise OriginNotAllowed(f"this key may not be used from origin {origin or '(none)'}")
    client = request.client.host if request.client else "unknown"
    runtime.rate_limiter.check(principal.role, principal.key_id, client)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*scopes: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller, who must hold every one of ``scopes``."""

    def check(principal: PrincipalDep) -> Principal:
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
