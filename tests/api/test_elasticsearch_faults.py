"""An Elasticsearch cluster that is down, for real: the backend points at a local port
nothing listens on. The backend raises ``IndexUnavailable`` quickly on every call; the API
starts, stores writes (the outbox keeps them for later) and answers searches and matches
with 503 ``index_unavailable``."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from core.errors import IndexUnavailable
from core.settings import SearchSettings, Settings
from search_index.elasticsearch import ElasticsearchIndex
from search_index.protocol import SearchFilters
from search_index.testing import ENCODER, doc
from store.models import Job, OutboxEvent
from tests.conftest import Api, job_payload


def closed_port_url() -> str:
    """The URL of a local port that was just free: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"http://127.0.0.1:{port}"


async_test = pytest.mark.anyio


@pytest.fixture
def down_index() -> Iterator[ElasticsearchIndex]:
    settings = SearchSettings(
        backend="elasticsearch",
        elasticsearch={"url": closed_port_url(), "request_timeout_s": 1.0, "max_retries": 1},
    )  # type: ignore[arg-type]
    index = ElasticsearchIndex("job", dim=ENCODER.dim, model_id=ENCODER.model_id, settings=settings)
    yield index
    index.close()


CALLS: dict[str, Callable[[ElasticsearchIndex], Any]] = {
    "upsert": lambda i: i.upsert([doc(1, "Python engineer")]),
    "delete": lambda i: i.delete([1]),
    "commit": lambda i: i.commit(),
    "checkpoint": lambda i: i.checkpoint(applied_through=3),
    "applied_through": lambda i: i.applied_through(),
    "count": lambda i: i.count(),
    "clear": lambda i: i.clear(),
    "begin_rebuild": lambda i: i.begin_rebuild(),
    "keyword_search": lambda i: i.keyword_search("acme", ["python"], SearchFilters(), limit=5),
    "vector_search": lambda i: i.vector_search(
        "acme", np.ones(ENCODER.dim, np.float32) / 8, SearchFilters(), limit=5
    ),
    "list_recent": lambda i: i.list_recent(
        "acme", SearchFilters(), offset=0, limit=5, collapse_duplicates=True
    ),
    "facet_counts": lambda i: i.facet_counts(
        "city", "acme", SearchFilters(), collapse_duplicates=True
    ),
    "group_ids": lambda i: i.group_ids([1, 2]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_call_on_a_cluster_that_is_down_raises_index_unavailable_quickly(
    down_index: ElasticsearchIndex, name: str
) -> None:
    started = time.monotonic()
    with pytest.raises(IndexUnavailable) as raised:
        CALLS[name](down_index)
    assert time.monotonic() - started < 3.0
    assert "unreachable" in raised.value.message
    # The client's own exception is the cause, never what the caller sees.
    assert type(raised.value).__module__.startswith("search_index")


@pytest.fixture
def es_down_settings(settings: Settings) -> Settings:
    search = settings.search.model_copy(
        update={
            "backend": "elasticsearch",
            "elasticsearch": settings.search.elasticsearch.model_copy(
                update={"url": closed_port_url(), "request_timeout_s": 1.0, "max_retries": 1}
            ),
            # Recovery cannot reach the cluster: do not hold the start for it.
            "startup_wait_s": 1.0,
        }
    )
    return settings.model_copy(update={"search": search})


async def _serve(app: Any, settings: Settings) -> AsyncIterator[Api]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, settings, app)


@pytest.fixture
async def es_down_api(
    app_factory: Callable[..., Any], es_down_settings: Settings
) -> AsyncIterator[Api]:
    try:
        async for api in _serve(app_factory(settings=es_down_settings), es_down_settings):
            yield api
    except IndexUnavailable:
        # The stop drains the outbox into the index and fails while the cluster is down
        # (api/runtime.py, Runtime.close); test_the_api_stops_while_the_cluster_is_down
        # pins that. The database was closed all the same.
        pass


@async_test
async def test_the_api_stores_writes_and_answers_searches_with_503_while_the_cluster_is_down(
    es_down_api: Api,
) -> None:
    api = es_down_api
    created = await api.post("/v1/jobs", "acme", job_payload())
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    shown = await api.get(f"/v1/jobs/{job_id}", "acme")
    assert shown.status_code == 200 and shown.json()["title"] == job_payload()["title"]
    with api.runtime.db.session() as session:
        assert session.get(Job, job_id) is not None
        pending = session.query(OutboxEvent).filter(OutboxEvent.applied.is_(False)).all()
        assert any(e.entity == "job" and e.entity_id == job_id for e in pending)

    for response in (
        await api.post("/v1/search/jobs", "acme", {"query": "Python"}),
        await api.post("/v1/search/jobs", "acme", {"query": ""}),
        await api.get(f"/v1/jobs/{job_id}/matches", "acme"),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "index_unavailable"
        assert response.headers["retry-after"] == "1"
    # Health counts the indexed documents: it reports the index as unavailable, never a 500
    # (today as 503 index_unavailable; a readiness report may say so in a 200 body instead).
    health = await api.client.get("/healthz")
    if health.status_code == 503:
        assert health.json()["error"]["code"] == "index_unavailable"
    else:
        assert health.status_code == 200 and health.json()["index"] == "unavailable"


@async_test
async def test_the_api_stops_while_the_cluster_is_down(
    app_factory: Callable[..., Any], es_down_settings: Settings
) -> None:
    async for api in _serve(app_factory(settings=es_down_settings), es_down_settings):
        created = await api.post("/v1/jobs", "acme", job_payload())
        assert created.status_code == 201  # its event stays pending: the stop drains it
