"""The contract every search backend meets, in the project's own types.

A backend stores one kind of entity (postings or candidates) as ``IndexDocument``s and
answers small calls; the pipeline above it (``search_index.hybrid.HybridSearch``: fusion,
re-ranking, duplicate collapsing, paging, facet relaxation) is shared by every backend::

    index.upsert([IndexDocument(id=1, tenant_id="acme", private=False, title="后端工程师", ...)])
    index.commit()
    found = index.keyword_search("acme", ["后端"], SearchFilters(city_codes=(440300,)), limit=200)
    found.total, found.hits  # the exact number of matches; the best 200 as (id, BM25)

Filter grammar (``SearchFilters``; identical in every backend, ``search_index.testing`` pins
it). Every field given must hold (AND); within one field:

- visibility (always): a document is visible to ``viewer_tenant`` when it belongs to that
  tenant or is not ``private``;
- ``ids``: the document is one of them (None: no restriction; empty: nothing);
- ``city_codes``/``district_codes``/``employment_types``/``companies``: the document's value
  is one of them (OR);
- ``salary_min``/``salary_max``: the document's salary range overlaps the requested range;
- ``education_min_rank``/``education_max_rank``, ``years_min``/``years_max``: inclusive bounds;
- ``skills_all``: every listed canonical skill id; ``skills_any``: at least one;
- a document whose value is unknown never passes a filter on that field;
- ``exclude``: the document matches none of these keyword queries (``NOT``/``-term`` of the
  query syntax, ``search_index.query_syntax``), in keyword and vector retrieval alike;
- filters apply inside retrieval, before any top-k cut.

Duplicates: documents with the same ``group_id`` are near-duplicates; ``group_ids`` tells the
pipeline which, and ``keyword_search(count_groups=True)`` counts matching groups.

Consistency: ``checkpoint(applied_through=N)`` stores, with the durable state, the last
outbox event id the index reflects; ``applied_through()`` reads it back at start-up
(None: no usable checkpoint, e.g. a lost index or one built for another model).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from core.settings import SearchSettings
from search_index.candidate_rerank import CandidateReranker
from search_index.query_syntax import KeywordQuery
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
    # Hashes of the two embedded texts (content, title): the vectors' keys in the embedding
    # cache, through which ``search_index.vectors.DatabaseVectors`` finds them again.
    text_hashes: tuple[str, str] | None = None
    # Candidates: L2-normalized embeddings of short section texts (headline, experience
    # entries, skills; ``representation.profiles.MAX_SECTIONS`` at most), (sections, dim),
    # and their hashes in the embedding cache, in the same order. Re-ranking scores a
    # candidate by its best section (``search_index.candidate_rerank``).
    section_vectors: np.ndarray | None = None
    section_hashes: tuple[str, ...] = ()
    # CSCO 2022 (``2-02-10-03``) or ESCO/ISCO-08 (``ISCO-08:2512``) code of the title
    # (``taxonomy.occupations``): re-ranking compares it with the query's occupations.
    occupation_code: str | None = None

    def known_filter_values(self) -> dict[str, Any]:
        """The optional filter fields this document has a value for, by name (a backend
        indexes these; an unknown value never passes a filter on its field)."""
        values = {
            "city_code": self.city_code,
            "district_code": self.district_code,
            "salary_min": self.salary_min,
            "salary_max": self.salary_max,
            "employment_type": self.employment_type,
            "education_rank": self.education_rank,
            "years": self.years,
            "company": self.company,
            "language": self.language,
        }
        return {name: value for name, value in values.items() if value is not None}


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
    # Documents matching any of these are left out (the query's NOT / -term).
    exclude: tuple[KeywordQuery, ...] = ()


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
    rerank: SearchReranker | CandidateReranker | None = None
    skills: tuple[str, ...] = ()  # canonical skills the query names (a re-ranking signal)
    # The query's likeliest occupations (code, confidence), best first: a re-ranking signal.
    occupations: tuple[tuple[str, float], ...] = ()
    # The structured keyword query (``search_index.query_syntax``); None: any term of
    # ``text``. ``text`` then holds the positive words only (what the vector encodes).
    keyword_query: KeywordQuery | None = None


TotalRelation = Literal["eq", "gte"]


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
    # "eq": ``total`` is the number of results; "gte": at least that many (Elasticsearch's
    # ``hits.total.relation``).
    total_relation: TotalRelation = "eq"
    # Per requested facet: value → number of results (groups) with it, under every filter
    # but the facet's own. Values: city/district codes, employment types, education ranks,
    # company names, and for salary the index of the band in ``SALARY_BANDS``.
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class KeywordHits:
    hits: list[tuple[int, float]]  # (id, BM25), best first, at most the limit asked for
    total: int  # the exact number of matching documents
    # The exact number of matching duplicate groups (asked with ``count_groups``); None when
    # not asked or not countable.
    groups: int | None = None


@dataclass(frozen=True)
class ListedPage:
    total: int  # exact: documents, or groups when collapsing
    hits: list[SearchHit]


@dataclass(frozen=True)
class StoredRow:
    """One document's row of ``StoredFields``."""

    vector: np.ndarray
    title_vector: np.ndarray
    skills: tuple[str, ...]
    language: str | None
    occupation_code: str | None = None


