"""The embedded index with one compact copy of each content vector (``vector_codec``
float16 / int8 in a faiss ``IndexHNSWSQ``): the backend contract, rankings against a
float32 brute force through upserts, replacements, deletes, compaction and a reopen, the
stored vectors' rounding, and a codec change rebuilding the index."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters
from search_index.testing import ENCODER, SearchIndexContract, doc

COMPACT = ("float16", "int8")


def open_index(
    path: Path, codec: str, *, dim: int = ENCODER.dim, **settings: object
) -> EmbeddedIndex:
    return EmbeddedIndex(
        path,
        dim=dim,
        model_id=ENCODER.model_id,
        settings=SearchSettings(semantic_floor=-1.0, embedded={"vector_codec": codec, **settings}),  # type: ignore[arg-type]
    )


@pytest.fixture(
    params=[(c, t) for c in COMPACT for t in (20_000, 0)], ids=lambda p: f"{p[0]}-threshold{p[1]}"
)
def variant(request: pytest.FixtureRequest) -> tuple[str, int]:
    """A compact codec, with the exact scan of small sets on (20,000) or off (0: the graph)."""
    return request.param


class TestCompactVectors(SearchIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path, variant: tuple[str, int]) -> Iterator[EmbeddedIndex]:
        codec, threshold = variant
        index = open_index(tmp_path / "idx", codec, exact_search_threshold=threshold)
        assert index._vectors.codec == codec  # the contract runs on the codec asked for
        yield index
        index.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path, variant: tuple[str, int]) -> Callable[[], EmbeddedIndex]:
        codec, threshold = variant
        return lambda: open_index(tmp_path / "idx", codec, exact_search_threshold=threshold)


# -- rankings against a float32 brute force ---------------------------------------------

DIM = 96
SIZE = 3000
# Cities admitting 100% (no filter), 10% and 1% of the documents.
SHARES = {
    "100%": SearchFilters(),
    "10%": SearchFilters(city_codes=(2,)),
    "1%": SearchFilters(city_codes=(3,)),
}


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def document(
    doc_id: int, vector: np.ndarray, city: int, title_vector: np.ndarray | None = None
) -> IndexDocument:
    return IndexDocument(
        id=doc_id, tenant_id="t", private=False, title=f"d{doc_id}", text="", vector=vector,
        title_vector=vector if title_vector is None else title_vector,
        timestamp=float(doc_id), city_code=city,
    )  # fmt: skip


class Truth:
    """What the index should hold, at float32, and the ranking it should give."""

    def __init__(self) -> None:
        self.vectors: dict[int, np.ndarray] = {}
        self.cities: dict[int, int] = {}

    def put(self, docs: list[IndexDocument]) -> None:
        for d in docs:
            self.vectors[d.id], self.cities[d.id] = d.vector, int(d.city_code or 0)

    def delete(self, ids: list[int]) -> None:
        for i in ids:
            del self.vectors[i], self.cities[i]

    def top(self, query: np.ndarray, filters: SearchFilters, k: int) -> list[int]:
        ids = [
            i
            for i in self.vectors
            if not filters.city_codes or self.cities[i] in filters.city_codes
        ]
        scores = np.stack([self.vectors[i] for i in ids]) @ query
        return [ids[j] for j in np.argsort(-scores, kind="stable")[:k]]


def assert_rankings_close(index: EmbeddedIndex, truth: Truth, queries: np.ndarray) -> None:
    """Top-10 overlap with the brute force at least 0.9 under each filter share, and every
    hit alive and inside its filter."""
    for share, filters in SHARES.items():
        overlaps = []
        for q in queries:
            found = [doc_id for doc_id, _ in index.vector_search("t", q, filters, limit=10)]
            expected = truth.top(q, filters, 10)
            assert len(found) == len(expected), share
            assert all(i in truth.vectors for i in found), f"{share}: a deleted document came back"
            if filters.city_codes:
                assert {truth.cities[i] for i in found} <= set(filters.city_codes), share
            overlaps.append(len(set(found) & set(expected)) / len(expected))
        assert np.mean(overlaps) >= 0.9, f"{share}: top-10 overlap {np.mean(overlaps):.3f}"


@pytest.mark.parametrize("codec", ["float32", *COMPACT])
@pytest.mark.parametrize("threshold", [20_000, 0], ids=["exact-scan", "graph"])
def test_rankings_stay_right_through_writes_compaction_and_reopen(
    tmp_path: Path, codec: str, threshold: int
) -> None:
    rng = np.random.default_rng(5)
    share = rng.random(SIZE)
    cities = np.select([share < 0.01, share < 0.11], [3, 2], default=1)
    docs = [
        document(i + 1, v, int(c))
        for i, (v, c) in enumerate(zip(unit(rng, SIZE), cities, strict=True))
    ]
    queries = unit(rng, 25)
    truth = Truth()
    path = tmp_path / "idx"
    index = open_index(path, codec, dim=DIM, exact_search_threshold=threshold)
    try:
        for at in range(0, SIZE, 500):
            index.upsert(docs[at : at + 500])
            truth.put(docs[at : at + 500])
        index.commit()
        assert_rankings_close(index, truth, queries)

        # 40% replaced by new vectors (faiss: tombstones past the compaction share), 10%
        # deleted, a few re-upserted twice within one batch (the last one counts).
        replaced = [
            document(d.id, v, int(d.city_code or 1))
            for d, v in zip(docs[:1200], unit(rng, 1200), strict=True)
        ]
        index.upsert(replaced)
        truth.put(replaced)
        twice = [document(7, unit(rng, 1)[0], 1), document(7, queries[0], 1)]
        index.upsert(twice)
        truth.put(twice)
        gone = [d.id for d in docs[2000:2300]]
        index.delete(gone)
        truth.delete(gone)
        index.commit()
        assert_rankings_close(index, truth, queries)
        assert index.vector_search("t", queries[0], SearchFilters(), limit=1)[0][0] == 7

        index.checkpoint(applied_through=9)
        if codec != "float32":  # the graph was rebuilt from the live codes only
            assert index._vectors.state.index.ntotal == len(truth.vectors)  # type: ignore[union-attr]
        assert_rankings_close(index, truth, queries)
        # Writes after the rebuild take new labels in the new graph.
        more = [document(SIZE + i + 1, v, 1) for i, v in enumerate(unit(rng, 200))]
        index.upsert(more)
        truth.put(more)
        index.commit()
        assert_rankings_close(index, truth, queries)
        index.close()

        index = open_index(path, codec, dim=DIM, exact_search_threshold=threshold)
        assert index.count() == len(truth.vectors) and index.applied_through() == 9
        assert_rankings_close(index, truth, queries)
        index.upsert(replaced[:100])
        index.delete([d.id for d in docs[1500:1600]])
        truth.delete([d.id for d in docs[1500:1600]])
        index.commit()
        assert_rankings_close(index, truth, queries)
    finally:
        index.close()


@pytest.mark.parametrize("codec", COMPACT)
def test_searches_during_a_compaction_stay_right(tmp_path: Path, codec: str) -> None:
    """A checkpoint rebuilds the graph while searches go on: each answers from the graph it
    began on, and none sees a half-built one."""
    rng = np.random.default_rng(8)
    docs = [document(i + 1, v, 1) for i, v in enumerate(unit(rng, 2000))]
    index = open_index(tmp_path / "idx", codec, dim=DIM, exact_search_threshold=0)
    try:
        index.upsert(docs)
        replaced = [document(d.id, v, 1) for d, v in zip(docs[:1000], unit(rng, 1000), strict=True)]
        index.upsert(replaced)
        index.commit()
        truth = Truth()
        truth.put(docs)
        truth.put(replaced)
        queries = unit(rng, 10)
        expected = [truth.top(q, SearchFilters(), 10) for q in queries]
        failures: list[str] = []
        stop = threading.Event()

        def search() -> None:
            while not stop.is_set():
                for q, want in zip(queries, expected, strict=True):
                    found = [i for i, _ in index.vector_search("t", q, SearchFilters(), limit=10)]
                    if len(set(found) & set(want)) < 8:
                        failures.append(f"{found} against {want}")

        reader = threading.Thread(target=search)
        reader.start()
        try:
            before = index._vectors.state  # type: ignore[union-attr]
            index.checkpoint(applied_through=1)
            assert index._vectors.state is not before  # type: ignore[union-attr]
        finally:
            stop.set()
            reader.join()
        assert not failures, failures[:3]
    finally:
        index.close()


# -- the stored vectors -----------------------------------------------------------------

# Stated tolerances of a reconstructed vector's components: float16 keeps 11 significant
# bits (components below 1: within 2^-11); int8 is within half a quantization step, the
# range (here about ±0.45 for unit vectors of 96 dimensions, ±0.17 for USE) over 255.
TOLERANCE = {"float32": 0.0, "float16": 2**-11, "int8": 0.002}


@pytest.mark.parametrize("codec", ["float32", *COMPACT])
def test_stored_vectors_are_within_the_codec_tolerance(tmp_path: Path, codec: str) -> None:
    rng = np.random.default_rng(2)
    vectors = unit(rng, 500)
    index = open_index(tmp_path / "idx", codec, dim=DIM)
    try:
        index.upsert([document(i + 1, v, 1) for i, v in enumerate(vectors)])
        index.delete([3])
        index.upsert([document(4, vectors[0], 1)])  # a replacement reads its new vector
        index.commit()
        stored = index.stored_fields([1, 4, 3, 250, 9999])
        assert stored.ids == [1, 4, 250]
        original = vectors[[0, 0, 249]]
        assert stored.vectors.dtype == np.float32 and stored.vectors.shape == (3, DIM)
        assert np.abs(stored.vectors - original).max() <= TOLERANCE[codec]
        if codec != "float32":
            assert np.abs(stored.vectors - original).max() > 0  # decoded, not a float32 copy
        cosine = np.sum(stored.vectors * original, axis=1) / np.linalg.norm(stored.vectors, axis=1)
        assert cosine.min() >= 0.9999
        np.testing.assert_array_equal(stored.title_vectors, original)  # titles stay float32
    finally:
        index.close()


def test_compact_codecs_keep_no_float32_copy(tmp_path: Path) -> None:
    """One copy of each content vector: the faiss codes, not a numpy float32 column."""
    rng = np.random.default_rng(4)
    sizes = {}
    for codec in ("float32", "float16", "int8"):
        index = open_index(tmp_path / codec, codec, dim=512)
        try:
            vectors = rng.normal(size=(2000, 512)).astype(np.float32) * 0.044
            # One shared title vector: the titles' own rows stay out of the comparison.
            index.upsert([document(i + 1, v, 1, vectors[0]) for i, v in enumerate(vectors)])
            index.checkpoint()
            sizes[codec] = sum(f.stat().st_size for f in (tmp_path / codec).glob("*-*.*"))
        finally:
            index.close()
    per_vector = {codec: size / 2000 for codec, size in sizes.items()}
    # float32: 2 KB of numpy rows + 2.2 KB of hnswlib graph; float16: 1 KB of codes + the
    # graph; int8: 512 B + the graph (the columns and titles add a little to each).
    assert per_vector["float32"] > 4200
    assert per_vector["float16"] < 1500
    assert per_vector["int8"] < 1000


# -- a codec change -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "wanted"), [("int8", "float32"), ("float32", "float16"), ("float16", "int8")]
)
def test_an_index_written_with_another_codec_rebuilds(
    tmp_path: Path, written: str, wanted: str
) -> None:
    path = tmp_path / "idx"
    old = open_index(path, written)
    old.upsert([doc(1, "Python engineer", city_code=440300), doc(2, "Java developer")])
    old.checkpoint(applied_through=41)
    old.close()
    assert json.loads((path / "checkpoint.json").read_text())["vector_codec"] == written

    again = open_index(path, wanted)
    try:
        # Nothing of the old index is trusted: the caller replays the outbox from the start.
        assert again.applied_through() is None and again.count() == 0
        again.upsert([doc(1, "Python engineer", city_code=440300), doc(3, "Rust engineer")])
        again.checkpoint(applied_through=2)
        found = again.vector_search(
            "acme", ENCODER.encode(["Rust engineer"])[0], SearchFilters(), limit=1
        )
        assert found[0][0] == 3
    finally:
        again.close()
    manifest = json.loads((path / "checkpoint.json").read_text())
    assert manifest["vector_codec"] == wanted
    # The other codec's files are gone with the old checkpoint.
    stale = "vectors-*.faiss" if written != "float32" else "hnsw-*.bin"
    if (written == "float32") != (wanted == "float32"):
        assert not list(path.glob(stale))
    reopened = open_index(path, wanted)
    try:
        assert reopened.count() == 2 and reopened.applied_through() == 2
    finally:
        reopened.close()


def test_a_checkpoint_from_before_the_codec_setting_reads_as_float32(tmp_path: Path) -> None:
    """Checkpoints written before the setting existed hold float32 vectors: they load as
    they are under float32, and rebuild under a compact codec."""
    path = tmp_path / "idx"
    old = open_index(path, "float32")
    old.upsert([doc(1, "Python engineer"), doc(2, "Java developer")])
    old.checkpoint(applied_through=7)
    old.close()
    manifest = json.loads((path / "checkpoint.json").read_text())
    del manifest["vector_codec"]
    (path / "checkpoint.json").write_text(json.dumps(manifest))

    kept = open_index(path, "float32")
    try:
        assert kept.count() == 2 and kept.applied_through() == 7
    finally:
        kept.close()
    (path / "checkpoint.json").write_text(json.dumps(manifest))
    rebuilt = open_index(path, "int8")
    try:
        assert rebuilt.count() == 0 and rebuilt.applied_through() is None
    finally:
        rebuilt.close()


def test_the_codec_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import Settings

    monkeypatch.setenv("TALENTMATCH_SEARCH__EMBEDDED__VECTOR_CODEC", "int8")
    assert Settings().search.embedded.vector_codec == "int8"
    monkeypatch.setenv("TALENTMATCH_SEARCH__EMBEDDED__VECTOR_CODEC", "int4")
    with pytest.raises(ValueError, match="vector_codec"):
        Settings()


def test_int8_ranges_widen_for_vectors_larger_than_the_first_batch(tmp_path: Path) -> None:
    """A first batch of small components must not clip later, larger ones: the index is
    re-encoded under wider ranges, and what it held before keeps its values."""
    rng = np.random.default_rng(6)
    small = unit(rng, 50) * 0.3  # components within about ±0.15: inside the ±0.17 floor
    large = np.zeros((50, DIM), dtype=np.float32)
    large[np.arange(50), rng.permutation(DIM)[:50]] = 0.9  # one large component each
    large += unit(rng, 50) * 0.1
    index = open_index(tmp_path / "idx", "int8", dim=DIM, exact_search_threshold=0)
    try:
        index.upsert([document(i + 1, v, 1) for i, v in enumerate(small)])
        index.upsert([document(100 + i, v, 1) for i, v in enumerate(large)])
        index.commit()
        stored = index.stored_fields([*range(1, 51), *range(100, 150)])
        original = np.concatenate([small, large])
        # Half a step of the widened range (about ±1 over 255) for every component.
        assert np.abs(stored.vectors - original).max() <= 0.005
        for i, v in enumerate(large):
            assert index.vector_search("t", v, SearchFilters(), limit=1)[0][0] == 100 + i
    finally:
        index.close()
