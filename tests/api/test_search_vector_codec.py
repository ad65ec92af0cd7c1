"""Search and matching through the HTTP API on an index holding one compact copy of each
vector (``vector_codec`` int8 / float16), and a restart under another codec rebuilding it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.api.test_search import POSTINGS, UNRELATED_TO_ML
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["int8", "float16"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    embedded = settings.search.embedded.model_copy(update={"vector_codec": request.param})
    search = settings.search.model_copy(update={"embedded": embedded})
    return settings.model_copy(update={"search": search})


async def post_all(api: Api) -> dict[int, str]:
    ids = {}
    for key, fields in POSTINGS:
        job = await api.create_job("acme", **fields)
        ids[job["id"]] = key
    return ids


async def test_semantic_search_ranks_on_the_compact_vectors(api: Api, settings: Settings) -> None:
    corpus = await post_all(api)
    jobs_index: Any = api.runtime.jobs_index
    assert jobs_index._vectors.codec == settings.search.embedded.vector_codec
    result = await api.search_jobs(
        "globex", "machine learning engineer", mode="semantic", page_size=50
    )
    keys = [corpus[h["id"]] for h in result["hits"]]
    assert set(keys[:2]) == {"ml_zh", "ml_en"}
    assert all(keys.index(k) > 1 for k in UNRELATED_TO_ML if k in keys)
    hybrid = await api.search_jobs("globex", "机器学习", page_size=50)
    assert {corpus[h["id"]] for h in hybrid["hits"][:2]} == {"ml_zh", "ml_en"}


@asynccontextmanager
async def serving(app_factory: Callable[..., Any], settings: Settings) -> AsyncIterator[Api]:
    """The app under ``settings``, started and stopped (what the ``api`` fixture does)."""
    app = app_factory(settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, settings, app)


async def test_a_restart_under_another_codec_rebuilds_and_serves(
    app_factory: Callable[..., Any], settings: Settings
) -> None:
    async with serving(app_factory, settings) as api:
        corpus = await post_all(api)
    embedded = settings.search.embedded.model_copy(update={"vector_codec": "float32"})
    search = settings.search.model_copy(update={"embedded": embedded})
    async with serving(app_factory, settings.model_copy(update={"search": search})) as again:
        assert again.runtime.jobs_index._vectors.codec == "float32"
        result = await again.search_jobs("globex", "machine learning engineer", mode="semantic")
        assert {corpus[h["id"]] for h in result["hits"][:2]} == {"ml_zh", "ml_en"}
        # Every posting came back from the database into the rebuilt index.
        listed = await again.search_jobs("globex", "", page_size=50)
        assert {corpus[h["id"]] for h in listed["hits"]} == set(corpus.values())
