"""Liveness, readiness, health and metrics: no API key on the probes, and nothing
personal in any of them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from api.deps import RuntimeDep, require
from api.readiness import check_readiness
from api.schemas import Health
from api.schemas.health import Liveness, Readiness
from core.settings import Settings
from store.outbox import backlog

router = APIRouter(tags=["health"])


@router.get("/livez", response_model=Liveness)
async def livez() -> Liveness:
    """200 while the process serves requests; it checks no dependency, so a database outage
    does not get every replica restarted."""
    return Liveness(status="alive")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(runtime: RuntimeDep, response: Response) -> Readiness:
    """200 when every check passes, else 503; the body lists each check and why it failed."""
    readiness = check_readiness(runtime)
    if readiness.status != "ready":
        response.status_code = 503
    return readiness


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


def metrics_router(settings: Settings) -> APIRouter:
    """``GET /metrics``: open when ``metrics_public`` (scrapers on an internal network),
    else for admin keys only."""
    dependencies = [] if settings.metrics_public else [Depends(require("admin"))]
    metrics = APIRouter(tags=["health"], dependencies=dependencies)

    @metrics.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    )
    def prometheus_metrics(request: Request, runtime: RuntimeDep) -> Response:
        """Prometheus metrics in the text exposition format."""
        body = request.app.state.metrics.render(runtime)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return metrics
