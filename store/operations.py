"""Aggregate numbers about the service's own state for probes and metrics: counts only,
never a row's content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.domain import EntityKind
from store.models import IngestJob, OutboxEvent


@dataclass(frozen=True)
class OutboxState:
    """Events not yet applied to the search index, and when the oldest of them was written."""

    pending: int
    oldest_pending_at: datetime | None


def database_answers(session: Session) -> None:
    """A round trip to the database (raises when it cannot be reached)."""
    session.execute(text("SELECT 1"))


def outbox_state(session: Session) -> OutboxState:
    """The indexing backlog: how many events wait, and since when."""
    pending, oldest = session.execute(
        select(func.count(OutboxEvent.id), func.min(OutboxEvent.created_at)).where(
            OutboxEvent.applied.is_(False)
        )
    ).one()
    return OutboxState(pending=int(pending), oldest_pending_at=oldest)


def ingest_record_totals(session: Session) -> dict[tuple[str, str], int]:
    """Records that bulk loads accepted and rejected so far, by entity:
    ``{("job", "accepted"): 120, ("job", "rejected"): 3, ...}``."""
    # Zeros before the first load, so a rate over the counters exists from the start.
    totals = {
        (kind.value, outcome): 0 for kind in EntityKind for outcome in ("accepted", "rejected")
    }
    rows = session.execute(
        select(IngestJob.entity, func.sum(IngestJob.succeeded), func.sum(IngestJob.failed))
        .group_by(IngestJob.entity)
    )  # fmt: skip
    for entity, accepted, rejected in rows:
        totals[(entity, "accepted")] = int(accepted or 0)
        totals[(entity, "rejected")] = int(rejected or 0)
    return totals
