"""Trained ranker models per tenant (stored as their fields), and which one is active."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.models import RankerModelRow


def active_model_fields(session: Session, tenant_id: str) -> dict[str, Any] | None:
    """The stored fields of the tenant's active model (``RankerModel.from_dict`` reads them)."""
    row = session.scalar(
        select(RankerModelRow).where(
            RankerModelRow.tenant_id == tenant_id, RankerModelRow.active.is_(True)
        )
    )
    return row.model if row is not None else None


def next_version(session: Session, tenant_id: str) -> str:
    count = session.scalar(
        select(func.count())
        .select_from(RankerModelRow)
        .where(RankerModelRow.tenant_id == tenant_id)
    )
    return f"{tenant_id}-{int(count or 0) + 1}"


def save_model(
    session: Session,
    tenant_id: str,
    model: dict[str, Any],
    evaluation: dict[str, Any],
    *,
    activate: bool,
) -> RankerModelRow:
    """Keep every trained model (for audit), active or not; activating one retires the last."""
    if activate:
        session.execute(
            update(RankerModelRow).where(RankerModelRow.tenant_id == tenant_id).values(active=False)
        )
    row = RankerModelRow(
        version=model["version"], tenant_id=tenant_id, model=model,
        evaluation=evaluation, active=activate,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def list_models(session: Session, tenant_id: str) -> list[RankerModelRow]:
    return list(
        session.scalars(
            select(RankerModelRow)
            .where(RankerModelRow.tenant_id == tenant_id)
            .order_by(RankerModelRow.created_at)
        )
    )
