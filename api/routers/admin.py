"""/v1/admin: the operator's key management, tenants' compliance policy and the review queue
of postings flagged for discriminatory requirements (scope ``admin``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api.deps import Admin, LanguageDep, RuntimeDep, SessionDep
from api.schemas import (
    KeyCreate,
    KeyCreated,
    KeyRead,
    PathId,
    QueueItem,
    QueuePage,
    ReviewCreate,
    TenantRead,
    TenantUpdate,
)
from api.views import compliance_view
from core.errors import NotFound
from store import compliance, keys

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


@router.get("/tenants/{tenant_id}", response_model=TenantRead)
def get_tenant(tenant_id: str, _admin: Admin, session: SessionDep) -> TenantRead:
    tenant = compliance.get_tenant(session, tenant_id)
    return TenantRead.model_validate(
        {"id": tenant.id, "name": tenant.name, "compliance_policy": tenant.compliance_policy}
    )


@router.patch("/tenants/{tenant_id}", response_model=TenantRead)
def update_tenant(
    tenant_id: str, body: TenantUpdate, _admin: Admin, session: SessionDep
) -> TenantRead:
    """Set the tenant's compliance policy: ``warn`` (postings with unlawful requirements are
    stored and flagged) or ``block`` (refused with 422 ``noncompliant_posting``)."""
    tenant = compliance.set_compliance_policy(session, tenant_id, body.compliance_policy)
    return TenantRead.model_validate(
        {"id": tenant.id, "name": tenant.name, "compliance_policy": tenant.compliance_policy}
    )


@router.get("/compliance", response_model=QueuePage)
def compliance_queue(
    admin: Admin,
    session: SessionDep,
    language: LanguageDep,
    level: Literal["unlawful", "advisory"] | None = Query(None, description="posting status"),
    review: Literal["pending", "reviewed"] | None = Query(
        None, alias="status", description="pending: a flag not yet reviewed"
    ),
    tenant: str | None = Query(None, description="one agency's postings"),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(50, ge=1, le=200),
) -> QueuePage:
    """Flagged postings of every tenant with their agency, most recently changed first."""
    rows, total = compliance.review_queue(session, level=level, review=review, tenant_id=tenant,
                                          offset=(page - 1) * page_size, limit=page_size)  # fmt: skip
    items = []
    for job, owner in rows:
        shown = compliance_view(job, admin, language)
        assert shown is not None
        items.append(QueueItem(job_id=job.id, tenant_id=owner.id, tenant_name=owner.name,
                               title=job.title, status=shown.status, flags=shown.flags,
                               updated_at=job.updated_at))  # fmt: skip
    return QueuePage(items=items, total=total, page=page, page_size=page_size)


@router.post("/compliance/{job_id}/flags/{index}/review", response_model=QueueItem)
def review_flag(
    job_id: PathId, index: int, body: ReviewCreate, admin: Admin, session: SessionDep,
    language: LanguageDep,
) -> QueueItem:  # fmt: skip
    """Mark one flag confirmed or a false positive (audited); a false positive no longer
    counts towards the posting's status (a fair shows it again if nothing else is unlawful)."""
    job = compliance.review_flag(session, job_id=job_id, index=index, decision=body.decision,
                                 note=body.note, key_id=admin.key_id)  # fmt: skip
    owner = compliance.get_tenant(session, job.tenant_id)
    shown = compliance_view(job, admin, language)
    assert shown is not None
    return QueueItem(job_id=job.id, tenant_id=owner.id, tenant_name=owner.name, title=job.title,
                     status=shown.status, flags=shown.flags, updated_at=job.updated_at)  # fmt: skip
