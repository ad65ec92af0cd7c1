"""The vectorized pipeline (fusion, re-ranking, duplicate collapsing, paging) gives exactly
what the per-document loops it replaced gave: the same ids in the same order (ties
included), the same scores, ranks, duplicate counts, totals and facets, over many random
queries and filters on a seeded corpus full of ties and duplicate groups.

``LoopPipeline`` below is the previous implementation, kept verbatim as the reference.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index import highlight as highlight_module
from search_index.candidate_rerank import (
    CandidateReranker,
    candidate_signals,
    default_candidate_reranker,
)
from search_index.embedded import EmbeddedIndex
from search_index.fusion import reciprocal_rank_fusion
from search_index.highlight import highlight
from search_index.hybrid import HybridSearch
from search_index.protocol import (
    IndexDocument,
    SearchFilters,
    SearchHit,
    SearchMode,
    SearchQuery,
    SearchResult,
    TotalRelation,
)
from search_index.query_syntax import parse_search
from search_index.rerank import (
    default_search_reranker,
    occupation_proximity,
    occupation_signal,
    rerank_signals,
    text_language,
)
from search_index.testing import ENCODER
from search_index.tokenize import char_grams, tokenize

Ranked = list[tuple[int, float]]


def loop_rrf(rankings: Sequence[Sequence[int]], *, k: int = 60) -> Ranked:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    best_possible = len(rankings) / (k + 1) if rankings else 1.0
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return [(doc_id, score / best_possible) for doc_id, score in fused]


class LoopPipeline(HybridSearch):
    """The pipeline as it was: Python loops over the fused ids."""

    def _keyword(
        self, terms: list[str], query: SearchQuery, depth: int
    ) -> tuple[Ranked, int, bool, bool]:
        while True:
            found = self.backend.keyword_search(
                query.viewer_tenant, terms, query.filters, limit=depth,
                count_groups=query.collapse_duplicates, query=query.keyword_query,
            )  # fmt: skip
            complete = len(found.hits) >= found.total
            if query.mode != "keyword" or complete:
                break
            needed = query.offset + query.limit
            shown = (
                len(self._loop_collapse(found.hits)[0])
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
        return found.hits, len(self._loop_collapse(found.hits)[0]), complete, complete

    def _fuse(
        self, keyword: Ranked, semantic: Ranked, query: SearchQuery, keyword_total: int,
        exact: bool,
    ) -> tuple[SearchResult, list[int]]:  # fmt: skip
        lists = [[doc_id for doc_id, _ in ranking] for ranking in (keyword, semantic) if ranking]
        fused = loop_rrf(lists, k=self.settings.rrf_k)
        if query.rerank is not None and query.vector is not None:
            fused = self._loop_rerank(fused, keyword, query)
        folded: dict[int, int] = {}
        if query.collapse_duplicates:
            fused, folded = self._loop_collapse(fused)
        keyword_rank = {doc_id: (r, s) for r, (doc_id, s) in enumerate(keyword, start=1)}
        semantic_rank = {doc_id: (r, s) for r, (doc_id, s) in enumerate(semantic, start=1)}
        hits = []
        for doc_id, score in fused[query.offset : query.offset + query.limit]:
            k_rank, k_score = keyword_rank.get(doc_id, (None, None))
            s_rank, s_score = semantic_rank.get(doc_id, (None, None))
            hits.append(
                SearchHit(
                    id=doc_id, score=round(score, 6), keyword_rank=k_rank, keyword_score=k_score,
                    semantic_rank=s_rank, semantic_score=s_score,
                    duplicates=folded.get(doc_id, 0),
                )
            )  # fmt: skip
        relation: TotalRelation = "eq" if exact else "gte"
        if query.mode == "keyword":
            total = keyword_total
        elif exact:
            total = len(fused)
        else:
            total = max(len(fused), keyword_total)
        return SearchResult(total=total, hits=hits, total_relation=relation), [d for d, _ in fused]

    def _loop_rerank(self, fused: Ranked, keyword: Ranked, query: SearchQuery) -> Ranked:
        assert self.vectors is not None
        stored = self.vectors.stored_fields([doc_id for doc_id, _ in fused])
        ids = stored.ids
        if not ids:
            return []
        bm25 = dict(keyword)
        assert query.vector is not None and query.rerank is not None
        if isinstance(query.rerank, CandidateReranker):
            scores = query.rerank.score(
                candidate_signals(query.vector, stored, [bm25.get(d, 0.0) for d in ids],
                                  query.skills, query.occupations),
                text_language(query.text), stored.languages,
            )  # fmt: skip
            order = np.argsort(-scores, kind="stable")
            return [(ids[i], float(scores[i])) for i in order]
        signals = rerank_signals(
            query.vector, stored.vectors, stored.title_vectors,
            [bm25.get(d, 0.0) for d in ids], query.skills, stored.skills,
            query.occupations, stored.occupation_codes,
        )  # fmt: skip
        scores = query.rerank.score(
            signals, text_language(query.text), stored.languages, skills=bool(query.skills)
        )
        order = np.argsort(-scores, kind="stable")
        return [(ids[i], float(scores[i])) for i in order]

    def _loop_collapse(self, ranked: Ranked) -> tuple[Ranked, dict[int, int]]:
        groups = self.backend.group_ids([doc_id for doc_id, _ in ranked])
        kept: Ranked = []
        leader: dict[int, int] = {}
        folded: dict[int, int] = {}
        for doc_id, score in ranked:
            group = groups.get(doc_id, doc_id)
            if group in leader:
                folded[leader[group]] = folded.get(leader[group], 0) + 1
                continue
            leader[group] = doc_id
            kept.append((doc_id, score))
        return kept, folded


# Few distinct texts, so that many documents tie on every signal.
TITLES = ("后端开发工程师", "Java开发工程师", "会计", "出纳", "数据分析师", "调解员", "律师",
          "叉车司机", "Backend Engineer", "Accountant", "Data Analyst", "Python工程师")  # fmt: skip
TEXTS = ("负责 Python 微服务", "熟悉 Java 和 MySQL", "账务处理 税务", "Excel 报表",
         "Build services in Go", "forklift warehouse", "调解 仲裁 法律", "")  # fmt: skip
SKILLS = ("python", "java", "mysql", "excel", "go", "sql")
CODES = ("2-02-10-03", "2-02-10-04", "2-06-01-01", "4-02-06-01", "ISCO-08:2512",
         "ISCO-08:4311", "3-01-02-01", None)  # fmt: skip
CITIES = (440300, 440100, 441900)
QUERIES = ("后端开发", "Python 工程师", "会计 出纳", "数据分析", "Java", "Backend Engineer",
           "调解员", "司机", "Accountant excel", "工程师", "律师 仲裁", "sql")  # fmt: skip
SYNTAX = (
    '"开发工程师" -会计',
    "Java OR Python",
    "title:会计",
    "工程师 -Java",
    "(会计 OR 出纳) 税务",
)


def corpus(seed: int, count: int, *, sections: bool) -> list[IndexDocument]:
    rng = random.Random(seed)
    documents: list[IndexDocument] = []
    doc_id = 0
    while len(documents) < count:
        title, text = rng.choice(TITLES), rng.choice(TEXTS)
        vector, title_vector = ENCODER.encode([f"{title} {text}", title])
        section_vectors = ENCODER.encode([title, text or title]) if sections else None
        leader = doc_id + 1
        for _ in range(rng.choice((2, 3, 5)) if rng.random() < 0.25 else 1):
            doc_id += 1
            documents.append(
                IndexDocument(
                    id=doc_id, tenant_id=rng.choice(("acme", "globex")),
                    private=rng.random() < 0.1, title=title, text=f"{title} {text}",
                    vector=vector, title_vector=title_vector,
                    timestamp=1_700_000_000 + rng.randrange(100), city_code=rng.choice(CITIES),
                    salary_min=rng.choice((5000, 10000, None)),
                    salary_max=rng.choice((20000, 30000)),
                    employment_type=rng.choice(("full_time", "part_time")),
                    skills=tuple(sorted(rng.sample(SKILLS, rng.randint(0, 3)))),
                    group_id=leader if doc_id != leader else None,
                    company=rng.choice(("腾讯", "华为", None)),
                    language="en" if title.isascii() else "zh",
                    occupation_code=rng.choice(CODES), section_vectors=section_vectors,
                )
            )  # fmt: skip
    return documents


def open_index(path: Path, documents: Sequence[IndexDocument]) -> EmbeddedIndex:
    index = EmbeddedIndex(
        path, dim=ENCODER.dim, model_id=ENCODER.model_id,
        # A small depth makes paging reach past it and totals lower bounds.
        settings=SearchSettings(semantic_floor=0.05, candidate_depth=60),
    )  # fmt: skip
    index.upsert(documents)
    index.commit()
    return index


@pytest.fixture(scope="module")
def postings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedIndex]:
    index = open_index(tmp_path_factory.mktemp("postings"), corpus(1, 900, sections=False))
    yield index
    index.close()


@pytest.fixture(scope="module")
def candidates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedIndex]:
    index = open_index(tmp_path_factory.mktemp("candidates"), corpus(2, 500, sections=True))
    yield index
    index.close()


def random_query(rng: random.Random, reranker: object) -> SearchQuery:
    filters = SearchFilters(
        city_codes=tuple(rng.sample(CITIES, rng.choice((0, 0, 1, 2)))),
        skills_any=tuple(rng.sample(SKILLS, rng.choice((0, 0, 0, 1)))),
        salary_min=rng.choice((None, None, 8000)),
        ids=tuple(rng.sample(range(1, 901), 300)) if rng.random() < 0.1 else None,
    )
    keyword_query = None
    if rng.random() < 0.2:
        parsed = parse_search(rng.choice(SYNTAX))
        text, keyword_query = parsed.positive_text, parsed.keyword
        filters = replace(filters, exclude=parsed.excluded)
    else:
        text = rng.choice(QUERIES)
    modes: tuple[SearchMode, ...] = ("hybrid", "hybrid", "hybrid", "keyword", "semantic")
    mode = rng.choice(modes)
    return SearchQuery(
        viewer_tenant=rng.choice(("acme", "globex")), text=text,
        vector=ENCODER.encode([text])[0] if text else None, filters=filters,
        limit=rng.choice((5, 10, 20)), offset=rng.choice((0, 0, 10, 20, 40, 95)), mode=mode,
        collapse_duplicates=rng.random() < 0.7,
        facets=tuple(rng.sample(("city", "salary", "company", "employment_type"),
                                rng.choice((0, 0, 1, 2)))),
        rerank=reranker if mode == "hybrid" and rng.random() < 0.8 else None,  # type: ignore[arg-type]
        skills=tuple(rng.sample(SKILLS, rng.choice((0, 0, 1, 2)))),
        occupations=tuple((code, rng.choice((0.9, 0.5, 0.2)))
                          for code in rng.sample([c for c in CODES if c], rng.choice((0, 1, 3)))),
        keyword_query=keyword_query,
    )  # fmt: skip


def assert_same(index: EmbeddedIndex, query: SearchQuery) -> SearchResult:
    expected = LoopPipeline(index).search(query)
    got = HybridSearch(index).search(query)
    assert got == expected, query
    return got


def test_posting_search_matches_the_loop_pipeline_over_random_queries(
    postings: EmbeddedIndex,
) -> None:
    rng = random.Random(18)
    reranker = default_search_reranker()
    results = [assert_same(postings, random_query(rng, reranker)) for _ in range(300)]
    # The queries exercised what they are meant to: ties, folded duplicates, deep pages.
    hits = [hit for result in results for hit in result.hits]
    assert any(hit.duplicates for hit in hits)
    assert len({hit.score for hit in hits}) < len(hits) / 2
    assert any(result.total_relation == "gte" for result in results)
    assert sum(bool(result.hits) for result in results) > 200


def test_candidate_search_matches_the_loop_pipeline_over_random_queries(
    candidates: EmbeddedIndex,
) -> None:
    rng = random.Random(19)
    reranker = default_candidate_reranker()
    results = [
        assert_same(candidates, replace(random_query(rng, reranker), facets=())) for _ in range(150)
    ]
    assert sum(bool(result.hits) for result in results) > 100


def test_fusion_matches_the_loop_over_random_rankings_with_ties_and_repeats() -> None:
    rng = random.Random(5)
    for _ in range(500):
        rankings = [
            [rng.randrange(60) for _ in range(rng.randrange(0, 80))]
            for _ in range(rng.choice((0, 1, 2, 3)))
        ]
        k = rng.choice((1, 60))
        assert reciprocal_rank_fusion(rankings, k=k) == loop_rrf(rankings, k=k)


def loop_highlight(
    query: str, fields: dict[str, str | None], *, max_snippets: int = 2
) -> dict[str, list[str]]:
    """Highlights as they were made: the query segmented and compiled for every hit."""
    words = {t for t in tokenize(query) if len(t) >= 2 or not t.isascii()}
    grams = char_grams(query)
    patterns = [
        p
        for p in (
            highlight_module._pattern(words | {g for g in grams if len(g) == 2}),
            highlight_module._pattern({g for g in grams if len(g) == 1}),
        )
        if p is not None
    ]
    out: dict[str, list[str]] = {}
    for name, text in fields.items():
        if not text:
            continue
        for pattern in patterns:
            matches = list(pattern.finditer(text))
            if matches:
                break
        else:
            continue
        snippets: list[str] = []
        covered_until = -1
        for match in matches:
            if match.start() < covered_until:
                continue
            start = max(0, match.start() - 40)
            end = min(len(text), match.end() + 40)
            snippets.append(highlight_module._mark(text, start, end, pattern))
            covered_until = end
            if len(snippets) >= max_snippets:
                break
        out[name] = snippets
    return out


HIGHLIGHT_TEXTS = (
    "医院药剂师", "药学专员", "Python <script>alert(1)</script> dev", "刑警 警探 辅警",
    "负责后端服务开发，熟悉Python和MySQL。联系 hr@example.com 或 13800138000",
    "We build React and TypeScript front ends for 腾讯 and 华为 clients, Java 微服务 too. " * 3,
    "Senior Backend Engineer (Go/Python) — 深圳南山，五险一金\n年终奖", "会计 出纳 账务处理 税务申报",
    "", "python3 pythonic PYTHON py", "C++ / C# / .NET 开发工程师", "调解员、调度员、仲裁员",
)  # fmt: skip
HIGHLIGHT_QUERIES = (
    "药剂师", "警探", "Python", "python 后端", "React 前端 TypeScript", "Java微服务 深圳",
    "会计", "C++ 开发", "调解员", "hr@example.com", "script", "五险一金 Go", "py", "师",
    "后端开发工程师 Python MySQL", "\"开发工程师\" -会计", "年终奖\n", "",
)  # fmt: skip


def test_highlights_are_the_snippets_the_per_hit_segmentation_made() -> None:
    rng = random.Random(3)
    queries = [*HIGHLIGHT_QUERIES, *(" ".join(rng.sample(HIGHLIGHT_QUERIES, 2)) for _ in range(40))]
    for query in queries:
        for _ in range(5):
            fields = dict(zip(("title", "description", "company"),
                              rng.sample(HIGHLIGHT_TEXTS, 3), strict=True))  # fmt: skip
            snippets = rng.choice((1, 2, 3))
            expected = loop_highlight(query, fields, max_snippets=snippets)
            assert highlight(query, fields, max_snippets=snippets) == expected, (query, fields)
    assert highlight("药剂师", {"title": "药学专员"}) == {"title": ["<em>药</em>学专员"]}


def test_a_page_of_highlights_segments_its_query_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counted(text: str) -> list[str]:
        calls.append(text)
        return tokenize(text)

    monkeypatch.setattr(highlight_module, "tokenize", counted)
    query = "后端开发 Python 工程师 (a page never seen before)"
    page = [highlight(query, {"title": text, "description": text}) for text in HIGHLIGHT_TEXTS]
    assert calls == [query]
    assert page[3] == {} and "<em>Python</em>" in page[2]["title"][0]


def test_occupation_signal_matches_the_per_document_loop() -> None:
    rng = random.Random(8)
    for _ in range(200):
        asked = tuple((code, rng.choice((1.0, 0.7, 0.25)))
                      for code in rng.sample([c for c in CODES if c], rng.randint(1, 4)))  # fmt: skip
        documents = [rng.choice(CODES) for _ in range(rng.randrange(0, 50))]
        expected = [
            max((confidence * occupation_proximity(code, document) for code, confidence in asked),
                default=0.0) if document else 0.0
            for document in documents
        ]  # fmt: skip
        assert occupation_signal(asked, documents).tolist() == expected
