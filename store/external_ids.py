"""A tenant's own identifiers for its records (``external_id``): the key of idempotent upserts."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Conflict
from store.models import Candidate, Job

Record = TypeVar("Record", Job, Candidate)


def find_by_external_id(
    session: Session, model: type[Record], *, tenant_id: str, external_id: str | None
) -> Record | None:
    """The tenant's record with this external id, if any."""
    if not external_id:
        return None
    return session.scalar(
        select(model).where(model.tenant_id == tenant_id, model.external_id == external_id)
    )


def find_by_external_ids(
    session: Session, model: type[Record], *, tenant_id: str, external_ids: list[str]
) -> dict[str, Record]:
    """The tenant's records with these external ids, by external id."""
    found: dict[str, Record] = {}
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        for row in session.scalars(
            select(model).where(model.tenant_id == tenant_id, model.external_id.in_(chunk))
        ):
            found[row.external_id or ""] = row
    return found


def ensure_external_id_free(session: Session, record: Record, external_id: str | None) -> None:
    """Refuse to give ``record`` an external id another record of its tenant already has."""
    if not external_id or external_id == record.external_id:
        return
    clash = find_by_external_id(
        session, type(record), tenant_id=record.tenant_id, external_id=external_id
    )
    if clash is not None:
        raise Conflict(
            f"external_id already used by {type(record).__name__.lower()} {clash.id}",
            details=[{"field": "external_id", "message": "already used"}],
        )
