"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.body_limit import BodySizeLimit
from api.cors import Cors
from api.docs_assets import install_offline_docs
from api.errors import UnhandledErrors, install_error_handlers
from api.metrics import HttpMetrics
from api.request_log import RequestLog
from api.routers import (
    admin,
    bulk,
    candidates,
    fairs,
    feedback,
    files,
    health,
    jobs,
    matches,
    reports,
    search,
    stats,
    widget,
)
from api.runtime import Runtime
from api.url_guard import ControlCharactersInUrl
from api.views import ResponseLanguage
from core.encoder import Encoder
from core.settings import Settings


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> FastAPI:
    """Build the app; the database, model and indexes open in the lifespan, not at import."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await run_in_threadpool(Runtime, settings, encoder=encoder)
        await run_in_threadpool(runtime.start)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await run_in_threadpool(runtime.close)

    app = FastAPI(
        title="TalentMatch",
        version="0.1.0",
        description="Bilingual job matching and talent search: hybrid keyword + semantic search "
        "and explained two-way matching.",
        lifespan=lifespan,
        # Served by install_offline_docs from local assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics = metrics = HttpMetrics()
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.uploads.max_request_bytes,
    )
    app.add_middleware(ControlCharactersInUrl)
    app.add_middleware(ResponseLanguage)
    app.add_middleware(Cors)
    app.add_middleware(UnhandledErrors)  # the outermost but one: it sees every error
    # Outside UnhandledErrors, so its 500s carry the request id and are logged and counted.
    app.add_middleware(RequestLog, observers=(metrics.observe,))
    install_error_handlers(app)
    # files first: its literal paths (/v1/jobs/files) must win over /v1/jobs/{job_id}.
    for module in (
        health,
        files,
        bulk,
        jobs,
        candidates,
        search,
        matches,
        feedback,
        fairs,
        admin,
        stats,
        reports,
        widget,
    ):
        app.include_router(module.router)
    app.include_router(health.metrics_router(settings))
    install_offline_docs(app)
    return app
