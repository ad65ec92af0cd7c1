"""The embedded backend against the shared contract, plus its own HNSW path."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters, SearchQuery
from search_index.testing import (
    CONGRUENCE_QUERIES,
    CORPUS,
    ENCODER,
    SearchIndexContract,
    compare_backends,
    doc,
    search,
)


def open_index(path: Path, **settings: object) -> EmbeddedIndex:
    return EmbeddedIndex(
        path,
        dim=ENCODER.dim,
        model_id=ENCODER.model_id,
        settings=SearchSettings(semantic_floor=-1.0, embedded=settings),
    )  # type: ignore[arg-type]


class TestEmbeddedIndex(SearchIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[EmbeddedIndex]:
        index = open_index(tmp_path / "idx")
        yield index
        index.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], EmbeddedIndex]:
        return lambda: open_index(tmp_path / "idx")


class TestEmbeddedIndexThroughHnsw(SearchIndexContract):
    """The same contract with the exact-scan shortcut disabled, so vectors go through HNSW."""

    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[EmbeddedIndex]:
        index = open_index(tmp_path / "idx", exact_search_threshold=0)
        yield index
        index.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], EmbeddedIndex]:
        return lambda: open_index(tmp_path / "idx", exact_search_threshold=0)


def test_hnsw_and_exact_search_agree_on_a_larger_random_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, ENCODER.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [
        IndexDocument(
            id=i + 1,
            tenant_id="t",
            private=False,
            title=f"doc {i}",
            text="",
            vector=vectors[i],
            title_vector=vectors[i],
            timestamp=float(i),
            city_code=440300 if i % 3 else 440100,
        )
        for i in range(len(vectors))
    ]
    exact = open_index(tmp_path / "exact")
    approximate = open_index(tmp_path / "hnsw", exact_search_threshold=0)
    for index in (exact, approximate):
        index.upsert(docs)
        index.commit()
    recalls = []
    for q in vectors[:50]:
        sq = SearchQuery(
            viewer_tenant="t",
            vector=q,
            filters=SearchFilters(city_codes=(440300,)),
            limit=10,
            mode="semantic",
        )
        truth = {h.id for h in search(exact, sq).hits}
        found = {h.id for h in search(approximate, sq).hits}
        assert all(docs[i - 1].city_code == 440300 for i in found)
        recalls.append(len(truth & found) / 10)
    exact.close()
    approximate.close()
    assert np.mean(recalls) >= 0.95


def test_a_second_process_cannot_open_the_same_index_for_writing(tmp_path: Path) -> None:
    first = open_index(tmp_path / "idx")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from search_index.errors import IndexLockedError\n"
        "from tests.search_index.test_embedded import open_index\n"
        "try:\n"
        f"    open_index(Path({str(tmp_path / 'idx')!r}))\n"
        "except IndexLockedError:\n"
        "    sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3, result.stderr
    first.close()


def test_checkpoint_from_another_model_is_not_loaded(tmp_path: Path) -> None:
    index = open_index(tmp_path / "idx")
    index.upsert([doc(1, "Python")])
    index.close()
    del index
    other = EmbeddedIndex(
        tmp_path / "idx", dim=ENCODER.dim, model_id="another-model", settings=SearchSettings()
    )
    assert other.count() == 0
    assert (
        search(other, SearchQuery(viewer_tenant="acme", text="python", mode="keyword")).total == 0
    )
    other.close()


def test_congruence_of_two_embedded_backends_is_total(tmp_path: Path) -> None:
    first, second = open_index(tmp_path / "a"), open_index(tmp_path / "b", exact_search_threshold=0)
    for index in (first, second):
        index.upsert(CORPUS)
        index.commit()
    report = compare_backends(first, second, CONGRUENCE_QUERIES, k=5)
    assert len(report.overlaps) == len(CONGRUENCE_QUERIES)
    assert report.mean == 1.0 and report.worst == 1.0
    first.close()
    second.close()


def test_congruence_reports_a_backend_that_differs(tmp_path: Path) -> None:
    first, second = open_index(tmp_path / "a"), open_index(tmp_path / "b")
    first.upsert(CORPUS)
    # The second misses one posting and holds another one the first lacks.
    second.upsert([d for d in CORPUS if d.id != 1] + [doc(9, "Python backend engineer")])
    for index in (first, second):
        index.commit()
    report = compare_backends(first, second, CONGRUENCE_QUERIES, k=5)
    assert report.worst < 1.0 and report.mean < 1.0
    assert report.overlaps["0:keyword:python"] == 2 / 3
    first.close()
    second.close()
