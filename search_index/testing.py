"""The contract every search backend meets, shipped with the package so a new backend's tests
reuse it (like haystack's ``haystack/testing/document_store.py``)::

    class TestMyBackend(SearchIndexContract):
        @pytest.fixture
        def index(self, tmp_path): ...   # an empty backend (closed after the test)

        @pytest.fixture
        def reopen(self, tmp_path): ...  # a callable opening the same backend again

Every test runs the backend under the shared pipeline (``search_index.hybrid``), so what it
pins is what users see. ``compare_backends`` runs the same queries on two backends and reports
their top-k overlap (a congruence check between engines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from representation.encoders import HashingEncoder
from search_index.errors import SearchBackendError
from search_index.hybrid import HybridSearch
from search_index.protocol import (
    SALARY_BANDS,
    DocumentVectors,
    IndexDocument,
    SearchFilters,
    SearchIndex,
    SearchQuery,
    SearchResult,
)
from search_index.query_syntax import parse_search

# Vectors here only need to be deterministic and text-dependent: a hashing encoder
# (embedding quality is not what these tests are about).
ENCODER = HashingEncoder(64)


def doc(
    doc_id: int, title: str, *, tenant: str = "acme", private: bool = False, **fields: Any
) -> IndexDocument:
    text = fields.pop("text", "")
    vector, title_vector = ENCODER.encode([f"{title} {text}", title])
    return IndexDocument(
        id=doc_id,
        tenant_id=tenant,
        private=private,
        title=title,
        text=text,
        vector=vector,
        title_vector=title_vector,
        timestamp=fields.pop("timestamp", 1_700_000_000 + doc_id),
        **fields,
    )


def query(text: str = "", *, viewer: str = "acme", **kwargs: Any) -> SearchQuery:
    vector = ENCODER.encode([text])[0] if text else None
    filters = SearchFilters(**kwargs.pop("filters", {}))
    return SearchQuery(viewer_tenant=viewer, text=text, vector=vector, filters=filters, **kwargs)


def syntax_query(text: str, **kwargs: Any) -> SearchQuery:
    """``text`` in the query syntax, parsed as the search route parses it."""
    parsed = parse_search(text)
    filters = {**kwargs.pop("filters", {}), "exclude": parsed.excluded}
    return query(parsed.positive_text, keyword_query=parsed.keyword, filters=filters, **kwargs)


def search(index: SearchIndex, q: SearchQuery) -> SearchResult:
    """``q`` through the shared pipeline over ``index``."""
    return HybridSearch(index).search(q)


def ids(index: SearchIndex, q: SearchQuery) -> list[int]:
    return [hit.id for hit in search(index, q).hits]


def all_ids(index: SearchIndex, viewer: str = "acme") -> set[int]:
    return set(ids(index, query("", viewer=viewer, limit=10_000, collapse_duplicates=False)))


CORPUS = [
    doc(
        1,
        "Python backend engineer",
        text="Django MySQL",
        city_code=440300,
        district_code=440305,
        salary_min=20000,
        salary_max=30000,
        employment_type="full_time",
        education_rank=3,
        years=3,
        skills=("python", "mysql"),
        company="腾讯",
    ),
    doc(
        2,
        "后端开发工程师",
        text="负责 Java 微服务",
        city_code=440300,
        salary_min=15000,
        salary_max=25000,
        employment_type="full_time",
        education_rank=3,
        years=5,
        skills=("java", "microservices"),
        company="华为",
    ),
    doc(
        3,
        "会计",
        text="账务处理 税务",
        city_code=441900,
        salary_min=8000,
        salary_max=12000,
        employment_type="part_time",
        education_rank=2,
        years=1,
        skills=("accounting",),
        company="华为",
    ),
    doc(
        4,
        "Private Python role",
        private=True,
        text="internal",
        city_code=440300,
        skills=("python",),
    ),
    doc(
        5,
        "Python data analyst",
        tenant="globex",
        text="pandas SQL",
        city_code=440100,
        salary_min=12000,
        salary_max=18000,
        employment_type="internship",
        education_rank=3,
        years=0,
        skills=("python", "sql"),
        company="Globex Ltd",
    ),
]


FACETS = ("city", "district", "employment_type", "education", "salary", "company")


class SearchIndexContract:
    """Shared behaviour; subclasses supply ``index`` and ``reopen`` fixtures."""

    @pytest.fixture
    def loaded(self, index: SearchIndex) -> SearchIndex:
        index.upsert(CORPUS)
        index.commit()
        return index

    def test_count_and_ids(self, loaded: SearchIndex) -> None:
        assert loaded.count() == 5
        assert all_ids(loaded) == {1, 2, 3, 4, 5}
        assert all_ids(loaded, viewer="globex") == {1, 2, 3, 5}  # 4 is private to acme

    def test_keyword_search_finds_terms_in_both_languages(self, loaded: SearchIndex) -> None:
        assert set(ids(loaded, query("python", mode="keyword"))) == {1, 4, 5}
        assert ids(loaded, query("后端", mode="keyword")) == [2]

    def test_private_documents_are_visible_to_their_tenant_only(self, loaded: SearchIndex) -> None:
        assert 4 in ids(loaded, query("python", viewer="acme"))
        assert 4 not in ids(loaded, query("python", viewer="globex"))
        assert 4 not in ids(loaded, query("", viewer="globex"))
        assert 4 not in ids(loaded, query("python", viewer="globex", mode="semantic"))

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"city_codes": (440300,)}, {1, 2, 4}),
            ({"district_codes": (440305,)}, {1}),
            ({"salary_min": 19000}, {1, 2}),
            ({"salary_max": 13000}, {3, 5}),
            ({"salary_min": 13000, "salary_max": 16000}, {2, 5}),
            ({"employment_types": ("part_time", "internship")}, {3, 5}),
            ({"education_min_rank": 3}, {1, 2, 5}),
            ({"education_max_rank": 2}, {3}),
            ({"years_min": 1, "years_max": 3}, {1, 3}),
            ({"skills_all": ("python", "sql")}, {5}),
            ({"skills_any": ("java", "accounting")}, {2, 3}),
            ({"companies": ("华为",)}, {2, 3}),
            ({"companies": ("Globex Ltd", "nobody")}, {5}),
            ({"ids": (1, 3, 99)}, {1, 3}),
            ({"ids": (2, 5), "salary_max": 13000}, {5}),
            ({"ids": ()}, set()),
        ],
    )
    def test_filters(self, loaded: SearchIndex, filters: dict, expected: set[int]) -> None:
        assert set(ids(loaded, query("", filters=filters, limit=50))) == expected
        # The same filters hold for keyword and semantic retrieval, inside retrieval.
        assert (
            set(ids(loaded, query("python engineer", filters=filters, limit=50, mode="keyword")))
            <= expected
        )
        semantic = search(
            loaded, query("python engineer", filters=filters, limit=50, mode="semantic")
        )
        assert {h.id for h in semantic.hits} <= expected

    def test_facets_count_the_whole_result(self, loaded: SearchIndex) -> None:
        result = search(loaded, query("", limit=1, facets=FACETS))
        assert len(result.hits) == 1 and result.total == 5
        assert result.facets["city"] == {440300: 3, 441900: 1, 440100: 1}
        assert result.facets["district"] == {440305: 1}
        assert result.facets["employment_type"] == {"full_time": 2, "part_time": 1, "internship": 1}
        assert result.facets["education"] == {3: 3, 2: 1}
        assert result.facets["company"] == {"腾讯": 1, "华为": 2, "Globex Ltd": 1}
        # A band counts every posting whose range overlaps it, as the salary filter does.
        bands = dict(enumerate(SALARY_BANDS))
        for band, count in result.facets["salary"].items():
            low, high = bands[band]
            only = {"salary_min": low, "salary_max": high}
            assert count == search(loaded, query("", filters=only, limit=50)).total

    def test_facets_ignore_their_own_filter_only(self, loaded: SearchIndex) -> None:
        filters = {"city_codes": (440300,), "employment_types": ("full_time",)}
        result = search(loaded, query("", filters=filters, facets=FACETS))
        assert result.total == 2
        # Other cities still show what picking them would give (under the other filters).
        assert result.facets["city"] == {440300: 2}
        assert result.facets["employment_type"] == {"full_time": 2}
        assert result.facets["company"] == {"腾讯": 1, "华为": 1}
        wider = search(loaded, query("", filters={"city_codes": (440300,)}, facets=FACETS))
        assert wider.facets["city"] == {440300: 3, 441900: 1, 440100: 1}
        assert wider.facets["employment_type"] == {"full_time": 2}

    def test_facets_of_a_text_query_count_its_matches(self, loaded: SearchIndex) -> None:
        result = search(loaded, query("python", mode="keyword", facets=("city", "company")))
        assert result.total == 3
        assert result.facets == {
            "city": {440300: 2, 440100: 1},
            "company": {"腾讯": 1, "Globex Ltd": 1},
        }
        scoped = search(
            loaded, query("python", mode="keyword", facets=("city",), filters={"ids": (1, 2)})
        )
        assert scoped.facets == {"city": {440300: 1}}
        assert search(loaded, query("", filters={"ids": ()}, facets=("city",))).facets == {
            "city": {}
        }

    def test_facets_count_a_duplicate_group_once(self, loaded: SearchIndex) -> None:
        loaded.upsert([doc(6, "Python backend engineer (repost)", city_code=440300, group_id=1)])
        loaded.commit()
        collapsed = search(loaded, query("", facets=("city",)))
        assert collapsed.total == 5 and collapsed.facets["city"][440300] == 3
        every = search(loaded, query("", facets=("city",), collapse_duplicates=False))
        assert every.total == 6 and every.facets["city"][440300] == 4

    def test_empty_query_lists_newest_first(self, loaded: SearchIndex) -> None:
        assert ids(loaded, query("", limit=10)) == [5, 4, 3, 2, 1]
        page = search(loaded, query("", limit=2, offset=2))
        assert [h.id for h in page.hits] == [3, 2] and page.total == 5

    def test_hybrid_fuses_keyword_and_semantic_ranks(self, loaded: SearchIndex) -> None:
        result = search(loaded, query("Python backend engineer"))
        assert result.hits[0].id == 1
        assert result.hits[0].keyword_rank == 1 and result.hits[0].semantic_rank is not None

    def test_upsert_replaces_and_delete_removes(self, loaded: SearchIndex) -> None:
        loaded.upsert([doc(1, "Golang engineer", city_code=440300, skills=("go",))])
        loaded.delete([3, 999])
        loaded.commit()
        assert loaded.count() == 4
        assert ids(loaded, query("python", mode="keyword", filters={"city_codes": (440300,)})) == [
            4
        ]
        assert ids(loaded, query("golang", mode="keyword")) == [1]
        assert ids(loaded, query("", filters={"skills_any": ("accounting",)})) == []

    def test_deleted_slots_are_reused_without_ghosts(self, loaded: SearchIndex) -> None:
        loaded.delete([2])
        loaded.upsert([doc(6, "Rust engineer", skills=("rust",))])
        loaded.commit()
        assert all_ids(loaded) == {1, 3, 4, 5, 6}
        semantic = ids(loaded, query("后端开发工程师", mode="semantic", limit=10))
        assert 2 not in semantic

    def test_stored_fields(self, loaded: SearchIndex) -> None:
        if not isinstance(loaded, DocumentVectors):
            pytest.skip("this backend serves no vectors: matching reads them from the database")
        stored = loaded.stored_fields([1, 42])
        assert set(stored) == {1}
        np.testing.assert_allclose(stored[1].vector, CORPUS[0].vector, rtol=1e-2, atol=1e-2)
        assert set(stored[1].skills) == {"python", "mysql"}

    def test_clear(self, loaded: SearchIndex) -> None:
        loaded.clear()
        assert loaded.count() == 0 and ids(loaded, query("python")) == []

    def test_persists_across_reopen(
        self, loaded: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        loaded.close()
        again = reopen()
        assert again.count() == 5 and all_ids(again) == {1, 2, 3, 4, 5}
        assert set(ids(again, query("python", mode="keyword"))) == {1, 4, 5}
        assert set(ids(again, query("", filters={"city_codes": (440300,)}))) == {1, 2, 4}
        assert set(ids(again, query("", filters={"companies": ("华为",)}))) == {2, 3}
        again.close()

    # -- Chinese characters beside the words -------------------------------------------------

    @pytest.fixture
    def police(self, index: SearchIndex) -> SearchIndex:
        """Titles sharing characters, but no jieba word, with the query 刑警探长 (刑警 | 探长)."""
        index.upsert([
            doc(31, "资深警探"),  # the bigram 警探, across the query's two words
            doc(32, "警官"),  # the character 警 only
            doc(33, "刑警探长", text="市局刑侦支队"),  # the query's words
            doc(34, "会计"),
            doc(35, "Police detective"),
        ])  # fmt: skip
        index.commit()
        return index

    def test_keyword_search_finds_titles_sharing_characters(self, police: SearchIndex) -> None:
        result = search(police, query("刑警探长", mode="keyword"))
        found = [h.id for h in result.hits]
        assert set(found) == {31, 32, 33} and result.total == 3
        # The words first, then a shared bigram, then a shared character.
        assert found == [33, 31, 32]

    def test_a_phrase_still_requires_the_phrase(self, police: SearchIndex) -> None:
        assert ids(police, syntax_query('"刑警探长"', mode="keyword")) == [33]
        assert ids(police, syntax_query('"资深警探"', mode="keyword")) == [31]
        assert ids(police, syntax_query('"资深 刑警"', mode="keyword")) == []

    def test_syntax_keeps_its_meaning_beside_the_characters(self, police: SearchIndex) -> None:
        # NOT excludes by words; the characters still widen the plain part.
        assert ids(police, syntax_query("刑警探长 -警官", mode="keyword")) == [33, 31]
        # AND needs the words on both sides: a shared character is not enough.
        assert ids(police, syntax_query("警探 AND 资深", mode="keyword")) == [31]
        assert ids(police, syntax_query("警官 AND 探长", mode="keyword")) == []
        # title: matches title words only.
        assert ids(police, syntax_query("title:刑侦", mode="keyword")) == []

    def test_latin_text_has_no_character_matches(self, police: SearchIndex) -> None:
        assert ids(police, query("detective", mode="keyword")) == [35]
        assert ids(police, query("det", mode="keyword")) == []

    # -- totals, paging, duplicates, consistency marker, errors ----------------------------

    @pytest.fixture
    def large(self, index: SearchIndex) -> SearchIndex:
        """More keyword matches (every document says "python") than the retrieval depth,
        with every tenth document a duplicate of the one before it."""
        index.upsert([
            doc(i, f"Python engineer {i}", text=f"role{i}", city_code=440300 if i % 2 else 440100,
                group_id=i - 1 if i % 10 == 0 else None)
            for i in range(1, LARGE + 1)
        ])  # fmt: skip
        index.commit()
        return index

    def test_keyword_total_is_exact_beyond_the_retrieval_depth(self, large: SearchIndex) -> None:
        assert large.settings.candidate_depth < LARGE
        every = search(large, query("python", mode="keyword", collapse_duplicates=False))
        assert (every.total, every.total_relation) == (LARGE, "eq")
        collapsed = search(large, query("python", mode="keyword"))
        assert (collapsed.total, collapsed.total_relation) == (LARGE - LARGE // 10, "eq")
        shenzhen = search(large, query("python", mode="keyword", filters={"city_codes": (440300,)}))
        assert (shenzhen.total, shenzhen.total_relation) == (LARGE // 2, "eq")
        found = large.keyword_search("acme", ["python"], SearchFilters(), limit=5)
        assert found.total == LARGE and len(found.hits) == 5

    def test_keyword_paging_reaches_the_last_result(self, large: SearchIndex) -> None:
        first = search(large, query("python", mode="keyword", limit=100))
        seen: list[int] = []
        for page in range(first.total // 100 + 2):
            result = search(large, query("python", mode="keyword", limit=100, offset=100 * page))
            seen += [h.id for h in result.hits]
        assert len(seen) == len(set(seen)) == first.total  # every group once, none missing
        assert not set(seen) & set(range(10, LARGE + 1, 10))  # folded duplicates

    def test_hybrid_total_says_when_it_is_a_lower_bound(self, large: SearchIndex) -> None:
        result = search(large, query("python engineer"))
        assert result.total_relation == "gte"
        assert result.total >= LARGE - LARGE // 10  # at least every keyword match
        small = search(large, query("role7"))  # one keyword match, all vectors seen? no
        assert small.total_relation in ("eq", "gte") and small.total >= 1
        scoped = search(large, query("python engineer", filters={"ids": (1, 2, 3)}))
        assert (scoped.total, scoped.total_relation) == (3, "eq")

    def test_duplicates_collapse_under_a_text_query(self, loaded: SearchIndex) -> None:
        loaded.upsert([doc(6, "Python backend engineer", text="Django MySQL", group_id=1)])
        loaded.commit()
        collapsed = search(loaded, query("python backend", mode="keyword"))
        hit_ids = [h.id for h in collapsed.hits]
        assert (1 in hit_ids) != (6 in hit_ids)
        leader = next(h for h in collapsed.hits if h.id in (1, 6))
        assert leader.duplicates == 1 and collapsed.total == 3
        every = search(loaded, query("python backend", mode="keyword", collapse_duplicates=False))
        assert {1, 6} <= {h.id for h in every.hits} and every.total == 4

    def test_consistency_marker_persists_across_reopen(
        self, loaded: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        loaded.checkpoint(applied_through=41)
        loaded.checkpoint()  # no marker given: the stored one stays
        assert loaded.applied_through() == 41
        loaded.close()
        again = reopen()
        assert again.applied_through() == 41
        again.clear()
        assert again.applied_through() is None
        again.close()

    def test_a_vector_of_the_wrong_size_is_refused(self, index: SearchIndex) -> None:
        bad = doc(1, "Python")
        with pytest.raises(SearchBackendError):
            index.upsert([IndexDocument(**{**bad.__dict__, "vector": np.zeros(3, np.float32)})])
        assert index.count() == 0

    def test_an_empty_id_restriction_finds_nothing(self, loaded: SearchIndex) -> None:
        for mode in ("hybrid", "keyword", "semantic"):
            result = search(loaded, query("python", mode=mode, filters={"ids": ()}))
            assert (result.total, result.hits) == (0, [])


LARGE = 450  # more than the default retrieval depth (200)


# -- congruence: the same queries on two backends ------------------------------------------


@dataclass(frozen=True)
class Congruence:
    """Per query, the share of one backend's top k that the other also returns."""

    overlaps: dict[str, float]

    @property
    def mean(self) -> float:
        return sum(self.overlaps.values()) / len(self.overlaps) if self.overlaps else 1.0

    @property
    def worst(self) -> float:
        return min(self.overlaps.values(), default=1.0)


def compare_backends(
    first: SearchIndex, second: SearchIndex, queries: Sequence[SearchQuery], *, k: int = 10
) -> Congruence:
    """Run ``queries`` on both backends (through the shared pipeline) and compare top ``k``:
    overlap = |top_k(first) ∩ top_k(second)| / max(1, |top_k(first) ∪ ...| sizes)."""
    overlaps: dict[str, float] = {}
    for n, q in enumerate(queries):
        limited = replace(q, limit=k, offset=0)
        a = [h.id for h in search(first, limited).hits]
        b = [h.id for h in search(second, limited).hits]
        size = max(len(a), len(b))
        overlaps[f"{n}:{q.mode}:{q.text}"] = len(set(a) & set(b)) / size if size else 1.0
    return Congruence(overlaps)


CONGRUENCE_QUERIES = (
    query("python", mode="keyword"),
    query("Python backend engineer"),
    query("后端开发工程师", mode="semantic"),
    query("", filters={"city_codes": (440300,)}),
    query("engineer", filters={"salary_min": 10000}),
)