@dataclass(frozen=True)
class StoredFields:
    """What re-ranking reads of a few retrieved documents, by column (row i is ``ids[i]``),
    so the pipeline scores them without a per-document copy."""

    ids: list[int]
    vectors: np.ndarray  # (len(ids), dim)
    title_vectors: np.ndarray
    skills: list[tuple[str, ...]]
    languages: list[str | None]
    # Per row, its section vectors (sections, dim); empty when the document has none (a
    # posting) or the source keeps none.
    sections: list[np.ndarray] = field(default_factory=list)
    # Empty: the backend keeps no occupation codes (every document's is unknown).
    occupation_codes: list[str | None] = field(default_factory=list)
    _rows: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.occupation_codes:
            object.__setattr__(self, "occupation_codes", [None] * len(self.ids))
        object.__setattr__(self, "_rows", {doc_id: i for i, doc_id in enumerate(self.ids)})

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._rows

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, doc_id: int) -> StoredRow:
        i = self._rows[doc_id]
        return StoredRow(
            self.vectors[i], self.title_vectors[i], self.skills[i], self.languages[i],
            self.occupation_codes[i],
        )  # fmt: skip

    def get(self, doc_id: int) -> StoredRow | None:
        """The document's row; None when the backend does not hold it."""
        return self[doc_id] if doc_id in self._rows else None


@runtime_checkable
class DocumentVectors(Protocol):
    """Where re-ranking and matching read the full-precision vectors (and skills, language,
    occupation code) of a few hundred retrieved documents. An engine that holds them in memory
    serves them itself
    (``search_index.embedded``); for one that does not (a cluster keeps quantized copies)
    ``search_index.vectors.DatabaseVectors`` reads them from the embedding cache."""

    def stored_fields(self, ids: Sequence[int]) -> StoredFields:
        """The fields of the known ``ids``, in the order asked (unknown ids left out)."""
        ...


class SearchBackend(Protocol):
    """One entity kind's index in one engine. Implementations: ``search_index.embedded``.

    Calls take and return the project's types (never engine dicts) and stay small: no call
    returns every id, and none returns vectors (that is ``DocumentVectors``, which a backend
    may also implement), so a backend can be a cluster of 10M documents.
    Reads see what was committed; ``checkpoint`` makes it durable.

    Example::

        index.upsert(documents)
        index.commit()
        index.checkpoint(applied_through=4711)
        index.vector_search("acme", query_vector, SearchFilters(), limit=200)
    """

    # What the backend was opened with; the pipeline reads retrieval depth, RRF k and the
    # semantic floor from it.
    settings: SearchSettings

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        """Insert or replace documents by id; visible to search after ``commit``."""
        ...

    def delete(self, ids: Sequence[int]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        ...

    def commit(self) -> None:
        """Make every change so far visible to search."""
        ...

    def checkpoint(self, applied_through: int | None = None) -> None:
        """Make every committed change durable; store ``applied_through`` (the last outbox
        event id applied) with it when given."""
        ...

    def applied_through(self) -> int | None:
        """The outbox event id of the last durable checkpoint; None without a usable one."""
        ...

    def keyword_search(
        self, viewer_tenant: str, terms: Sequence[str], filters: SearchFilters, *, limit: int,
        count_groups: bool = False, query: KeywordQuery | None = None,
    ) -> KeywordHits:  # fmt: skip
        """BM25 over the segmented text: documents with any of ``terms`` (or, when given,
        matching ``query``: AND/OR/NOT, phrases, fields), under ``filters``; the best
        ``limit`` and the exact number of matches."""
        ...

    def vector_search(
        self, viewer_tenant: str, vector: np.ndarray, filters: SearchFilters, *, limit: int
    ) -> list[tuple[int, float]]:
        """The ``limit`` nearest documents by cosine under ``filters``, best first."""
        ...

    def list_recent(
        self, viewer_tenant: str, filters: SearchFilters, *, offset: int, limit: int,
        collapse_duplicates: bool,
    ) -> ListedPage:  # fmt: skip
        """The filtered documents newest first (ties: higher id first); one per group when
        collapsing (the newest), with the number of others on its hit."""
        ...

    def facet_counts(
        self, facet: Facet, viewer_tenant: str, filters: SearchFilters, *,
        collapse_duplicates: bool,
    ) -> dict[Any, int]:  # fmt: skip
        """How many documents under ``filters`` have each value of ``facet`` (unknown values
        left out; one per group, the newest, when collapsing). Values as in
        ``SearchResult.facets``."""
        ...

    def group_ids(self, ids: Sequence[int]) -> dict[int, int]:
        """The duplicate group of each known document (its own id when alone)."""
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


@runtime_checkable
class RebuildsBehindAlias(Protocol):
    """A backend that rebuilds into a new index while searches keep using the current one
    (Elasticsearch: a versioned index behind an alias, switched in one call). ``reindex``
    uses it instead of ``clear``, so a full rebuild has no empty window."""

    def begin_rebuild(self) -> str:
        """Start a new index: writes (and checkpoints) go to it, searches stay on the old."""
        ...

    def finish_rebuild(self) -> None:
        """Switch searches to the new index and drop the old."""
        ...

    def abort_rebuild(self) -> None:
        """Drop the new index; searches keep the old."""
        ...


# The name the rest of the project uses for a backend.
SearchIndex = SearchBackend
