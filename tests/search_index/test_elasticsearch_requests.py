"""The Elasticsearch backend's request bodies against golden JSON files (each checked by
hand against the Elasticsearch 9 REST reference: see golden/es/README.md), the filter
grammar's translation field by field, and the checks that need no cluster (the model
marker in ``_meta``, the factory's start-up error)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from elasticsearch import helpers

from core.domain import EntityKind
from core.settings import ElasticsearchSettings, SearchSettings, Settings
from search_index.elasticsearch import (
    MAPPING_VERSION,
    alias_switch,
    bulk_actions,
    facet_aggregation,
    facet_values,
    filter_clauses,
    index_meta,
    index_settings,
    keyword_query,
    knn_query,
    mapping,
    meta_matches,
    recent_query,
)
from search_index.factory import create_search_index
from search_index.protocol import SALARY_BANDS, IndexDocument, SearchFilters
from search_index.query_syntax import Match

GOLDEN = Path(__file__).parent / "golden" / "es"

EVERY_FILTER = SearchFilters(
    city_codes=(440300, 440100),
    district_codes=(440305,),
    salary_min=10000,
    salary_max=20000,
    employment_types=("full_time",),
    education_min_rank=2,
    education_max_rank=4,
    years_min=1,
    years_max=5,
    skills_all=("python", "sql"),
    skills_any=("django", "flask"),
    companies=("腾讯",),
    ids=(1, 2, 3),
    exclude=(Match("body", ("外包",)),),
)
VISIBILITY = {
    "bool": {
        "should": [{"term": {"tenant_id": "acme"}}, {"term": {"private": False}}],
        "minimum_should_match": 1,
    }
}


def _doc(doc_id: int, **fields: Any) -> IndexDocument:
    return IndexDocument(
        id=doc_id,
        tenant_id="acme",
        private=False,
        title="后端开发工程师",
        text="负责 Java 微服务",
        vector=np.array([0.6, 0.8, 0.0], dtype=np.float32),
        title_vector=np.array([1.0, 0.0, 0.0], dtype=np.float32),
        timestamp=1_700_000_000.0,
        **fields,
    )


def bodies() -> dict[str, Any]:
    """Every golden body by file name (tests compare; a reviewer regenerates and diffs)."""
    es = ElasticsearchSettings(url="http://es:9200")
    return {
        "index_settings": index_settings(es),
        "mapping": mapping(dim=3, model_id="hashing-64", es=es),
        "mapping_ik": mapping(
            dim=3, model_id="hashing-64", es=ElasticsearchSettings(chinese_analyzer="ik")
        ),
        "keyword_query": keyword_query("acme", ["后端", "python"], EVERY_FILTER, limit=200),
        "knn_query": knn_query(
            "acme", np.array([0.6, 0.8, 0.0]), EVERY_FILTER, limit=200, num_candidates_factor=2
        ),
        "recent_query_collapsed": recent_query(
            "acme", SearchFilters(city_codes=(440300,)), offset=20, limit=10, collapse=True
        ),
        "facet_salary": facet_aggregation("salary"),
        "facet_city_after": facet_aggregation("city", after={"value": 440100}),
        "bulk_actions": bulk_actions(
            "talentmatch-jobs-v2",
            upserts=[
                _doc(
                    7,
                    city_code=440300,
                    salary_min=15000,
                    salary_max=25000,
                    skills=("java",),
                    group_id=3,
                    company="华为",
                    language="zh",
                ),
                _doc(8),
            ],
            deletes=[9],
        ),  # fmt: skip
        # What streaming_bulk sends: the action line and the source line of each item.
        "bulk_lines": [
            list(helpers.expand_action(action))
            for action in bulk_actions("talentmatch-jobs-v2", upserts=[_doc(8)], deletes=[9])
        ],
        "alias_switch": alias_switch(
            "talentmatch-jobs", ["talentmatch-jobs-v1"], "talentmatch-jobs-v2"
        ),
    }


@pytest.mark.parametrize("name", sorted(bodies()))
def test_request_bodies_match_the_golden_files(name: str) -> None:
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    assert json.loads(json.dumps(bodies()[name])) == golden


def test_knn_filters_inside_knn_with_visibility_and_no_post_filter() -> None:
    body = knn_query("acme", np.array([0.6, 0.8, 0.0]), EVERY_FILTER, limit=50)
    knn = body["knn"]
    assert knn["filter"]["bool"]["filter"][0] == VISIBILITY
    assert knn["filter"]["bool"]["filter"] == filter_clauses("acme", EVERY_FILTER)
    assert "query" not in body and "post_filter" not in body
    assert knn["k"] == 50 and knn["num_candidates"] >= knn["k"]
    assert knn_query("acme", np.ones(3), SearchFilters(), limit=20_000)["knn"]["k"] == 10_000


def test_keyword_query_filters_visibility_and_counts_exactly() -> None:
    body = keyword_query("globex", ["python"], SearchFilters(), limit=10)
    visibility = body["query"]["bool"]["filter"][0]["bool"]["should"]
    assert {"term": {"tenant_id": "globex"}} in visibility
    assert {"term": {"private": False}} in visibility
    assert body["track_total_hits"] is True
    text = body["query"]["bool"]["must"][0]["bool"]
    assert text["should"] == [{"term": {"body": "python"}}] and text["minimum_should_match"] == 1


# Per filter field, the clause that must carry it (field of the index, bound or values).
TRANSLATION = {
    "city_codes": {"terms": {"city_code": [440300, 440100]}},
    "district_codes": {"terms": {"district_code": [440305]}},
    "salary_min": {"range": {"salary_max": {"gte": 10000}}},
    "salary_max": {"range": {"salary_min": {"lte": 20000}}},
    "employment_types": {"terms": {"employment_type": ["full_time"]}},
    "education_min_rank": {"range": {"education_rank": {"gte": 2}}},
    "education_max_rank": {"range": {"education_rank": {"lte": 4}}},
    "years_min": {"range": {"years": {"gte": 1}}},
    "years_max": {"range": {"years": {"lte": 5}}},
    "skills_all": {"term": {"skills": "python"}},
    "skills_any": {"terms": {"skills": ["django", "flask"]}},
    "companies": {"terms": {"company": ["腾讯"]}},
    "ids": {"terms": {"id": [1, 2, 3]}},
    "exclude": {"bool": {"must_not": [{"term": {"body": "外包"}}]}},
}


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(SearchFilters)])
def test_every_filter_of_the_grammar_is_translated(name: str) -> None:
    only = dataclasses.replace(SearchFilters(), **{name: getattr(EVERY_FILTER, name)})
    clauses = filter_clauses("acme", only)
    assert clauses[0] == VISIBILITY
    assert TRANSLATION[name] in clauses[1:], clauses
    # And in both retrievals, never dropped on the way.
    assert (
        TRANSLATION[name] in keyword_query("acme", ["x"], only, limit=1)["query"]["bool"]["filter"]
    )
    assert (
        TRANSLATION[name]
        in knn_query("acme", np.ones(3), only, limit=1)["knn"]["filter"]["bool"]["filter"]
    )


def test_skills_all_needs_every_skill_and_an_empty_id_list_matches_nothing() -> None:
    clauses = filter_clauses("acme", SearchFilters(skills_all=("python", "sql"), ids=()))
    assert {"term": {"skills": "python"}} in clauses and {"term": {"skills": "sql"}} in clauses
    assert {"terms": {"id": []}} in clauses


def test_salary_facet_bands_use_the_filters_overlap() -> None:
    # A posting paying 12k-18k is in the bands 10-15k and 15-20k, as the filter selects it.
    source = {"salary_min": 12000, "salary_max": 18000}
    assert facet_values("salary", source) == [2, 3]
    assert facet_values("salary", {"salary_max": 60000}) == [len(SALARY_BANDS) - 1]
    assert facet_values("salary", {"salary_min": 3000}) == []
    bands = facet_aggregation("salary")["filters"]["filters"]
    assert bands["2"]["bool"]["filter"] == [
        {"range": {"salary_max": {"gte": 10000}}},
        {"range": {"salary_min": {"lte": 15000}}},
    ]


def test_the_mapping_meta_names_the_model_and_a_model_change_reads_as_lost() -> None:
    meta = mapping(dim=3, model_id="use-v3/profiles-v2", es=ElasticsearchSettings())["_meta"]
    assert meta == index_meta(dim=3, model_id="use-v3/profiles-v2")
    assert meta["mapping_version"] == MAPPING_VERSION
    assert meta_matches(meta, dim=3, model_id="use-v3/profiles-v2")
    assert not meta_matches(meta, dim=3, model_id="m3e-small/profiles-v2")
    assert not meta_matches(meta, dim=512, model_id="use-v3/profiles-v2")
    assert not meta_matches({**meta, "mapping_version": MAPPING_VERSION - 1}, dim=3,
                            model_id="use-v3/profiles-v2")  # fmt: skip
    assert not meta_matches(None, dim=3, model_id="use-v3/profiles-v2")


def test_vector_index_type_and_chinese_subfield_follow_the_settings() -> None:
    bbq = mapping(dim=64, model_id="m", es=ElasticsearchSettings(vector_index_type="bbq_hnsw"))
    assert bbq["properties"]["vector"]["index_options"] == {"type": "bbq_hnsw"}
    plain = mapping(dim=64, model_id="m", es=ElasticsearchSettings())
    assert "fields" not in plain["properties"]["content"]
    smartcn = mapping(dim=64, model_id="m", es=ElasticsearchSettings(chinese_analyzer="smartcn"))
    assert smartcn["properties"]["content"]["fields"]["smartcn"]["analyzer"] == "smartcn"


def test_a_zero_vector_is_left_out_of_the_document() -> None:
    zero = dataclasses.replace(_doc(1), vector=np.zeros(3, dtype=np.float32))
    (action,) = bulk_actions("i", upserts=[zero])
    assert "vector" not in action["_source"] and action["_id"] == "1"


def test_elasticsearch_without_a_url_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, search={"backend": "elasticsearch"})
    with pytest.raises(ValueError, match="TALENTMATCH_SEARCH__ELASTICSEARCH__URL"):
        create_search_index(EntityKind.JOB, settings, dim=3, model_id="m")


def test_both_url_spellings_configure_the_backend(tmp_path: Path) -> None:
    for search in (
        {"backend": "elasticsearch", "elasticsearch": {"url": "http://127.0.0.1:9"}},
        {"backend": "elasticsearch", "elasticsearch_url": "http://127.0.0.1:9"},
    ):
        settings = Settings(environment="test", data_dir=tmp_path, search=search)
        index = create_search_index(EntityKind.JOB, settings, dim=3, model_id="m")
        assert isinstance(index.settings, SearchSettings)
        assert getattr(index, "alias") == "talentmatch-jobs"  # noqa: B009
        index.close()
