"""/v1/search: hybrid keyword + semantic search over postings and candidates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import TypeAdapter

from api.deps import CandidatesRead, JobsRead, RuntimeDep
from api.facets import facet_values
from api.schemas import (
    CandidateHit,
    CandidateSearchResponse,
    JobHit,
    JobSearchResponse,
    Retrieval,
    SearchRequest,
)
from api.service_counts import count_seeker_service
from api.views import candidate_view, job_views
from core.domain import EntityKind
from matching import search as search_service
from matching.explain import preferred_language
from search_index.highlight import highlight
from search_index.protocol import SearchHit
from store.candidates import candidates_by_ids
from store.jobs import visible_job_ids, visible_jobs_by_ids

router = APIRouter(prefix="/v1/search", tags=["search"])

# The routes hand back their page as JSON: FastAPI would otherwise check the returned model
# once more (in a thread-pool hop, the route being sync) before writing these same bytes.
_JOB_PAGE = TypeAdapter(JobSearchResponse)
_CANDIDATE_PAGE = TypeAdapter(CandidateSearchResponse)


def _json(adapter: TypeAdapter[Any], page: Any) -> Response:
    """``page`` as FastAPI's response model writes it (``response_model`` still documents it)."""
    return Response(adapter.dump_json(page, by_alias=True), media_type="application/json")


def _retrieval(hit: SearchHit) -> Retrieval:
    return Retrieval(
        keyword_rank=hit.keyword_rank,
        keyword_score=hit.keyword_score,
        semantic_rank=hit.semantic_rank,
        semantic_score=hit.semantic_score,
    )


def _hits_in_order(
    hits: Sequence[SearchHit], rows: dict[int, Any], keep: Callable[[Any], bool]
) -> list[tuple[SearchHit, Any]]:
    return [(hit, rows[hit.id]) for hit in hits if hit.id in rows and keep(rows[hit.id])]


@router.post("/jobs", response_model=JobSearchResponse)
def search_jobs(
    body: SearchRequest,
    principal: JobsRead,
    runtime: RuntimeDep,
    accept_language: Annotated[
        str | None, Header(description="zh or en: the language of facet labels and compliance text")
    ] = None,
) -> Response:
    """Postings the caller can see; with a fair's public key, the postings of that fair.
    ``facets`` counts the whole result by city, district, job type, education, salary band
    or company (each under every filter but its own)."""
    only_ids = None
    if principal.fair_id is not None:
        with runtime.db.session() as session:
            only_ids = tuple(visible_job_ids(session, viewer_tenant=principal.tenant_id,
                                             fair_id=principal.fair_id))  # fmt: skip
    outcome = search_service.search_postings(runtime.search[EntityKind.JOB], runtime.encode_query,
                              viewer_tenant=principal.tenant_id, request=body, only_ids=only_ids)  # fmt: skip
    result = outcome.result
    with runtime.db.session() as session:
        # The index filters by the same rule; the database has the last word (a posting made
        # private a moment ago, before the index applied it).
        # Whole rows: loading only the shown columns (load_only) measured slower here, its
        # options cost more than the columns they leave out (bench.pipeline_micro).
        rows = visible_jobs_by_ids(session, [h.id for h in result.hits],
                                   viewer_tenant=principal.tenant_id, fair_id=principal.fair_id)  # fmt: skip
        visible = _hits_in_order(result.hits, rows, lambda j: True)
        views = job_views(session, [job for _, job in visible], principal,
                          language=preferred_language(accept_language))  # fmt: skip
        count_seeker_service(session, principal, "search")
        hits = [
            JobHit(
                id=hit.id,
                score=hit.score,
                duplicates=hit.duplicates,
                # Highlights quote the posting as this caller is shown it (contacts masked).
                highlights=highlight(
                    outcome.searched,
                    {"title": view.title, "description": view.description, "company": view.company},
                ),
                retrieval=_retrieval(hit),
                job=view,
            )
            for (hit, _), view in zip(visible, views, strict=True)
        ]
    language = preferred_language(accept_language)
    page = JobSearchResponse(
        total=result.total,
        total_relation=result.total_relation,
        page=body.page,
        page_size=body.page_size,
        interpreted=outcome.interpreted,
        hits=hits,
        facets={
            name: facet_values(name, counts, language) for name, counts in result.facets.items()
        },
    )
    return _json(_JOB_PAGE, page)


@router.post("/candidates", response_model=CandidateSearchResponse)
def search_candidates(
    body: SearchRequest,
    principal: CandidatesRead,
    runtime: RuntimeDep,
    blind: bool = Query(
        False, description="hide name, contacts, age, gender, photo and other protected attributes"
    ),
) -> Response:
    outcome = search_service.search_candidates(runtime.search[EntityKind.CANDIDATE], runtime.encode_query,
                                viewer_tenant=principal.tenant_id, request=body)  # fmt: skip
    result = outcome.result
    with runtime.db.session() as session:
        rows = candidates_by_ids(session, [h.id for h in result.hits])
        visible = _hits_in_order(result.hits, rows, lambda c: c.tenant_id == principal.tenant_id)
        hits = []
        for hit, c in visible:
            # Highlights quote only the texts as shown: contacts masked, or blind-cleaned.
            person = candidate_view(c, principal, in_results=True, blind=blind)
            hits.append(
                CandidateHit(
                    id=hit.id,
                    score=hit.score,
                    highlights=highlight(
                        outcome.searched,
                        {
                            "desired_titles": " / ".join(person.desired_titles),
                            "summary": person.summary,
                            "skills": ", ".join(person.skills),
                            "resume_text": person.resume_text,
                        },
                    ),
                    retrieval=_retrieval(hit),
                    candidate=person,
                )
            )
    page = CandidateSearchResponse(
        total=result.total,
        total_relation=result.total_relation,
        page=body.page,
        page_size=body.page_size,
        interpreted=outcome.interpreted,
        hits=hits,
    )
    return _json(_CANDIDATE_PAGE, page)
