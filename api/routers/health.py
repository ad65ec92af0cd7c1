"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RuntimeDep
from api.schemas import Health
from store.outbox import backlog

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(runtime: RuntimeDep) -> Health:
    """200 once the service has started and the database answers; ``index`` says whether
    the search index has caught up with the database since the start."""
    with runtime.db.session() as session:
        pending = backlog(session)
    return Health(
        status="ok",
        index=runtime.index_state,
        jobs_indexed=runtime.jobs_index.count(),
        candidates_indexed=runtime.candidates_index.count(),
        outbox_backlog=pending,
        embedding_model=runtime.encoder.model_id,
    )
