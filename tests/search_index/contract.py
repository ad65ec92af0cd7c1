"""The contract every ``SearchIndex`` backend must meet. A backend's test module subclasses
``SearchIndexContract`` and provides the ``index`` fixture (and ``reopen`` for persistence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from representation.encoders import HashingEncoder
from search_index.protocol import (
    SALARY_BANDS,
    IndexDocument,
    SearchFilters,
    SearchIndex,
    SearchQuery,
)

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


def ids(index: SearchIndex, q: SearchQuery) -> list[int]:
    return [hit.id for hit in index.search(q).hits]


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
        assert loaded.ids() == {1, 2, 3, 4, 5}

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
        semantic = loaded.search(
            query("python engineer", filters=filters, limit=50, mode="semantic")
        )
        assert {h.id for h in semantic.hits} <= expected

    def test_facets_count_the_whole_result(self, loaded: SearchIndex) -> None:
        result = loaded.search(query("", limit=1, facets=FACETS))
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
            assert count == loaded.search(query("", filters=only, limit=50)).total

    def test_facets_ignore_their_own_filter_only(self, loaded: SearchIndex) -> None:
        filters = {"city_codes": (440300,), "employment_types": ("full_time",)}
        result = loaded.search(query("", filters=filters, facets=FACETS))
        assert result.total == 2
        # Other cities still show what picking them would give (under the other filters).
        assert result.facets["city"] == {440300: 2}
        assert result.facets["employment_type"] == {"full_time": 2}
        assert result.facets["company"] == {"腾讯": 1, "华为": 1}
        wider = loaded.search(query("", filters={"city_codes": (440300,)}, facets=FACETS))
        assert wider.facets["city"] == {440300: 3, 441900: 1, 440100: 1}
        assert wider.facets["employment_type"] == {"full_time": 2}

    def test_facets_of_a_text_query_count_its_matches(self, loaded: SearchIndex) -> None:
        result = loaded.search(query("python", mode="keyword", facets=("city", "company")))
        assert result.total == 3
        assert result.facets == {
            "city": {440300: 2, 440100: 1},
            "company": {"腾讯": 1, "Globex Ltd": 1},
        }
        scoped = loaded.search(
            query("python", mode="keyword", facets=("city",), filters={"ids": (1, 2)})
        )
        assert scoped.facets == {"city": {440300: 1}}
        assert loaded.search(query("", filters={"ids": ()}, facets=("city",))).facets == {
            "city": {}
        }

    def test_facets_count_a_duplicate_group_once(self, loaded: SearchIndex) -> None:
        loaded.upsert([doc(6, "Python backend engineer (repost)", city_code=440300, group_id=1)])
        loaded.commit()
        collapsed = loaded.search(query("", facets=("city",)))
        assert collapsed.total == 5 and collapsed.facets["city"][440300] == 3
        every = loaded.search(query("", facets=("city",), collapse_duplicates=False))
        assert every.total == 6 and every.facets["city"][440300] == 4

    def test_empty_query_lists_newest_first(self, loaded: SearchIndex) -> None:
        assert ids(loaded, query("", limit=10)) == [5, 4, 3, 2, 1]
        page = loaded.search(query("", limit=2, offset=2))
        assert [h.id for h in page.hits] == [3, 2] and page.total == 5

    def test_hybrid_fuses_keyword_and_semantic_ranks(self, loaded: SearchIndex) -> None:
        result = loaded.search(query("Python backend engineer"))
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
        assert loaded.ids() == {1, 3, 4, 5, 6}
        semantic = ids(loaded, query("后端开发工程师", mode="semantic", limit=10))
        assert 2 not in semantic

    def test_stored_vectors(self, loaded: SearchIndex) -> None:
        stored = loaded.vectors([1, 42])
        assert set(stored) == {1}
        np.testing.assert_allclose(stored[1].vector, CORPUS[0].vector, rtol=1e-6)

    def test_clear(self, loaded: SearchIndex) -> None:
        loaded.clear()
        assert loaded.count() == 0 and ids(loaded, query("python")) == []

    def test_persists_across_reopen(
        self, loaded: SearchIndex, reopen: Callable[[], SearchIndex]
    ) -> None:
        loaded.close()
        again = reopen()
        assert again.ids() == {1, 2, 3, 4, 5}
        assert set(ids(again, query("python", mode="keyword"))) == {1, 4, 5}
        assert set(ids(again, query("", filters={"city_codes": (440300,)}))) == {1, 2, 4}
        assert set(ids(again, query("", filters={"companies": ("华为",)}))) == {2, 3}
        again.close()
