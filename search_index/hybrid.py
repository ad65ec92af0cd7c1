"""The search pipeline above every backend: fusion, re-ranking, duplicate collapsing, paging,
facet relaxation and honest totals.

A backend (``search_index.protocol.SearchBackend``) answers small calls; this module turns
them into one ``SearchResult``::

    result = HybridSearch(index).search(SearchQuery(viewer_tenant="acme", text="Python"))
    result.total, result.total_relation  # e.g. 1000, "eq"

Totals: an empty text lists the filtered documents (exact). ``keyword`` mode counts every
matching document (groups, when collapsing) exactly, and paging reaches the last one.
``semantic`` and ``hybrid`` results are what each retriever finds within
``max(candidate_depth, offset + limit)``: the total is exact (``"eq"``) when every retriever
saw all its matches, else a lower bound (``"gte"``): the larger of the fused result and the
exact keyword count. Paging in those modes reaches that fused top, never beyond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from core.settings import SearchSettings
from search_index.candidate_rerank import CandidateReranker, candidate_signals
from search_index.fusion import fuse_rankings
from search_index.protocol import (
    FACET_FILTERS,
    DocumentVectors,
    Facet,
    SearchBackend,
    SearchFilters,
    SearchHit,
    SearchQuery,
    SearchResult,
    TotalRelation,
)
from search_index.query_syntax import body_tokens
from search_index.rerank import rerank_signals, text_language
from search_index.tokenize import tokenize

Ranked = list[tuple[int, float]]


def _without_filters(filters: SearchFilters, names: Sequence[str]) -> SearchFilters:
    """``filters`` with the named fields back at their defaults (no restriction)."""
    unrestricted = SearchFilters()
    return replace(filters, **{name: getattr(unrestricted, name) for name in names})


class HybridSearch:
    """Keyword + semantic search over one backend (see the module docstring)."""

    def __init__(
        self,
        backend: SearchBackend,
        settings: SearchSettings | None = None,
        *,
        vectors: DocumentVectors | None = None,
    ) -> None:
        """``vectors``: where re-ranking reads documents' vectors; by default the backend,
        when it holds them."""
        self.backend = backend
        self.settings = settings or backend.settings
        if vectors is None and isinstance(backend, DocumentVectors):
            vectors = backend
        self.vectors = vectors

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of the result, its total (exact or a lower bound) and facet counts."""
        if query.filters.ids is not None and not query.filters.ids:
            return SearchResult(total=0, hits=[], facets={name: {} for name in query.facets})
        result, counted = self._search(query)
        if not query.facets:
            return result
        facets: dict[str, dict[Any, int]] = {}
        for name in query.facets:
            relaxed = _without_filters(query.filters, FACET_FILTERS[name])
            if relaxed == query.filters:
                facets[name] = self._count(name, query, query.filters, counted)
                continue
            _, relaxed_counted = self._search(replace(query, filters=relaxed, limit=0, offset=0))
            facets[name] = self._count(name, query, relaxed, relaxed_counted)
        return replace(result, facets=facets)

    def _count(
        self, name: Facet, query: SearchQuery, filters: SearchFilters, counted: list[int] | None
    ) -> dict[Any, int]:
        """Facet counts of a text result (``counted``: its documents) or of a listing (None)."""
        if counted is None:
            return self.backend.facet_counts(
                name, query.viewer_tenant, filters, collapse_duplicates=query.collapse_duplicates
            )
        if not counted:
            return {}
        return self.backend.facet_counts(
            name, query.viewer_tenant, replace(filters, ids=tuple(counted)),
            collapse_duplicates=False,
        )  # fmt: skip

    def _search(self, query: SearchQuery) -> tuple[SearchResult, list[int] | None]:
        """One page, and the ids of the whole (collapsed) text result; None for a listing."""
        depth = max(self.settings.candidate_depth, query.offset + query.limit)
        if query.keyword_query is not None:
            terms = body_tokens(query.keyword_query)
        else:
            terms = list(dict.fromkeys(tokenize(query.text))) if query.text.strip() else []
        searches_keywords = bool(terms) or query.keyword_query is not None
        if not searches_keywords and query.vector is None:
            page = self.backend.list_recent(
                query.viewer_tenant, query.filters, offset=query.offset, limit=query.limit,
                collapse_duplicates=query.collapse_duplicates,
            )  # fmt: skip
            return SearchResult(total=page.total, hits=page.hits), None
        keyword: Ranked = []
        keyword_total = 0  # documents, or groups when collapsing
        keyword_exact = keyword_complete = True
        if searches_keywords and query.mode in ("hybrid", "keyword"):
            keyword, keyword_total, keyword_exact, keyword_complete = self._keyword(
                terms, query, depth
            )
        semantic: Ranked = []
        semantic_complete = True
        if query.vector is not None and query.mode in ("hybrid", "semantic"):
            found = self.backend.vector_search(
                query.viewer_tenant, query.vector, query.filters, limit=depth
            )
            floor = self.settings.semantic_floor
            if (
                isinstance(query.rerank, CandidateReranker)
                and query.rerank.semantic_floor is not None
            ):
                floor = query.rerank.semantic_floor
            semantic = [(doc_id, score) for doc_id, score in found if score >= floor]
            # Every match was seen when the backend ran out of documents or of scores above
            # the floor (its results are best first).
            semantic_complete = len(found) < depth or len(semantic) < len(found)
        if query.mode == "keyword":
            exact, total = keyword_exact, keyword_total
        else:
            exact, total = keyword_complete and semantic_complete, keyword_total
        return self._fuse(keyword, semantic, query, total, exact)

    def _keyword(
        self, terms: list[str], query: SearchQuery, depth: int
    ) -> tuple[Ranked, int, bool, bool]:
        """Keyword hits (deep enough for the page in keyword mode), the number of matches
        (groups when collapsing), whether that number is exact and whether the hits hold
        every match."""
        while True:
            if query.keyword_query is None:
                found = self.backend.keyword_search(
                    query.viewer_tenant, terms, query.filters, limit=depth,
                    count_groups=query.collapse_duplicates,
                )  # fmt: skip
            else:
                found = self.backend.keyword_search(
                    query.viewer_tenant, terms, query.filters, limit=depth,
                    count_groups=query.collapse_duplicates, query=query.keyword_query,
                )  # fmt: skip
            complete = len(found.hits) >= found.total
            if query.mode != "keyword" or complete:
                break
            # Keyword mode pages to the last match: look deeper until the page is filled.
            needed = query.offset + query.limit
            shown = (
                len(self._collapse(_ids_of(found.hits))[0])
                if query.collapse_duplicates
                else len(found.hits)
            )
            if shown >= needed:
                break
            depth = min(found.total, max(depth * 2, needed))
        if not query.collapse_duplicates:
            return found.hits, found.total, True, complete
        if found.groups is not None:
            return found.hits, found.groups, True, complete
        # A backend that cannot count groups: the groups seen are a lower bound.
        return found.hits, len(self._collapse(_ids_of(found.hits))[0]), complete, complete

    def _fuse(
        self,
        keyword: Ranked,
        semantic: Ranked,
        query: SearchQuery,
        keyword_total: int,
        exact: bool,
    ) -> tuple[SearchResult, list[int]]:
        """Fused, re-ranked, collapsed; ``exact``: whether the total can be exact (keyword
        mode: ``keyword_total`` is; otherwise every retriever saw all its matches)."""
        lists = [[doc_id for doc_id, _ in ranking] for ranking in (keyword, semantic) if ranking]
        ids, scores = fuse_rankings(lists, k=self.settings.rrf_k)
        if query.rerank is not None and query.vector is not None:
            ids, scores = self._rerank(ids, keyword, query)
        folded = np.zeros(len(ids), dtype=np.int64)
        if query.collapse_duplicates:
            kept, folded = self._collapse(ids)
            ids, scores = ids[kept], scores[kept]
        page = slice(query.offset, query.offset + query.limit)
        page_ids = ids[page].tolist()
        keyword_at = _positions(keyword, page_ids)
        semantic_at = _positions(semantic, page_ids)
        hits = []
        for doc_id, score, duplicates, k_at, s_at in zip(
            page_ids, scores[page].tolist(), folded[page].tolist(), keyword_at, semantic_at,
            strict=True,
        ):  # fmt: skip
            hits.append(
                SearchHit(
                    id=doc_id,
                    score=round(score, 6),
                    keyword_rank=None if k_at is None else k_at + 1,
                    keyword_score=None if k_at is None else keyword[k_at][1],
                    semantic_rank=None if s_at is None else s_at + 1,
                    semantic_score=None if s_at is None else semantic[s_at][1],
                    duplicates=duplicates,
                )
            )
        relation: TotalRelation = "eq" if exact else "gte"
        if query.mode == "keyword":
            total = keyword_total
        elif exact:
            total = len(ids)
        else:
            # The keyword matches are part of the hybrid result: their count bounds it.
            total = max(len(ids), keyword_total)
        return SearchResult(total=total, hits=hits, total_relation=relation), ids.tolist()

    def _rerank(
        self, fused: np.ndarray, keyword: Ranked, query: SearchQuery
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fused documents (ids, best first) ordered by the re-ranker's score (see
        ``search_index.rerank``): ids and scores."""
        if self.vectors is None:
            raise TypeError(f"re-ranking on {type(self.backend).__name__} needs vectors=")
        stored = self.vectors.stored_fields(fused.tolist())
        ids = np.asarray(stored.ids, dtype=np.int64)
        if not len(ids):
            return ids, np.zeros(0)
        at = _positions(keyword, stored.ids)
        bm25 = [0.0 if i is None else keyword[i][1] for i in at]
        assert query.vector is not None and query.rerank is not None
        if isinstance(query.rerank, CandidateReranker):
            scores = query.rerank.score(
                candidate_signals(query.vector, stored, bm25, query.skills, query.occupations),
                text_language(query.text), stored.languages,
            )  # fmt: skip
        else:
            signals = rerank_signals(
                query.vector, stored.vectors, stored.title_vectors, bm25, query.skills,
                stored.skills, query.occupations, stored.occupation_codes,
            )  # fmt: skip
            scores = query.rerank.score(
                signals, text_language(query.text), stored.languages, skills=bool(query.skills)
            )
        order = np.argsort(-scores, kind="stable")  # ties keep the fused order
        return ids[order], np.asarray(scores, dtype=np.float64)[order]

    def _collapse(self, ranked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions in ``ranked`` (ids, best first) of each group's best-ranked document,
        and how many others each of those stands for."""
        if not len(ranked):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        listed = ranked.tolist()
        groups = self.backend.group_ids(listed)
        # A document the backend does not know of is a group of its own.
        group = np.fromiter(map(groups.get, listed, listed), dtype=np.int64, count=len(listed))
        _, leaders, sizes = np.unique(group, return_index=True, return_counts=True)
        order = np.argsort(leaders, kind="stable")
        return leaders[order], sizes[order] - 1


def _positions(ranking: Ranked, ids: Sequence[int]) -> list[int | None]:
    """For each of ``ids``, its position in ``ranking`` (the last, if listed twice, as a dict
    built from it would keep), or None."""
    if not ranking or not len(ids):
        return [None] * len(ids)
    listed = _ids_of(ranking)
    order = np.argsort(listed, kind="stable")
    wanted = np.asarray(ids, dtype=np.int64)
    found = np.searchsorted(listed[order], wanted, side="right") - 1
    clipped = np.maximum(found, 0)
    hit = (found >= 0) & (listed[order][clipped] == wanted)
    return [
        int(order[f]) if h else None for f, h in zip(clipped.tolist(), hit.tolist(), strict=True)
    ]


def _ids_of(ranking: Ranked) -> np.ndarray:
    return np.fromiter((doc_id for doc_id, _ in ranking), dtype=np.int64, count=len(ranking))
