"""The transactional outbox: every write to a posting or candidate adds an event in the same
transaction, so the search index can never silently miss a change."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.domain import EntityKind
from store.models import IndexPurge, InstanceMeta, OutboxEvent, utcnow


def record_change(session: Session, entity: EntityKind, entity_id: int) -> None:
    """Announce that an entity changed (created, updated or deleted)."""
    session.add(OutboxEvent(entity=entity.value, entity_id=entity_id))


def pending_events(session: Session, *, limit: int) -> list[OutboxEvent]:
    """Events not yet applied to the index, oldest first."""
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.applied.is_(False))
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
    )


def mark_applied(session: Session, event_ids: list[int]) -> None:
    for start in range(0, len(event_ids), 500):
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(event_ids[start : start + 500]))
            .values(applied=True)
        )


_FORGOTTEN_THROUGH = "outbox_forgotten_through"


def forget_applied(session: Session) -> int:
    """Delete events that a durable index checkpoint now covers, remembering the highest id
    deleted: an index whose checkpoint is older than that cannot be replayed up to date."""
    newest = session.scalar(select(func.max(OutboxEvent.id)).where(OutboxEvent.applied.is_(True)))
    if newest is None:
        return 0
    if newest > forgotten_through(session):
        session.merge(InstanceMeta(name=_FORGOTTEN_THROUGH, value=str(newest)))
    result = session.execute(
        delete(OutboxEvent).where(OutboxEvent.applied.is_(True), OutboxEvent.id <= newest)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forgotten_through(session: Session) -> int:
    """The highest outbox event id ever deleted (0 before the first)."""
    row = session.get(InstanceMeta, _FORGOTTEN_THROUGH)
    return int(row.value) if row is not None else 0


def replay_unsaved(session: Session) -> int:
    """After a restart: events applied to an index state that was never checkpointed must be
    applied again (applying is idempotent)."""
    result = session.execute(
        update(OutboxEvent).where(OutboxEvent.applied.is_(True)).values(applied=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def backlog(session: Session) -> int:
    return len(session.scalars(select(OutboxEvent.id).where(OutboxEvent.applied.is_(False))).all())


def request_index_purge(session: Session, entity: EntityKind) -> None:
    """Ask for the entity's index files to be rewritten (after an erasure), durably."""
    if session.get(IndexPurge, entity.value) is None:
        session.add(IndexPurge(entity=entity.value, requested_at=utcnow()))


def pending_purges(session: Session) -> list[IndexPurge]:
    return list(session.scalars(select(IndexPurge).order_by(IndexPurge.entity)))


def purge_done(session: Session, entity: EntityKind, requested_before: object) -> None:
    """Forget a purge request that a rewrite started after it has covered."""
    session.execute(
        delete(IndexPurge).where(
            IndexPurge.entity == entity.value, IndexPurge.requested_at <= requested_before
        )
    )
