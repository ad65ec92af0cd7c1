"""/v1/search: hybrid keyword + semantic search over postings and candidates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from api.deps import CandidatesRead, JobsRead, RuntimeDep
from api.facets import facet_values
from api.runtime import Runtime
from api.schemas import (
    CandidateHit,
    CandidateSearchResponse,
    JobHit,
    JobSearchResponse,
    Retrieval,
    SearchFiltersIn,
    SearchRequest,
)
from api.views import candidate_view, job_views
from core.domain import EducationLevel
from core.errors import InvalidInput
from matching.explain import preferred_language
from search_index.highlight import highlight
from search_index.protocol import SearchFilters, SearchHit, SearchIndex, SearchQuery, SearchResult
from search_index.query_understanding import parse_query, skills_in
from search_index.rerank import SearchReranker, default_search_reranker
from store.candidates import candidates_by_ids
from store.jobs import visible_job_ids, visible_jobs_by_ids
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary

router = APIRouter(prefix="/v1/search", tags=["search"])


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def to_search_filters(f: SearchFiltersIn) -> SearchFilters:
    """Request filters → index filters: places to region codes, skills to canonical ids."""
    regions = region_directory()
    cities = []
    for name in _as_list(f.city):
        region = regions.city(name)
        if region is None:
            raise InvalidInput(f"unknown city {name!r}", field="filters.city")
        cities.append(region)
    districts = []
    for name in _as_list(f.district):
        matches = (
            [regions.district(name, city) for city in cities]
            if cities
            else [regions.district(name)]
        )
        found = [d for d in matches if d is not None]
        if not found:
            raise InvalidInput(
                f"unknown district {name!r}" + ("" if cities else " (give filters.city too)"),
                field="filters.district",
            )
        districts.extend(found)
    if f.salary_min is not None and f.salary_max is not None and f.salary_min > f.salary_max:
        raise InvalidInput("salary_min must not exceed salary_max", field="filters.salary_min")
    years = f.years_experience
    if years and years.min is not None and years.max is not None and years.min > years.max:
        raise InvalidInput("min must not exceed max", field="filters.years_experience.min")
    education = f.education
    vocabulary = skill_vocabulary()
    return SearchFilters(
        city_codes=tuple(c.code for c in cities),
        district_codes=tuple(d.code for d in districts),
        salary_min=f.salary_min,
        salary_max=f.salary_max,
        employment_types=tuple(str(t) for t in _as_list(f.employment_type)),
        education_min_rank=EducationLevel(education.at_least).rank
        if education and education.at_least
        else None,
        education_max_rank=EducationLevel(education.at_most).rank
        if education and education.at_most
        else None,
        years_min=years.min if years else None,
        years_max=years.max if years else None,
        skills_all=tuple(vocabulary.canonical_ids(f.skills_all)),
        skills_any=tuple(vocabulary.canonical_ids(f.skills_any)),
        companies=tuple(name.strip() for name in _as_list(f.company) if name.strip()),
    )


def run_search(
    runtime: Runtime, index: SearchIndex, tenant_id: str, body: SearchRequest,
    only_ids: tuple[int, ...] | None = None, reranker: SearchReranker | None = None,
) -> tuple[SearchResult, dict[str, list[str]]]:  # fmt: skip
    """Encode the query (in this worker thread, never on the event loop) and search.
    Returns the result and what was read out of the query (e.g. a city)."""
    filters = replace(to_search_filters(body.filters), ids=only_ids)
    text = body.query.strip()
    interpreted: dict[str, list[str]] = {}
    if text and body.interpret_places and not filters.city_codes:
        parsed = parse_query(text)
        if parsed.cities:
            filters = replace(filters, city_codes=tuple(c.code for c in parsed.cities))
            interpreted["city"] = [c.short_name for c in parsed.cities]
            text = parsed.text
    vector = runtime.encode_query(text) if text and body.mode != "keyword" else None
    result = index.search(
        SearchQuery(
            viewer_tenant=tenant_id,
            text=text,
            vector=vector,
            filters=filters,
            limit=body.page_size,
            offset=(body.page - 1) * body.page_size,
            mode=body.mode,
            collapse_duplicates=not body.include_duplicates,
            facets=tuple(dict.fromkeys(body.facets)),
            # Hybrid results are re-scored from each signal's strength (search_index.rerank).
            rerank=reranker if body.mode == "hybrid" else None,
            skills=skills_in(text),
        )
    )
    return result, interpreted


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
        str | None, Header(description="zh or en: the language of facet labels")
    ] = None,
) -> JobSearchResponse:
    """Postings the caller can see; with a fair's public key, the postings of that fair.
    ``facets`` counts the whole result by city, district, job type, education, salary band
    or company (each under every filter but its own)."""
    only_ids = None
    if principal.fair_id is not None:
        with runtime.db.session() as session:
            only_ids = tuple(visible_job_ids(session, viewer_tenant=principal.tenant_id,
                                             fair_id=principal.fair_id))  # fmt: skip
    # Posting search is re-ranked by the weights fitted and evaluated for it; candidate
    # search keeps RRF order (no labelled set to fit its weights on yet).
    result, interpreted = run_search(
        runtime, runtime.jobs_index, principal.tenant_id, body, only_ids,
        default_search_reranker(),
    )  # fmt: skip
    with runtime.db.session() as session:
        # The index filters by the same rule; the database has the last word (a posting made
        # private a moment ago, before the index applied it).
        rows = visible_jobs_by_ids(session, [h.id for h in result.hits],
                                   viewer_tenant=principal.tenant_id, fair_id=principal.fair_id)  # fmt: skip
        visible = _hits_in_order(result.hits, rows, lambda j: True)
        views = job_views(session, [job for _, job in visible], principal)
        hits = [
            JobHit(
                id=hit.id,
                score=hit.score,
                duplicates=hit.duplicates,
                # Highlights quote the posting as this caller is shown it (contacts masked).
                highlights=highlight(
                    body.query,
                    {"title": view.title, "description": view.description, "company": view.company},
                ),
                retrieval=_retrieval(hit),
                job=view,
            )
            for (hit, _), view in zip(visible, views, strict=True)
        ]
    language = preferred_language(accept_language)
    return JobSearchResponse(
        total=result.total,
        page=body.page,
        page_size=body.page_size,
        interpreted=interpreted,
        hits=hits,
        facets={
            name: facet_values(name, counts, language) for name, counts in result.facets.items()
        },
    )


@router.post("/candidates", response_model=CandidateSearchResponse)
def search_candidates(
    body: SearchRequest,
    principal: CandidatesRead,
    runtime: RuntimeDep,
    blind: bool = Query(
        False, description="hide name, contacts, age, gender, photo and other protected attributes"
    ),
) -> CandidateSearchResponse:
    if body.facets:
        raise InvalidInput("facets are counted for posting search only", field="facets")
    result, interpreted = run_search(runtime, runtime.candidates_index, principal.tenant_id, body)
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
                        body.query,
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
    return CandidateSearchResponse(
        total=result.total,
        page=body.page,
        page_size=body.page_size,
        interpreted=interpreted,
        hits=hits,
    )
