"""The contract every search backend meets, in the project's own types.

A backend stores one kind of entity (postings or candidates) as ``IndexDocument``s and
answers ``SearchQuery``s with fused keyword + semantic results::

    index.upsert([IndexDocument(id=1, tenant_id="acme", private=False, title="后端工程师", ...)])
    result = index.search(SearchQuery(viewer_tenant="acme", text="Python 后端", vector=q,
                                      filters=SearchFilters(city_codes=(440300,))))
    result.total, [(hit.id, hit.score) for hit in result.hits]

Filter semantics (identical in every backend; the contract tests pin them):

- visibility: a document is visible to ``viewer_tenant`` when it belongs to that tenant
  or is not ``private``;
- ``city_codes``/``district_codes``/``employment_types``/``companies``: the document's value
  is one of them;
- ``salary_min``/``salary_max``: the document's salary range overlaps the requested range;
- ``education_min_rank``/``education_max_rank``, ``years_min``/``years_max``: inclusive bounds;
- ``skills_all``: every listed canonical skill id; ``skills_any``: at least one;
- a document whose value is unknown never passes a filter on that field;
- filters apply inside retrieval, before any top-k cut.

Facets (``SearchQuery.facets``) count the whole result, not one page: per facet, the
documents (groups) that match the query and every filter except the facet's own.

An empty ``text`` lists the filtered documents newest first. With ``collapse_duplicates``
(the default) each duplicate group appears once, and ``total`` counts groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from search_index.rerank import SearchReranker


@dataclass(frozen=True)
class IndexDocument:
    id: int
    tenant_id: str
    private: bool
    title: str
    text: str  # everything keyword search should see (title, description, skills …)
    vector: np.ndarray  # L2-normalized content embedding
    title_vector: np.ndarray  # L2-normalized embedding of the title(s), used by matching
    timestamp: float  # posted_at (postings) or updated_at (candidates), epoch seconds
    city_code: int | None = None
    district_code: int | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    employment_type: str | None = None
    education_rank: int | None = None
    years: float | None = None
    skills: tuple[str, ...] = ()  # canonical skill ids
    # Near-duplicates share a group (the id of the group's earliest document); None = alone.
    group_id: int | None = None
    company: str | None = None
    language: str | None = None  # zh / en: search re-ranking weighs cross-language BM25 apart


@dataclass(frozen=True)
class SearchFilters:
    city_codes: tuple[int, ...] = ()
    district_codes: tuple[int, ...] = ()
    salary_min: float | None = None
    salary_max: float | None = None
    employment_types: tuple[str, ...] = ()
    education_min_rank: int | None = None
    education_max_rank: int | None = None
    years_min: float | None = None
    years_max: float | None = None
    skills_all: tuple[str, ...] = ()
    skills_any: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()  # exact company names
    # Only these documents (e.g. the postings of one career fair); None: no restriction.
    ids: tuple[int, ...] | None = None


SearchMode = Literal["hybrid", "keyword", "semantic"]

# Facets a search can count, and the filters each one ignores while counting
# ("disjunctive" facets: picking 深圳 still shows how many results 广州 would give).
Facet = Literal["city", "district", "employment_type", "education", "salary", "company"]
FACET_FILTERS: dict[str, tuple[str, ...]] = {
    "city": ("city_codes",),
    "district": ("district_codes",),
    "employment_type": ("employment_types",),
    "education": ("education_min_rank", "education_max_rank"),
    "salary": ("salary_min", "salary_max"),
    "company": ("companies",),
}
# Monthly salary bands (CNY) of the salary facet; a posting counts in every band its range
# overlaps, exactly as the salary_min/salary_max filter selects it. None: open-ended.
SALARY_BANDS: tuple[tuple[float, float | None], ...] = (
    (0, 5000), (5000, 10000), (10000, 15000), (15000, 20000),
    (20000, 30000), (30000, 50000), (50000, None),
)  # fmt: skip


@dataclass(frozen=True)
class SearchQuery:
    viewer_tenant: str
    text: str = ""
    vector: np.ndarray | None = None  # the encoded query; required for semantic retrieval
    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = 20
    offset: int = 0
    mode: SearchMode = "hybrid"
    # One hit per duplicate group (the best-ranked); the others are counted on that hit.
    collapse_duplicates: bool = True
    facets: tuple[Facet, ...] = ()
    # Re-score the fused hybrid result (``search_index.rerank``); None: RRF order.
    rerank: SearchReranker | None = None
    skills: tuple[str, ...] = ()  # canonical skills the query names (a re-ranking signal)


@dataclass(frozen=True)
class SearchHit:
    id: int
    score: float  # fused score, higher is better
    keyword_rank: int | None = None  # 1-based, None when keyword retrieval missed it
    keyword_score: float | None = None  # BM25
    semantic_rank: int | None = None
    semantic_score: float | None = None  # cosine similarity
    duplicates: int = 0  # other documents of its group folded into this hit


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    # Per requested facet: value → number of results (groups) with it, under every filter
    # but the facet's own. Values: city/district codes, employment types, education ranks,
    # company names, and for salary the index of the band in ``SALARY_BANDS``.
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredVectors:
    vector: np.ndarray
    title_vector: np.ndarray


class SearchIndex(Protocol):
    """One entity kind's search index. Implementations: ``search_index.embedded``."""

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        """Insert or replace documents by id; visible to search after ``commit``."""
        ...

    def delete(self, ids: Sequence[int]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        ...

    def commit(self) -> None:
        """Make every change so far visible to search."""
        ...

    def checkpoint(self) -> None:
        """Make every committed change durable on disk."""
        ...

    def search(self, query: SearchQuery) -> SearchResult:
        """Hybrid (or keyword-/semantic-only) search with filters applied inside retrieval."""
        ...

    def vectors(self, ids: Sequence[int]) -> dict[int, StoredVectors]:
        """The stored embeddings of the given documents (missing ids are left out)."""
        ...

    def ids(self) -> set[int]:
        """Every document id in the index."""
        ...

    def count(self) -> int:
        """The number of documents in the index."""
        ...

    def clear(self) -> None:
        """Remove every document (used by reindex)."""
        ...

    def close(self) -> None:
        """Checkpoint and release files and locks."""
        ...
