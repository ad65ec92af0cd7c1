"""FastAPI dependencies and their ``*Dep`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.runtime import Runtime
from core.errors import Unauthorized
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


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("missing bearer API key (Authorization: Bearer <key>)")
    with runtime.db.session() as session:
        return authenticate(
            session, credentials, pepper=runtime.settings.auth.key_pepper.get_secret_value()
        )


PrincipalDep = Annotated[Principal, Depends(get_principal)]
