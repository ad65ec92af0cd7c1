"""Search as a service: request filters to index filters, query understanding, query
encoding and the choice of re-ranker, over the shared pipeline (``search_index.hybrid``).

Routes and tools call ``search_postings`` / ``search_candidates``; neither builds index
queries itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from core.domain import EducationLevel
from core.errors import InvalidInput
from representation.fairness import protected_terms
from search_index.candidate_rerank import CandidateReranker, default_candidate_reranker
from search_index.hybrid import HybridSearch
from search_index.protocol import (
    Facet,
    SearchFilters,
    SearchMode,
    SearchQuery,
    SearchResult,
)
from search_index.query_syntax import ParsedSearch, QuerySyntaxError, parse_search
from search_index.query_understanding import parse_query, skills_in
from search_index.rerank import SearchReranker, default_search_reranker
from taxonomy.occupations import csco_coder, esco_coder
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary

QueryEncoder = Callable[[str], np.ndarray]
# Query text → its likeliest occupations (code, confidence), best first.
OccupationCoder = Callable[[str], tuple[tuple[str, float], ...]]
QUERY_OCCUPATIONS = 3  # how many of the query's likeliest occupations re-ranking compares
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=4096)
def code_query_occupations(text: str) -> tuple[tuple[str, float], ...]:
    """The query's likeliest occupations with confidences: CSCO 2022 for Chinese text, ESCO
    (by ISCO-08 unit group) for other text; empty for an empty query. A title query such as
    "调解员" is one occupation; a query of skills codes weakly, and re-ranking weighs it by
    that confidence."""
    if not text.strip():
        return ()
    coder = csco_coder() if _CJK.search(text) else esco_coder()
    best: dict[str, float] = {}
    for match in coder.code(text, top=QUERY_OCCUPATIONS * 2):
        # ESCO occupations of one unit group share its code: keep each code's best.
        best.setdefault(match.code, match.confidence)
    return tuple(list(best.items())[:QUERY_OCCUPATIONS])


class Bounds(Protocol):
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


class EducationBounds(Protocol):
    @property
    def at_least(self) -> Any: ...
    @property
    def at_most(self) -> Any: ...


class FilterInput(Protocol):
    """The search filters as a request states them (``api.schemas.SearchFiltersIn``)."""

    @property
    def city(self) -> Any: ...
    @property
    def district(self) -> Any: ...
    @property
    def salary_min(self) -> float | None: ...
    @property
    def salary_max(self) -> float | None: ...
    @property
    def employment_type(self) -> Any: ...
    @property
    def education(self) -> EducationBounds | None: ...
    @property
    def years_experience(self) -> Bounds | None: ...
    @property
    def skills_all(self) -> Sequence[str]: ...
    @property
    def skills_any(self) -> Sequence[str]: ...
    @property
    def company(self) -> Any: ...


class SearchInput(Protocol):
    """A search as a request states it (``api.schemas.SearchRequest``)."""

    @property
    def query(self) -> str: ...
    @property
    def filters(self) -> FilterInput: ...
    @property
    def page(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    @property
    def mode(self) -> SearchMode: ...
    @property
    def interpret_places(self) -> bool: ...
    @property
    def include_duplicates(self) -> bool: ...
    @property
    def facets(self) -> Sequence[Facet]: ...


@dataclass(frozen=True)
class SearchOutcome:
    result: SearchResult
    # What was read out of the query, e.g. a city; for candidates also ``ignored_terms``,
    # the protected terms dropped ({"term", "reason"} each).
    interpreted: dict[str, list[Any]]
    # The words the query searches for (highlighted): without operators, exclusions and
    # field prefixes.
    searched: str = ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def to_search_filters(f: FilterInput) -> SearchFilters:
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
        skills_all=tuple(vocabulary.canonical_ids(list(f.skills_all))),
        skills_any=tuple(vocabulary.canonical_ids(list(f.skills_any))),
        companies=tuple(name.strip() for name in _as_list(f.company) if name.strip()),
    )


# What removing a term can leave of the query syntax, each removed until none is left: a
# field prefix with nothing after it, an empty phrase or group, a lone minus, an operator
# without a term on one side.
_SYNTAX_LEFTOVERS = (
    (re.compile(r"(?i)(?<![^\s(])(?:title|skill|company):(?=\s|\)|$)"), ""),
    (re.compile(r'"\s*"'), " "),
    (re.compile(r"(?<![^\s(])-(?=\s|\)|$)"), " "),
    (re.compile(r"\(\s*\)"), " "),
    (re.compile(r"^\s*(?:AND|OR)(?=\s|\(|$)|(?<=\()\s*(?:AND|OR)(?=\s|\(|\)|$)"), " "),
    (re.compile(r"(?<![^\s)])(?:AND|OR|NOT)\s*(?=\)|$)"), " "),
    (re.compile(r"(?<![^\s)])(AND|OR|NOT)\s+(?:AND|OR)(?=\s|\(|$)"), r" \1 "),
    (re.compile(r"(?<![^\s)])NOT\s+(AND|OR)(?=\s|\(|$)"), r" \1 "),
)


def without_protected_terms(query: str) -> tuple[str, list[dict[str, str]]]:
    """The query without its protected terms (sex, age, marital status, childbearing,
    ethnicity, religion, hukou or origin, health), in words, phrases, fields and exclusions
    alike, and the terms dropped: a candidate search never selects people on them."""
    found = protected_terms(query)
    if not found:
        return query, []
    kept, last = [], 0
    for _, _, start, end in found:
        kept.append(query[last:start])
        kept.append(" ")
        last = end
    text = "".join(kept) + query[last:]
    previous = None
    while previous != text:
        previous = text
        for pattern, replacement in _SYNTAX_LEFTOVERS:
            text = pattern.sub(replacement, text)
    text = re.sub(r"\s+", " ", text).strip()
    ignored = [{"term": term, "reason": reason} for term, reason, _, _ in found]
    return text, list({(t["term"], t["reason"]): t for t in ignored}.values())


def _parse(text: str, company_field: bool) -> ParsedSearch:
    try:
        return parse_search(text, company_field=company_field)
    except QuerySyntaxError as exc:
        raise InvalidInput(
            f"query: {exc}",
            details=[{"field": "query", "message": exc.reason, "position": exc.position}],
        ) from exc


def _search(
    search: HybridSearch, encode_query: QueryEncoder, viewer_tenant: str, request: SearchInput,
    only_ids: tuple[int, ...] | None, reranker: SearchReranker | CandidateReranker | None, *,
    company_field: bool = True, occupation_coder: OccupationCoder | None = None,
    drop_protected: bool = False,
) -> SearchOutcome:  # fmt: skip
    filters = replace(to_search_filters(request.filters), ids=only_ids)
    text = request.query.strip()
    # Malformed syntax is reported at its position in the query as typed.
    syntax = _parse(text, company_field)
    interpreted: dict[str, list[Any]] = {}
    if drop_protected:
        text, ignored = without_protected_terms(text)
        if ignored:
            interpreted["ignored_terms"] = ignored
            try:
                syntax = parse_search(text, company_field=company_field)
            except QuerySyntaxError:
                # Syntax the removal broke in a way not foreseen: its words, without syntax.
                text = re.sub(r'(?<![^\s(])(?:AND|OR|NOT)(?![^\s)])|[()"]', " ", text)
                text = re.sub(r"(?i)(?<![^\s])(?:-|(?:title|skill|company):)", " ", text)
                text = re.sub(r"\s+", " ", text).strip()
                syntax = _parse(text, company_field)
    typed = text  # what the query searches for, before places are read out of it
    if not syntax.plain:
        # Operators, phrases and fields go to keyword retrieval as a structure, exclusions
        # to both retrievers as a filter; the vector encodes the positive words only.
        text = syntax.positive_text
        filters = replace(filters, exclude=syntax.excluded)
    elif text and request.interpret_places and not filters.city_codes:
        parsed = parse_query(text)
        if parsed.cities:
            filters = replace(filters, city_codes=tuple(c.code for c in parsed.cities))
            interpreted["city"] = [c.short_name for c in parsed.cities]
            text = parsed.text
    vector = encode_query(text) if text and request.mode != "keyword" else None
    rerank = reranker if request.mode == "hybrid" else None
    occupations = occupation_coder(text) if occupation_coder and rerank and text else ()
    result = search.search(
        SearchQuery(
            viewer_tenant=viewer_tenant,
            text=text,
            vector=vector,
            filters=filters,
            limit=request.page_size,
            offset=(request.page - 1) * request.page_size,
            mode=request.mode,
            collapse_duplicates=not request.include_duplicates,
            facets=tuple(dict.fromkeys(request.facets)),
            # Hybrid results are re-scored from each signal's strength (search_index.rerank).
            rerank=rerank,
            skills=skills_in(text),
            occupations=occupations,
            keyword_query=syntax.keyword if not syntax.plain else None,
        )
    )
    searched = typed if syntax.plain else syntax.positive_text
    return SearchOutcome(result=result, interpreted=interpreted, searched=searched)


def search_postings(
    search: HybridSearch, encode_query: QueryEncoder, *, viewer_tenant: str,
    request: SearchInput, only_ids: tuple[int, ...] | None = None,
    occupation_coder: OccupationCoder = code_query_occupations,
) -> SearchOutcome:  # fmt: skip
    """Posting search (``only_ids``: e.g. one fair's postings), re-ranked by the weights
    fitted and evaluated for it, with the query's coded occupations as a signal
    (``occupation_coder``: an evaluation's held-out coder). Encodes the query: call it from
    a worker thread."""
    return _search(search, encode_query, viewer_tenant, request, only_ids,
                   default_search_reranker(), occupation_coder=occupation_coder)  # fmt: skip


def search_candidates(
    search: HybridSearch, encode_query: QueryEncoder, *, viewer_tenant: str,
    request: SearchInput,
) -> SearchOutcome:  # fmt: skip
    """Candidate search, re-ranked by best-section similarity, BM25, skills and the query's
    coded occupations with the weights fitted on the tuning half of the hand-written résumé
    set (``search_index.candidate_rerank``). Protected terms of the query are dropped and
    reported (``interpreted.ignored_terms``). Encodes the query: call it from a worker
    thread."""
    if request.facets:
        raise InvalidInput("facets are counted for posting search only", field="facets")
    # Candidates have no company field: their employers are in the text.
    return _search(search, encode_query, viewer_tenant, request, None,
                   default_candidate_reranker(), company_field=False, drop_protected=True,
                   occupation_coder=code_query_occupations)  # fmt: skip
