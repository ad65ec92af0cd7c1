"""/v1/admin: the operator's key management (scope ``admin``)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api.deps import Admin, RuntimeDep, SessionDep
from api.schemas import KeyCreate, KeyCreated, KeyRead
from core.errors import NotFound
from store import keys

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _created(session: Session, full_key: str) -> KeyCreated:
    """A just-made key as the response shows it: its record plus, this once, the key."""
    row = keys.find_key(session, full_key)
    assert row is not None
    return KeyCreated(key=full_key, **KeyRead.model_validate(row).model_dump())


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(
    body: KeyCreate, _admin: Admin, runtime: RuntimeDep, session: SessionDep
) -> KeyCreated:
    """A new key; the response is the only time the full key is shown."""
    full = keys.create_key(
        session, tenant_id=body.tenant, role=body.role,
        pepper=runtime.settings.auth.key_pepper.get_secret_value(), scopes=body.scopes,
        origins=body.origins, fair_id=body.fair, expires_at=body.expires_at,
    )  # fmt: skip
    return _created(session, full)


@router.get("/keys", response_model=list[KeyRead])
def list_keys(
    _admin: Admin, session: SessionDep, tenant: str | None = Query(None)
) -> list[KeyRead]:
    return [KeyRead.model_validate(k) for k in keys.list_keys(session, tenant)]


@router.post("/keys/{key_id}/rotate", response_model=KeyCreated)
def rotate_key(key_id: str, _admin: Admin, runtime: RuntimeDep, session: SessionDep,
               grace_hours: float = Query(0, ge=0, le=24 * 30)) -> KeyCreated:  # fmt: skip
    """A replacement key; the old one stops working now or after ``grace_hours``."""
    full = keys.rotate_key(session, key_id, pepper=runtime.settings.auth.key_pepper.get_secret_value(),
                           grace_hours=grace_hours)  # fmt: skip
    return _created(session, full)


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: str, _admin: Admin, session: SessionDep) -> Response:
    if not keys.revoke_key(session, key_id):
        raise NotFound(f"key {key_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
