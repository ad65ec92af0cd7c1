"""A server started over a large indexing backlog (a CLI bulk load while it was down) answers
at once: health says the index is catching up, search serves what is indexed, writes are
accepted, and the backlog is indexed in the background."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np

from core.encoder import Encoder
from core.settings import Settings
from ingestion.sample_data import generate_jobs
from store.db import Database
from store.jobs import upsert_jobs
from store.keys import create_key
from tests.conftest import job_payload, start_server

BACKLOG = 60


class SlowEncoder:
    """The real encoder, slowed to a fixed cost per text, so the backlog takes seconds."""

    def __init__(self, inner: Encoder, seconds_per_text: float) -> None:
        self.inner, self.seconds_per_text = inner, seconds_per_text
        self.model_id, self.dim = inner.model_id, inner.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.seconds_per_text * len(texts))
        return self.inner.encode(texts)


def test_the_server_answers_while_the_backlog_is_indexed(
    settings: Settings, use_encoder: Encoder, app_factory: Callable[..., Any]
) -> None:
    quick_start = settings.model_copy(
        update={"search": settings.search.model_copy(update={"startup_wait_s": 0.0})}
    )
    db = Database(quick_start)
    try:
        with db.session() as session:
            key = create_key(session, tenant_id="acme", role="agency",
                             pepper=quick_start.auth.key_pepper.get_secret_value())  # fmt: skip
            upsert_jobs(session, tenant_id="acme",
                        records=[r.fields for r in generate_jobs(BACKLOG, seed=11)])  # fmt: skip
    finally:
        db.dispose()
    # Two texts a posting at 50 ms each: the backlog takes about 6 s to index.
    app = app_factory(settings=quick_start, encoder=SlowEncoder(use_encoder, 0.05))
    began = time.monotonic()
    url, server, thread = start_server(app)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            health = client.get("/healthz")
            assert health.status_code == 200
            assert time.monotonic() - began < 3.0
            assert health.json()["index"] == "catching_up"
            searched = client.post("/v1/search/jobs", json={"query": "工程师"})
            assert searched.status_code == 200  # from what is indexed so far
            written_at = time.monotonic()
            created = client.post("/v1/jobs", json=job_payload(title="夜班仓库管理员"))
            assert created.status_code == 201
            assert time.monotonic() - written_at < 2.0  # not queued behind the backlog
            for _ in range(300):
                if client.get("/healthz").json()["index"] == "ready":
                    break
                time.sleep(0.1)
            assert client.get("/healthz").json()["index"] == "ready"
            for _ in range(100):
                final = client.get("/healthz").json()
                if final["jobs_indexed"] == BACKLOG + 1:
                    break
                time.sleep(0.1)
            assert final["jobs_indexed"] == BACKLOG + 1
            found = client.post(
                "/v1/search/jobs", json={"query": "夜班仓库管理员", "mode": "keyword"}
            )
            assert created.json()["id"] in [h["id"] for h in found.json()["hits"]]
    finally:
        server.should_exit = True
        thread.join(timeout=60)
