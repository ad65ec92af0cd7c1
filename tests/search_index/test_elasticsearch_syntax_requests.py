"""The Elasticsearch bodies of the query syntax against golden JSON files (checked by hand
against the Elasticsearch 9 Query DSL reference: see golden/es/README.md): bool
must/should/must_not, match_phrase on the segmented fields, fields, and exclusions inside
``knn.filter``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.settings import ElasticsearchSettings
from search_index.elasticsearch import keyword_query, knn_query, mapping, syntax_clause
from search_index.protocol import SearchFilters
from search_index.query_syntax import parse_search

GOLDEN = Path(__file__).parent / "golden" / "es"
ISSUE_QUERY = "Java AND (Spring OR 微服务) NOT 外包"


def bodies() -> dict[str, Any]:
    """Every golden body by file name (tests compare; a reviewer regenerates and diffs)."""
    issue = parse_search(ISSUE_QUERY)
    fields = parse_search('title:"Java 工程师" skill:golang company:华为 -"外包 项目"')
    assert issue.keyword is not None and fields.keyword is not None
    return {
        "syntax_keyword_query": keyword_query(
            "acme", [], SearchFilters(exclude=issue.excluded), limit=200, query=issue.keyword
        ),
        "syntax_fields_and_phrases": keyword_query(
            "acme", [], SearchFilters(exclude=fields.excluded), limit=50, query=fields.keyword
        ),
        "syntax_knn_exclude": knn_query(
            "acme", np.array([0.6, 0.8, 0.0]), SearchFilters(exclude=issue.excluded), limit=100
        ),
    }


@pytest.mark.parametrize("name", sorted(bodies()))
def test_syntax_bodies_match_the_golden_files(name: str) -> None:
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    assert json.loads(json.dumps(bodies()[name])) == golden


def test_and_is_must_or_is_should_with_one_required_not_is_must_not() -> None:
    parsed = parse_search("(java AND go) OR (rust -外包)")
    assert parsed.keyword is not None
    assert syntax_clause(parsed.keyword) == {
        "bool": {
            "should": [
                {"bool": {"must": [{"term": {"body": "java"}}, {"term": {"body": "go"}}]}},
                {
                    "bool": {
                        "must": [{"term": {"body": "rust"}}],
                        "must_not": [{"term": {"body": "外包"}}],
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def test_exclusions_filter_the_vector_side_inside_knn() -> None:
    excluded = parse_search("java -外包").excluded
    body = knn_query("acme", np.ones(3), SearchFilters(exclude=excluded), limit=10)
    assert "post_filter" not in body and "query" not in body
    assert {"bool": {"must_not": [{"term": {"body": "外包"}}]}} in body["knn"]["filter"]["bool"][
        "filter"
    ]


def test_phrases_need_positions_in_the_mapping() -> None:
    properties = mapping(dim=3, model_id="m", es=ElasticsearchSettings())["properties"]
    for field in ("body", "title"):
        # The default index_options of a text field are positions; freqs would refuse phrases.
        assert "index_options" not in properties[field]
        assert properties[field]["analyzer"] == "tm_tokens"
