"""The transactional outbox: every write to a posting or candidate adds an event in the same
transaction, so the search index can never silently miss a change."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from core.domain import EntityKind
from store.models import IndexPurge, InstanceMeta, OutboxEvent, utcnow


def record_change(session: Session, entity: EntityKind, entity_id: int) -> None:
    """Announce that an entity changed (created, updated or deleted)."""
    session.add(OutboxEvent(entity=entity.value, entity_id=entity_id))


def claim_pending(session: Session, *, limit: int) -> list[OutboxEvent]:
    """Events not yet applied to the index, oldest first, held by this transaction until it
    ends. On PostgreSQL the rows stay locked (``FOR UPDATE SKIP LOCKED``): a concurrent
    consumer skips them and claims the next ones, so no two consumers apply one event, and
    none waits on another. SQLite has one writer at a time, which serializes consumers."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.applied.is_(False))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


# Advisory lock namespaces (the first of PostgreSQL's two int4 keys) of entities being indexed.
_ENTITY_LOCK_SPACE = {EntityKind.JOB: 74152631, EntityKind.CANDIDATE: 74152632}


def lock_entities(
    session: Session, entities: Iterable[tuple[EntityKind, int]]
) -> set[tuple[EntityKind, int]]:
    """The entities this transaction may index now: on PostgreSQL, those whose advisory lock
    it could take (held until it ends); another consumer indexing the others may have read
    an older row, and applying a newer event before it finishes would let it overwrite the
    index with that older row. Events of the entities left out stay pending. SQLite: all."""
    wanted = set(entities)
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return wanted
    spaces = {space: kind for kind, space in _ENTITY_LOCK_SPACE.items()}
    ordered = sorted(wanted, key=lambda item: (item[0].value, item[1]))
    rows = session.execute(
        text(
            "SELECT space, id FROM unnest(CAST(:spaces AS int[]), CAST(:ids AS int[]))"
            " AS wanted(space, id) WHERE pg_try_advisory_xact_lock(space, id)"
        ),
        {"spaces": [_ENTITY_LOCK_SPACE[kind] for kind, _ in ordered],
         "ids": [entity_id for _, entity_id in ordered]},
    )  # fmt: skip
    return {(spaces[space], entity_id) for space, entity_id in rows}


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
