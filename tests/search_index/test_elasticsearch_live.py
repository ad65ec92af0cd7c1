"""The Elasticsearch backend against the shared contract and the embedded backend, on a live
cluster: set ``TALENTMATCH_TEST_ES_URL`` (e.g. ``http://127.0.0.1:9200``; an API key in
``TALENTMATCH_TEST_ES_API_KEY`` when security is on). Each test uses its own index prefix
and deletes its indexes afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ES_URL = os.environ.get("TALENTMATCH_TEST_ES_URL")
if not ES_URL:
    pytest.skip(
        "no live Elasticsearch: set TALENTMATCH_TEST_ES_URL to run the contract and "
        "congruence suites against one",
        allow_module_level=True,
    )

from core.settings import SearchSettings  # noqa: E402
from search_index.elasticsearch import ElasticsearchIndex, create_client  # noqa: E402
from search_index.embedded import EmbeddedIndex  # noqa: E402
from search_index.testing import (  # noqa: E402
    CONGRUENCE_QUERIES,
    CORPUS,
    ENCODER,
    SearchIndexContract,
    compare_backends,
    doc,
    ids,
    query,
)


def es_settings(prefix: str, **options: object) -> SearchSettings:
    group: dict[str, object] = {
        "url": ES_URL,
        "index_prefix": prefix,
        "number_of_replicas": 0,  # a one-node test cluster stays green
        **options,
    }
    if api_key := os.environ.get("TALENTMATCH_TEST_ES_API_KEY"):
        group["api_key"] = api_key
    return SearchSettings(backend="elasticsearch", semantic_floor=-1.0, elasticsearch=group)  # type: ignore[arg-type]


def open_es(prefix: str, *, model_id: str = ENCODER.model_id) -> ElasticsearchIndex:
    return ElasticsearchIndex(
        "job", dim=ENCODER.dim, model_id=model_id, settings=es_settings(prefix)
    )


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"tm-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = create_client(es_settings(name).elasticsearch)
    # Deleting by wildcard is refused by default (action.destructive_requires_name).
    found = client.indices.get_alias(index=f"{name}-*", ignore_unavailable=True)
    for index_name in found.body:
        client.indices.delete(index=index_name, ignore_unavailable=True)
    client.close()


class TestElasticsearchIndex(SearchIndexContract):
    @pytest.fixture
    def index(self, prefix: str) -> Iterator[ElasticsearchIndex]:
        index = open_es(prefix)
        yield index
        index.close()

    @pytest.fixture
    def reopen(self, prefix: str) -> Callable[[], ElasticsearchIndex]:
        return lambda: open_es(prefix)


def test_congruence_with_the_embedded_backend(prefix: str, tmp_path: Path) -> None:
    embedded = EmbeddedIndex(
        tmp_path / "idx", dim=ENCODER.dim, model_id=ENCODER.model_id,
        settings=SearchSettings(semantic_floor=-1.0),
    )  # fmt: skip
    es = open_es(prefix)
    for index in (embedded, es):
        index.upsert(CORPUS)
        index.commit()
    report = compare_backends(embedded, es, CONGRUENCE_QUERIES, k=5)
    embedded.close()
    es.close()
    assert len(report.overlaps) == len(CONGRUENCE_QUERIES)
    # The same segmentation and BM25 on one shard: keyword and filtered listings agree
    # exactly; kNN over int8 vectors may reorder near-ties only.
    assert report.overlaps["0:keyword:python"] == 1.0
    assert report.overlaps["3:hybrid:"] == 1.0
    assert report.mean >= 0.9, report.overlaps


def test_a_model_change_reads_as_lost_and_a_rebuild_switches_the_alias(prefix: str) -> None:
    first = open_es(prefix)
    first.upsert(CORPUS)
    first.checkpoint(applied_through=7)
    assert first.applied_through() == 7
    first.close()
    other = open_es(prefix, model_id="another-model")
    assert other.applied_through() is None and other.count() == 0
    other.begin_rebuild()
    other.upsert([doc(9, "Rust engineer")])
    assert other.count() == 0  # searches keep the alias's (old) index until the switch
    other.finish_rebuild()
    assert other.count() == 1 and ids(other, query("rust", mode="keyword")) == [9]
    versions = other.client.indices.get_alias(index=f"{other.alias}-v*").body
    assert list(versions) == [f"{other.alias}-v2"]  # the old index is gone
    other.close()
