"""Matching and search re-ranking with vectors read from the database (``document_vectors``
+ the embedding cache) instead of the engine: what a backend that keeps no full-precision
vectors (Elasticsearch) relies on. The embedded backend holds the same vectors in memory, so
both sources must give the same matches and the same re-ranked results."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from api.schemas import SearchRequest
from core.domain import EntityKind
from core.settings import Settings
from matching import search as search_service
from matching.service import MatchSources, rank_candidates_for_job, rank_jobs_for_candidate
from search_index.hybrid import HybridSearch
from search_index.vectors import DatabaseVectors
from store.candidates import candidates_by_ids
from store.jobs import jobs_by_ids, visible_jobs_by_ids
from store.models import DocumentVectorRef
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"search": settings.search.model_copy(update={"vectors": "database"})}
    )


def engine_sources(runtime: object) -> MatchSources:
    """The same matching, with every vector read from the embedded engine's memory."""
    indexes = runtime.indexes  # type: ignore[attr-defined]
    return MatchSources(
        search={kind: HybridSearch(index) for kind, index in indexes.items()},
        vectors=indexes,
        settings=runtime.settings.match,  # type: ignore[attr-defined]
    )


async def load_corpus(api: Api) -> tuple[list[int], list[int]]:
    jobs = [
        await api.create_job("acme", title="Python后端开发工程师", required_skills=["Python"]),
        await api.create_job("acme", title="Java架构师", required_skills=["Java", "Spring"]),
        await api.create_job(
            "acme", title="会计", required_skills=["财务分析"], description="做账"
        ),
        await api.create_job("globex", title="Data Engineer", required_skills=["Python", "SQL"]),
    ]
    people = [
        await api.create_candidate("acme", desired_titles=["后端工程师"], skills=["Python"]),
        await api.create_candidate("acme", desired_titles=["Java Developer"], skills=["Java"]),
        await api.create_candidate("acme", desired_titles=["会计"], skills=["财务分析"]),
    ]
    return [j["id"] for j in jobs], [p["id"] for p in people]


async def test_matching_reads_database_vectors_and_agrees_with_the_engine(api: Api) -> None:
    job_ids, person_ids = await load_corpus(api)
    runtime = api.runtime
    assert all(isinstance(runtime.vectors[kind], DatabaseVectors) for kind in EntityKind)
    engine = engine_sources(runtime)
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DocumentVectorRef)) == 7
        for job in jobs_by_ids(session, job_ids).values():
            if job.tenant_id != "acme":
                continue
            ranked = {
                name: [
                    (c.id, round(m.score, 4))
                    for c, m in rank_candidates_for_job(
                        job,
                        tenant_id="acme",
                        sources=sources,
                        limit=10,
                        load_candidates=lambda ids: candidates_by_ids(session, ids, full=False),
                    )  # fmt: skip
                ]
                for name, sources in (("database", runtime.matching), ("engine", engine))
            }
            assert ranked["database"] and ranked["database"] == ranked["engine"]
        for person in candidates_by_ids(session, person_ids).values():
            ranked = {
                name: [
                    (j.id, round(m.score, 4))
                    for j, m in rank_jobs_for_candidate(
                        person,
                        sources=sources,
                        limit=10,
                        load_jobs=lambda ids: visible_jobs_by_ids(
                            session, ids, viewer_tenant="acme"
                        ),
                    )  # fmt: skip
                ]
                for name, sources in (("database", runtime.matching), ("engine", engine))
            }
            assert ranked["database"] and ranked["database"] == ranked["engine"]
    # And through the API, both directions answer.
    matches = await api.get(f"/v1/jobs/{job_ids[0]}/matches", "acme")
    assert matches.status_code == 200 and matches.json()["matches"][0]["id"] == person_ids[0]
    matches = await api.get(f"/v1/candidates/{person_ids[1]}/matches", "acme")
    assert matches.status_code == 200 and matches.json()["matches"][0]["id"] == job_ids[1]


async def test_search_reranking_reads_database_vectors_and_agrees_with_the_engine(
    api: Api,
) -> None:
    await load_corpus(api)
    runtime = api.runtime
    for text in ("Python 工程师", "Java", "会计 财务"):
        request = SearchRequest.model_validate({"query": text, "mode": "hybrid"})
        found = {
            name: [
                (h.id, round(h.score, 4))
                for h in search_service.search_postings(
                    search, runtime.encode_query, viewer_tenant="acme", request=request
                ).result.hits
            ]
            for name, search in (
                ("database", runtime.search[EntityKind.JOB]),
                ("engine", HybridSearch(runtime.jobs_index)),
            )
        }
        assert found["database"] and found["database"] == found["engine"]


async def test_deleted_and_erased_profiles_leave_the_vector_rows(api: Api) -> None:
    job_ids, person_ids = await load_corpus(api)
    assert (await api.delete(f"/v1/jobs/{job_ids[2]}", "acme")).status_code == 204
    erased = await api.delete(f"/v1/candidates/{person_ids[2]}?purpose=user%20request", "acme")
    assert erased.status_code == 204
    runtime = api.runtime
    runtime.sync.drain()
    with runtime.db.session() as session:
        left = set(session.execute(select(DocumentVectorRef.entity, DocumentVectorRef.entity_id)))
    assert ("job", job_ids[2]) not in left and ("candidate", person_ids[2]) not in left
    assert ("candidate", person_ids[0]) in left and len(left) == 5
    assert runtime.vectors[EntityKind.CANDIDATE].stored_fields([person_ids[2]]).ids == []
    # A rebuild writes every row again, and none for what is gone.
    runtime.sync.reindex()
    with runtime.db.session() as session:
        again = set(session.execute(select(DocumentVectorRef.entity, DocumentVectorRef.entity_id)))
    assert again == left
