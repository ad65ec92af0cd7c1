"""Which ANN library keeps one compact copy of each vector and still finds the right neighbours
through a filter? (issue 18: RAM ≤ 2 KB a posting at 1M, recall@10 ≥ 0.95 against exact).

    python -m bench.ann_compare [--sizes 31000 1000000] [--queries 400] [--output PATH]

On the SAME vectors and held-out queries, in one run: exact search (numpy float32, the
reference), hnswlib float32 with today's settings and today's per-node Python filter, faiss
``IndexHNSWSQ`` (8-bit and fp16 scalar quantization, inner product) filtered through an
``IDSelectorBitmap``, and usearch ``i8`` / ``f16``. Vectors: the benchmark's embedding cache of
real USE vectors (copied first, read-only). A size larger than the real set is SYNTHETIC (the
real vectors tiled with small Gaussian noise, re-normalized): memory and latency only, its
recall is not reported since the copies' neighbours are each other.

Filters are random masks over the indexed slots admitting 100%, 50%, 10% and 1% of them, given
to each library before retrieval, never applied after it. Not in CI (minutes at 30k, an hour
at 1M on two cores); ``tests/bench/test_ann_compare.py`` runs it on 2,000 random vectors.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import json
import math
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import Settings

CACHE_DB = Path(__file__).parent / ".cache" / "talentmatch.db"
USE_MODEL_ID = "use-multilingual-v3@0.2.1"
SELECTIVITIES = (1.0, 0.5, 0.1, 0.01)
THREAD_COUNTS = (1, 2, 4)
K = 10
WIDEST_EF = 4096


def _faiss() -> Any:
    """faiss, imported where used: an optional extra (``bench-ann``) whose typing differs
    between machines that have it and machines that do not, so it is read as untyped."""
    import importlib

    return importlib.import_module("faiss")


@dataclass(frozen=True)
class HnswParams:
    """Graph settings shared by every HNSW engine, so only the vector storage differs."""

    m: int
    ef_construction: int
    ef_search: int
    # Threads a build may use (0: every core). The tests build on one: on a machine busy
    # with other work, OpenMP teams spinning at their barriers made a 20 s run take minutes.
    build_threads: int = 0

    def threads(self) -> int:
        """Threads a build uses."""
        return self.build_threads or os.cpu_count() or 1


@dataclass
class EngineResult:
    """What one engine measured on one data set; ``skipped`` names why a measure is absent."""

    name: str
    skipped: str | None = None
    build_s: float | None = None
    save_s: float | None = None
    load_s: float | None = None
    file_bytes: int | None = None
    rss_delta_bytes: int | None = None
    library_bytes: int | None = None
    recall: dict[float, float | None] = field(default_factory=dict)
    latency_ms: dict[float, tuple[float, float, float] | None] = field(default_factory=dict)
    qps: dict[int, float] = field(default_factory=dict)
    qps_selectivity: float | None = None
    gil_free: float | None = None
    beside_python: float | None = None
    # Hits the filter rejects: must be 0, the filter is applied before retrieval.
    outside: dict[float, int] = field(default_factory=dict)
    ef_sweep: dict[int, dict[float, float | None]] = field(default_factory=dict)
    # faiss counts rejected nodes against efSearch: widened by 1/share, what it costs.
    widened: dict[float, tuple[int, float | None, tuple[float, float, float]]] = field(
        default_factory=dict
    )
    filter_note: str = ""
    updates: str = ""


@dataclass
class DataSet:
    """Indexed vectors, held-out queries and where they came from."""

    label: str
    vectors: np.ndarray
    queries: np.ndarray
    synthetic: bool


# --- engines -----------------------------------------------------------------------------
# Each engine builds from float32 unit vectors labelled by slot (0..n-1, as the embedded
# index labels them), then answers top-k for one query under a boolean slot mask.


class Engine:
    """An ANN library behind one shape: build, filtered top-k, save, load, update."""

    name = ""
    is_exact = False

    def __init__(self, params: HnswParams) -> None:
        self.params = params

    def build(self, vectors: np.ndarray) -> None:
        """Index ``vectors`` under labels 0..n-1, with every core."""
        raise NotImplementedError

    def prepare_filter(self, mask: np.ndarray) -> Any:
        """The library's form of a slot mask, made once per filter (not timed per query)."""
        return mask

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        """Slots of the top-k allowed vectors, best first (one thread inside the library)."""
        raise NotImplementedError

    def set_ef(self, ef: int) -> None:
        """Search breadth (efSearch) for HNSW engines."""

    def save(self, path: Path) -> None:
        raise NotImplementedError

    def load_command(self, path: Path, dim: int, count: int) -> list[str]:
        """Arguments for ``--measure-load``: a fresh process loads the file and reports RSS."""
        return [self.name, str(path), str(dim), str(count)]

    def try_updates(self, vectors: np.ndarray, replacements: np.ndarray) -> str:
        """Delete and replace a few vectors for real; say what worked and what it cost."""
        raise NotImplementedError

    def library_bytes(self) -> int | None:
        """The library's own size report of the index in memory, where it has one."""
        return None


def found_itself(nearest: np.ndarray, expected: np.ndarray) -> str:
    """How many new vectors come back as their own nearest neighbour (a reachable node)."""
    found = int((np.asarray(nearest) == np.asarray(expected)).sum())
    return f"{found} of {len(expected)} new vectors come back as their own nearest"


class ExactEngine(Engine):
    name = "exact (numpy float32)"
    is_exact = True

    def build(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def prepare_filter(self, mask: np.ndarray) -> Any:
        return mask, np.flatnonzero(mask), bool(mask.mean() >= 0.5)

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        mask, slots, dense = prepared
        if dense:
            # One pass over all rows beats gathering most of them into a copy.
            scores = self.vectors @ query
            scores[~mask] = -np.inf
            candidates = np.arange(len(scores))
        else:
            scores = self.vectors[slots] @ query
            candidates = slots
        k = min(k, len(slots))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return candidates[top]

    def save(self, path: Path) -> None:
        np.save(path, self.vectors)

    def try_updates(self, vectors: np.ndarray, replacements: np.ndarray) -> str:
        return "yes: a row written in place"

    def library_bytes(self) -> int | None:
        return int(self.vectors.nbytes)


class HnswlibEngine(Engine):
    name = "hnswlib float32"

    def build(self, vectors: np.ndarray) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=vectors.shape[1])
        self.index.init_index(
            max_elements=len(vectors),
            ef_construction=self.params.ef_construction,
            M=self.params.m,
        )
        self.index.add_items(vectors, np.arange(len(vectors)), num_threads=self.params.threads())
        self.index.set_ef(self.params.ef_search)

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        mask = prepared
        # As search_index/embedded.py does today: a Python call per visited node.
        labels, _ = self.index.knn_query(
            query, k=k, num_threads=1, filter=lambda slot: bool(mask[slot])
        )
        return np.asarray(labels[0], dtype=np.int64)

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    def try_updates(self, vectors: np.ndarray, replacements: np.ndarray) -> str:
        slots = np.arange(len(replacements))
        started = time.perf_counter()
        for slot in slots:
            self.index.mark_deleted(int(slot))
        deleted_ms = (time.perf_counter() - started) * 1000 / len(slots)
        started = time.perf_counter()
        # Re-adding a deleted label un-marks it and rewrites its vector and links in place.
        self.index.add_items(replacements, slots, num_threads=1)
        replaced_ms = (time.perf_counter() - started) * 1000 / len(slots)
        nearest = self.index.knn_query(replacements, k=1, num_threads=1)[0][:, 0]
        return (
            f"yes: mark_deleted {deleted_ms:.3f} ms, replace in place {replaced_ms:.2f} ms "
            f"a vector; {found_itself(nearest, slots)}"
        )


class FaissHnswSqEngine(Engine):
    def __init__(self, params: HnswParams, quantizer: str) -> None:
        super().__init__(params)
        self.quantizer = quantizer  # "QT_8bit" or "QT_fp16"
        self.name = "faiss HNSWSQ " + {"QT_8bit": "int8", "QT_fp16": "fp16"}[quantizer]

    def build(self, vectors: np.ndarray) -> None:
        faiss = _faiss()

        faiss.omp_set_num_threads(self.params.threads())
        self.index: Any = faiss.IndexHNSWSQ(
            vectors.shape[1],
            getattr(faiss.ScalarQuantizer, self.quantizer),
            self.params.m,
            faiss.METRIC_INNER_PRODUCT,
        )
        self.index.hnsw.efConstruction = self.params.ef_construction
        # QT_8bit learns a min/max per dimension; fp16 has nothing to learn.
        self.index.train(vectors)
        self.index.add(vectors)
        self.ef = self.params.ef_search
        # Concurrency comes from our thread pool, not from OpenMP inside one query.
        faiss.omp_set_num_threads(1)

    def prepare_filter(self, mask: np.ndarray) -> Any:
        faiss = _faiss()

        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        # The selector holds a raw pointer into ``bits``: keep both alive together.
        return bits, selector

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        faiss = _faiss()

        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.ef, k)
        params.sel = prepared[1]
        _, labels = self.index.search(query.reshape(1, -1), k, params=params)
        found = labels[0]
        return np.asarray(found[found >= 0], dtype=np.int64)

    def set_ef(self, ef: int) -> None:
        self.ef = ef

    def save(self, path: Path) -> None:
        faiss = _faiss()

        faiss.write_index(self.index, str(path))

    def load_command(self, path: Path, dim: int, count: int) -> list[str]:
        return ["faiss", str(path), str(dim), str(count)]

    def try_updates(self, vectors: np.ndarray, replacements: np.ndarray) -> str:
        faiss = _faiss()

        try:
            before = self.index.ntotal
            self.index.remove_ids(faiss.IDSelectorBatch(np.arange(len(replacements))))
            # Flat codes are addressed by position: removing compacts them.
            removal = (
                f"remove_ids works but compacts: the {before - len(replacements):,} later "
                "slots each move down, so slot labels change (needs an id map or tombstones)"
            )
        except RuntimeError as error:
            removal = "no removal (remove_ids: " + str(error).split(": ")[-1].strip() + ")"
        started = time.perf_counter()
        self.index.add(replacements)
        appended_ms = (time.perf_counter() - started) * 1000 / len(replacements)
        everything = np.ones(self.index.ntotal, dtype=bool)
        first_new = self.index.ntotal - len(replacements)
        nearest = [self.search(r, 1, self.prepare_filter(everything))[:1] for r in replacements]
        found = found_itself(
            np.array([n[0] if len(n) else -1 for n in nearest]),
            np.arange(first_new, self.index.ntotal),
        )
        return (
            f"{removal}; a replacement is an append at a new slot ({appended_ms:.2f} ms a "
            "vector) with the old slot tombstoned in the filter mask; space comes back "
            f"only by rebuilding; {found}"
        )

    def library_bytes(self) -> int | None:
        faiss = _faiss()

        # Serialized size: codes (d or 2d bytes) plus the graph's neighbour lists.
        return int(len(faiss.serialize_index(self.index)))


class FaissSqFlatEngine(FaissHnswSqEngine):
    """A scan over the 8-bit codes of the allowed slots only: the narrow-filter fallback.

    ``IndexHNSWSQ.storage`` is this same kind of index, so in the service the graph and the
    scan would share one copy of the codes.
    """

    def __init__(self, params: HnswParams) -> None:
        super().__init__(params, "QT_8bit")
        self.name = "faiss SQ int8 flat scan"

    def build(self, vectors: np.ndarray) -> None:
        faiss = _faiss()

        faiss.omp_set_num_threads(self.params.threads())
        self.index = faiss.IndexScalarQuantizer(
            vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        self.index.train(vectors)
        self.index.add(vectors)
        faiss.omp_set_num_threads(1)

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        faiss = _faiss()

        params = faiss.SearchParameters()
        params.sel = prepared[1]
        _, labels = self.index.search(query.reshape(1, -1), k, params=params)
        found = labels[0]
        return np.asarray(found[found >= 0], dtype=np.int64)

    def set_ef(self, ef: int) -> None:
        """A scan has no breadth to set."""


class UsearchEngine(Engine):
    def __init__(self, params: HnswParams, dtype: str) -> None:
        super().__init__(params)
        self.dtype = dtype
        self.name = f"usearch {dtype}"
        # Untyped on purpose: the optional extra's stubs exist only where it is installed.
        self.index: Any = None
        self.filter_note = (
            "no filtered search in the Python binding (Index.search has no predicate or "
            "mask; predicates exist in C++ only, unum-cloud/USearch#348): filtered rows skipped"
        )

    def build(self, vectors: np.ndarray) -> None:
        from usearch.index import Index

        # "cos" rather than "ip": i8 casts by scaling, and cos normalizes first (our
        # vectors are unit, so the ranking is the same as inner product).
        self.index = Index(
            ndim=vectors.shape[1],
            metric="cos",
            dtype=self.dtype,
            connectivity=self.params.m,
            expansion_add=self.params.ef_construction,
            expansion_search=self.params.ef_search,
        )
        self.index.add(np.arange(len(vectors)), vectors, threads=self.params.threads())

    def prepare_filter(self, mask: np.ndarray) -> Any:
        return bool(mask.all())

    def search(self, query: np.ndarray, k: int, prepared: Any) -> np.ndarray:
        if not prepared:
            raise NotImplementedError(self.filter_note)
        return np.asarray(self.index.search(query, k, threads=1).keys, dtype=np.int64)

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    def load_command(self, path: Path, dim: int, count: int) -> list[str]:
        return ["usearch", str(path), str(dim), str(count)]

    def try_updates(self, vectors: np.ndarray, replacements: np.ndarray) -> str:
        keys = np.arange(len(replacements))
        started = time.perf_counter()
        self.index.remove(keys)
        removed_ms = (time.perf_counter() - started) * 1000 / len(keys)
        started = time.perf_counter()
        self.index.add(keys, replacements, threads=1)
        added_ms = (time.perf_counter() - started) * 1000 / len(keys)
        nearest = self.index.search(replacements, 1, threads=1).keys[:, 0]
        return (
            f"yes: remove {removed_ms:.3f} ms (marks a tombstone), re-add {added_ms:.2f} ms "
            f"a vector (reuses freed nodes); {found_itself(nearest, keys)}"
        )

    def library_bytes(self) -> int | None:
        return int(self.index.memory_usage)


def make_engines(params: HnswParams, libraries: Sequence[str] | None = None) -> list[Engine]:
    """Every engine whose library is installed; the others come back as skipped results."""
    engines: list[Engine] = [ExactEngine(params), HnswlibEngine(params)]
    engines += [FaissHnswSqEngine(params, q) for q in ("QT_8bit", "QT_fp16")]
    engines.append(FaissSqFlatEngine(params))
    engines += [UsearchEngine(params, d) for d in ("i8", "f16")]
    if libraries:
        engines = [e for e in engines if e.is_exact or any(lib in e.name for lib in libraries)]
    return engines


def missing_library(engine: Engine) -> str | None:
    """Why an engine cannot run here, or None."""
    module = {"hnswlib": "hnswlib", "faiss": "faiss", "usearch": "usearch"}
    for prefix, name in module.items():
        if engine.name.startswith(prefix):
            try:
                __import__(name)
            except ImportError:
                return f"{name} not installed (pip install talentmatch[bench-ann])"
    return None


# --- data --------------------------------------------------------------------------------


def load_real_vectors(db_path: Path = CACHE_DB, model_id: str = USE_MODEL_ID) -> np.ndarray:
    """The cache's USE vectors, read from a private copy (the benchmark may be writing)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "cache.db"
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
        try:
            rows = target.execute(
                "SELECT vector FROM embedding_cache WHERE model_id = ? ORDER BY content_hash",
                (model_id,),
            ).fetchall()
        finally:
            target.close()
    vectors = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    # Identical texts share a vector; ties would make "the" exact top-10 ambiguous.
    return np.unique(vectors, axis=0)


def split_queries(
    vectors: np.ndarray, queries: int, seed: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out queries (not indexed) and the corpus, from one shuffled set."""
    order = np.random.default_rng(seed).permutation(len(vectors))
    return vectors[order[queries:]], vectors[order[:queries]]


def synthetic_corpus(
    real: np.ndarray, size: int, noise: float = 0.005, seed: int = 11
) -> np.ndarray:
    """``size`` vectors: the real ones tiled, each copy jittered and re-normalized."""
    rng = np.random.default_rng(seed)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    for start in range(0, size, len(real)):
        stop = min(size, start + len(real))
        block = real[: stop - start] + rng.normal(0, noise, (stop - start, real.shape[1])).astype(
            np.float32
        )
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def random_masks(count: int, seed: int = 3) -> dict[float, np.ndarray]:
    """One slot mask per selectivity, admitting exactly that share (at least one slot)."""
    rng = np.random.default_rng(seed)
    masks = {}
    for share in SELECTIVITIES:
        mask = np.zeros(count, dtype=bool)
        mask[rng.choice(count, size=max(1, round(share * count)), replace=False)] = True
        masks[share] = mask
    return masks


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """The reference answer: float32 inner product over the allowed slots only."""
    slots = np.flatnonzero(mask)
    scores = queries @ vectors[slots].T
    k = min(k, len(slots))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return slots[top]


# --- measuring ---------------------------------------------------------------------------


def rss_bytes() -> int:
    """This process's resident set size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measure_load(kind: str, path: str, dim: int, count: int) -> dict[str, float]:
    """Load a saved index in this (fresh) process: seconds and resident bytes it added."""
    if kind.startswith("exact"):
        before = rss_bytes()
        started = time.perf_counter()
        loaded: Any = np.load(path)
        loaded += 0  # touch every page, as a search would
    elif kind.startswith("hnswlib"):
        import hnswlib

        before = rss_bytes()
        started = time.perf_counter()
        loaded = hnswlib.Index(space="ip", dim=dim)
        loaded.load_index(path, max_elements=count)
    elif kind == "faiss":
        faiss = _faiss()

        before = rss_bytes()
        started = time.perf_counter()
        loaded = faiss.read_index(path)
    else:
        from usearch.index import Index

        before = rss_bytes()
        started = time.perf_counter()
        loaded = Index.restore(path)
    elapsed = time.perf_counter() - started
    grown = rss_bytes() - before
    del loaded
    return {"load_s": elapsed, "rss_delta": grown}


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, q))


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return len(set(found[:k].tolist()) & set(truth[:k].tolist())) / min(k, len(truth))


def measure_queries(
    engine: Engine,
    queries: np.ndarray,
    prepared: Any,
    truth: np.ndarray | None,
    mask: np.ndarray | None = None,
    outside: list[int] | None = None,
) -> tuple[float | None, tuple[float, float, float]]:
    """Recall@K (None without a reference) and one-thread latency: CPU p50 / p99, wall p50.

    CPU time of the calling thread, since on a shared machine the wall clock's tail measures
    the neighbours (the library runs one thread, so its work is all in this one). With
    ``mask``, every returned slot the filter rejects is counted into ``outside``."""
    cpu, wall, recalls = [], [], []
    for i, query in enumerate(queries):
        started, started_cpu = time.perf_counter(), time.thread_time()
        found = engine.search(query, K, prepared)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        if mask is not None and outside is not None:
            outside[0] += int((~mask[found]).sum())
        if truth is not None:
            recalls.append(recall_at_k(found, truth[i], K))
    recall = float(np.mean(recalls)) if truth is not None else None
    return recall, (percentile_ms(cpu, 50), percentile_ms(cpu, 99), percentile_ms(wall, 50))


def measure_qps(engine: Engine, queries: np.ndarray, prepared: Any, threads: int) -> float:
    """Searches a second with ``threads`` workers calling search concurrently."""
    chunks = np.array_split(np.arange(len(queries)), threads)

    def work(rows: np.ndarray) -> None:
        for row in rows:
            engine.search(queries[row], K, prepared)

    best = 0.0
    # Best of three: neighbours on a shared machine only ever slow a run down.
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=threads) as pool:
            started = time.perf_counter()
            list(pool.map(work, chunks))
            elapsed = time.perf_counter() - started
        best = max(best, len(queries) / elapsed)
    return best


def gil_probe(
    engine: Engine, queries: np.ndarray, prepared: Any, seconds: float = 0.5
) -> tuple[float, float]:
    """Two ratios: how fast a pure-Python thread counts while this thread searches, against
    while it sleeps (near 0: search holds the GIL); and how many searches a second this
    thread does beside that busy Python thread, against alone (well under 1: search needs the
    GIL back often, as a Python callback per node does)."""
    stop, counts = threading.Event(), [0]

    def count() -> None:
        while not stop.is_set():
            counts[0] += 1

    def search_for_a_while() -> float:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for query in queries[:20]:
                engine.search(query, K, prepared)
            done += min(20, len(queries))
        return done / seconds

    def beside_counter(during: Callable[[], float]) -> tuple[float, float]:
        stop.clear()
        counts[0] = 0
        counter = threading.Thread(target=count)
        started = time.perf_counter()
        counter.start()
        searched = during()
        stop.set()
        counter.join()
        return counts[0] / (time.perf_counter() - started), searched

    def sleep() -> float:
        time.sleep(seconds)
        return 0.0

    idle_count, _ = beside_counter(sleep)
    alone = search_for_a_while()
    busy_count, beside = beside_counter(search_for_a_while)
    return (busy_count / idle_count if idle_count else 0.0), (beside / alone if alone else 0.0)


def measure_engine(
    engine: Engine,
    data: DataSet,
    truths: dict[float, np.ndarray] | None,
    masks: dict[float, np.ndarray],
    workdir: Path,
    ef_sweep: Sequence[int],
    qps_selectivity: float,
    log: Callable[[str], None],
    probe_seconds: float = 0.5,
) -> EngineResult:
    """Every measure of one engine on one data set; the index is freed afterwards."""
    result = EngineResult(engine.name, filter_note=getattr(engine, "filter_note", ""))
    reason = missing_library(engine)
    if reason:
        result.skipped = reason
        return result
    vectors, queries = data.vectors, data.queries
    started = time.perf_counter()
    engine.build(vectors)
    result.build_s = time.perf_counter() - started
    log(f"  {engine.name}: built in {result.build_s:.1f} s")
    result.library_bytes = engine.library_bytes()

    for share, mask in masks.items():
        prepared = engine.prepare_filter(mask)
        try:
            truth = truths[share] if truths is not None else None
            outside = [0]
            result.recall[share], result.latency_ms[share] = measure_queries(
                engine, queries, prepared, truth, mask, outside
            )
            result.outside[share] = outside[0]
        except NotImplementedError:
            result.recall[share] = result.latency_ms[share] = None
    log(f"  {engine.name}: recall {result.recall}")

    # Throughput under a filter, since the service always passes one (visibility at least).
    share = qps_selectivity if result.latency_ms.get(qps_selectivity) else 1.0
    result.qps_selectivity = share
    prepared = engine.prepare_filter(masks[share])
    repeats = max(1, 400 // len(queries))
    load = np.concatenate([queries] * repeats)
    for threads in THREAD_COUNTS:
        result.qps[threads] = measure_qps(engine, load, prepared, threads)
    result.gil_free, result.beside_python = gil_probe(
        engine, queries, prepared, seconds=probe_seconds
    )

    if not engine.is_exact and truths is not None and not isinstance(engine, FaissSqFlatEngine):
        for ef in ef_sweep:
            engine.set_ef(ef)
            sweep: dict[float, float | None] = {}
            for share, mask in masks.items():
                prepared = engine.prepare_filter(mask)
                try:
                    truth = truths[share] if truths is not None else None
                    sweep[share] = measure_queries(engine, queries, prepared, truth)[0]
                except NotImplementedError:
                    sweep[share] = None
            result.ef_sweep[ef] = sweep
        engine.set_ef(engine.params.ef_search)
    if type(engine) is FaissHnswSqEngine:
        for share, mask in masks.items():
            ef = min(WIDEST_EF, math.ceil(engine.params.ef_search / share))
            engine.set_ef(ef)
            truth = truths[share] if truths is not None else None
            recall, latency = measure_queries(engine, queries, engine.prepare_filter(mask), truth)
            result.widened[share] = (ef, recall, latency)
        engine.set_ef(engine.params.ef_search)

    path = workdir / (engine.name.replace(" ", "_").replace("(", "").replace(")", "") + ".idx")
    started = time.perf_counter()
    engine.save(path)
    result.save_s = time.perf_counter() - started
    if not path.exists() and Path(str(path) + ".npy").exists():
        path = Path(str(path) + ".npy")  # np.save adds its suffix
    result.file_bytes = path.stat().st_size
    command = [sys.executable, "-m", "bench.ann_compare", "--measure-load"]
    command += engine.load_command(path, vectors.shape[1], len(vectors))
    measured = json.loads(
        subprocess.run(
            command, check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent
        ).stdout
    )
    result.load_s, result.rss_delta_bytes = measured["load_s"], int(measured["rss_delta"])
    path.unlink()

    replacements = queries[: min(100, len(queries))]
    result.updates = engine.try_updates(vectors, replacements)
    log(f"  {engine.name}: {result.updates}")
    del engine
    gc.collect()
    return result


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """numpy's BLAS at one thread, like every library here: with its own threads per call,
    a pool of searching threads oversubscribes the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def compare(
    data: DataSet,
    params: HnswParams,
    libraries: Sequence[str] | None = None,
    ef_sweep: Sequence[int] = (),
    qps_selectivity: float = 0.1,
    log: Callable[[str], None] = print,
    on_engine: Callable[[list[EngineResult]], None] | None = None,
    probe_seconds: float = 0.5,
) -> list[EngineResult]:
    """Measure every engine on ``data``: the exact reference first, then the ANN libraries."""
    masks = random_masks(len(data.vectors))
    truths = (
        None
        if data.synthetic
        else {s: exact_top_k(data.vectors, data.queries, m, K) for s, m in masks.items()}
    )
    results = []
    with one_blas_thread(), tempfile.TemporaryDirectory(prefix="ann-compare-") as scratch:
        for engine in make_engines(params, libraries):
            results.append(
                measure_engine(
                    engine,
                    data,
                    truths,
                    masks,
                    Path(scratch),
                    ef_sweep,
                    qps_selectivity,
                    log,
                    probe_seconds=probe_seconds,
                )
            )
            gc.collect()
            if on_engine is not None:
                on_engine(results)
    return results


# --- report ------------------------------------------------------------------------------


def library_versions() -> str:
    names = ["hnswlib", "faiss-cpu", "usearch", "numpy"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.0f} GiB RAM"
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores{memory}"


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _times(times: tuple[float, float, float]) -> str:
    return f"{times[0]:.2f} / {times[1]:.2f} ({times[2]:.2f})"


def _share(share: float) -> str:
    return f"{share:.0%}"


def query_difficulty(data: DataSet) -> str:
    """How close the queries' true neighbours are: near-copies make any ANN look good."""
    if data.synthetic:
        return "Queries: the real held-out vectors (not in the corpus); no recall reported."
    scores = data.queries @ data.vectors.T
    ordered = -np.sort(np.partition(-scores, K - 1, axis=1)[:, :K], axis=1)
    first, tenth = np.median(ordered[:, 0]), np.median(ordered[:, K - 1])
    return (
        f"Query difficulty: a query's nearest indexed vector has median inner product "
        f"{first:.3f}, its {K}th {tenth:.3f} (1.0 would be a copy)."
    )


def render_section(data: DataSet, params: HnswParams, results: list[EngineResult]) -> str:
    """One data set's tables: size, recall, latency, throughput, updates."""
    n = len(data.vectors)
    lines = [
        f"## {data.label}: {n:,} vectors indexed, {len(data.queries):,} queries (none indexed)",
        "",
        query_difficulty(data),
        "",
        f"HNSW settings for every graph (today's `settings.search.embedded`): M={params.m}, "
        f"ef_construction={params.ef_construction}, ef_search={params.ef_search}.",
        "",
        "### Size, build, save and load",
        "",
        "RSS/vector: resident bytes a fresh process gains loading the saved file (the library "
        "already imported), divided by the vectors; library/vector: the library's own report "
        "(faiss: serialized index; usearch: `memory_usage`; exact: the float32 array).",
        "",
        "| engine | build s | file bytes/vector | RSS bytes/vector | library bytes/vector "
        "| save s | load s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.name} | skipped: {r.skipped} |  |  |  |  |  |")
            continue
        per = [
            None if b is None else b / n for b in (r.file_bytes, r.rss_delta_bytes, r.library_bytes)
        ]
        lines.append(
            f"| {r.name} | {_num(r.build_s, '.1f')} | {_num(per[0], ',.0f')} | "
            f"{_num(per[1], ',.0f')} | {_num(per[2], ',.0f')} | {_num(r.save_s, '.2f')} | "
            f"{_num(r.load_s, '.2f')} |"
        )
    shares = " | ".join(_share(s) for s in SELECTIVITIES)
    rule = "|---|" + "---|" * len(SELECTIVITIES)
    if not data.synthetic:
        lines += [
            "",
            f"### Recall@{K} against exact, by the share of vectors the filter admits",
            "",
            "Every hit is checked against the filter; a cell would say so if any fell outside.",
            "",
            f"| engine | {shares} |",
            rule,
        ]
        for r in results:
            if r.skipped:
                lines.append(
                    f"| {r.name} | skipped: {r.skipped} |" + " |" * (len(SELECTIVITIES) - 1)
                )
                continue
            cells = []
            for s in SELECTIVITIES:
                value, leaked = r.recall.get(s), r.outside.get(s, 0)
                cell = "skipped: no filter" if value is None else f"{value:.3f}"
                cells.append(cell + (f" ({leaked} hits outside the filter!)" if leaked else ""))
            lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"### Query latency (top-{K}, one thread), by filter share",
        "",
        "Cells: CPU ms p50 / p99 of the searching thread, then wall-clock p50 in brackets.",
        "",
        f"| engine | {shares} |",
        rule,
    ]
    for r in results:
        if r.skipped:
            continue
        cells = []
        for s in SELECTIVITIES:
            times = r.latency_ms.get(s)
            cells.append("—" if times is None else _times(times))
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Throughput: a thread pool calling search concurrently",
        "",
        "QPS with 1, 2 and 4 threads (best of three runs); on two shared cores 2 threads can "
        "reach at most 2×. GIL probe, one searching thread beside one pure-Python counting "
        "thread: the Python thread's speed against its speed beside a sleeping thread (near "
        "0: search holds the GIL), and the search speed against alone (well under 1: search "
        "needs the GIL back often, as a Python callback per node does). Both read low when "
        "the neighbours leave fewer than two free cores.",
        "",
        "| engine | filter | "
        + " | ".join(f"{t} thread{'s' * (t > 1)}" for t in THREAD_COUNTS)
        + f" | {THREAD_COUNTS[-1]} threads / 1 | Python thread's speed | search speed beside Python |",
        "|---|---|" + "---|" * (len(THREAD_COUNTS) + 3),
    ]
    for r in results:
        if r.skipped or not r.qps:
            continue
        share = (
            "none"
            if r.filter_note and r.qps_selectivity == 1.0
            else _share(r.qps_selectivity or 1.0)
        )
        ratio = r.qps[THREAD_COUNTS[-1]] / r.qps[1]
        lines.append(
            f"| {r.name} | {share} | "
            + " | ".join(f"{r.qps[t]:,.0f}" for t in THREAD_COUNTS)
            + f" | {ratio:.2f}× | {_num(r.gil_free, '.2f')} | {_num(r.beside_python, '.2f')} |"
        )
    sweeps = [r for r in results if r.ef_sweep]
    if sweeps and not data.synthetic:
        lines += ["", f"### Recall@{K} by efSearch (same graphs)", "", f"| engine | efSearch | {shares} |",
                  "|---|---|" + "---|" * len(SELECTIVITIES)]  # fmt: skip
        for r in sweeps:
            for ef, by_share in r.ef_sweep.items():
                cells = [_num(by_share.get(s), ".3f") for s in SELECTIVITIES]
                lines.append(f"| {r.name} | {ef} | " + " | ".join(cells) + " |")
    widened = [r for r in results if r.widened]
    if widened:
        lines += [
            "",
            f"### faiss HNSW with efSearch widened to ef_search ÷ share (at most {WIDEST_EF:,})",
            "",
            "faiss counts the nodes a filter rejects against efSearch (hnswlib does not), so a "
            "narrow filter shrinks its effective breadth. Cells: efSearch: recall@10, CPU ms p50 / "
            "p99 (wall p50).",
            "",
            f"| engine | {shares} |",
            rule,
        ]
        for r in widened:
            cells = []
            for s in SELECTIVITIES:
                ef, recall, times = r.widened[s]
                cells.append(f"{ef}: {_num(recall, '.3f')}, {_times(times)}")
            lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    lines += ["", "### Deletion and replacement (tried on 100 vectors after the measures)", ""]
    for r in results:
        if not r.skipped:
            lines.append(f"- {r.name}: {r.updates}")
    notes = [r for r in results if r.filter_note and not r.skipped]
    for r in notes:
        lines.append(f"- {r.name} filtering: {r.filter_note}")
    return "\n".join(lines) + "\n"


def render_report(sections: list[str], command: str) -> str:
    """The whole report; the recommendation is appended by hand after a real run."""
    header = [
        "# ANN options for the embedded index: one compact copy of each vector",
        "",
        f"`{command}` on {machine()}, {time.strftime('%Y-%m-%d', time.gmtime())}; "
        f"{library_versions()}; load average at the start {os.getloadavg()[0]:.1f} "
        "(a shared machine: latencies and QPS drift with the neighbours).",
        "",
        "Filters are random slot masks given to the library before retrieval (faiss: "
        "`IDSelectorBitmap` through `SearchParametersHNSW(sel=…)`; hnswlib: today's "
        "`filter=lambda slot: mask[slot]`); the filter objects are made once per mask, "
        "outside the timings. Searches run one thread inside the library; build uses every core.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(sections)


def run_comparison(
    output: str | Path,
    datasets: list[DataSet],
    params: HnswParams,
    libraries: Sequence[str] | None = None,
    ef_sweep: Sequence[int] = (),
    command: str = "python -m bench.ann_compare",
    log: Callable[[str], None] = print,
    append: bool = False,
    probe_seconds: float = 0.5,
) -> list[list[EngineResult]]:
    """Measure every data set and write the markdown report (after each set, so a long run
    that is stopped keeps what it finished); ``append`` adds the sections to an existing one;
    ``probe_seconds`` is how long each side of the GIL probe runs."""
    earlier = Path(output).read_text() if append and Path(output).exists() else None
    sections: list[str] = []
    everything = []
    run = (
        f"\n`{command}`, {time.strftime('%Y-%m-%d', time.gmtime())}, load average at the start "
        f"{os.getloadavg()[0]:.1f}:\n\n"
    )

    def write(current: list[str]) -> None:
        if earlier is None:
            Path(output).write_text(render_report(current, command))
        else:
            Path(output).write_text(earlier.rstrip("\n") + "\n" + run + "\n".join(current))

    for data in datasets:
        log(f"{data.label}: {len(data.vectors):,} vectors")

        def partial(done: list[EngineResult], data: DataSet = data) -> None:
            write([*sections, render_section(data, params, done)])

        results = compare(
            data,
            params,
            libraries,
            ef_sweep,
            log=log,
            on_engine=partial,
            probe_seconds=probe_seconds,
        )
        everything.append(results)
        sections.append(render_section(data, params, results))
        write(sections)
    return everything


def without_copies(corpus: np.ndarray, queries: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """The corpus minus any vector that is a query over again (inner product > 0.999): the
    cache holds the vectors of strings the benchmark also searched for."""
    copy = np.zeros(len(corpus), dtype=bool)
    for start in range(0, len(corpus), chunk):
        block = corpus[start : start + chunk]
        copy[start : start + len(block)] = (block @ queries.T).max(axis=1) > 0.999
    return corpus[~copy]


def build_datasets(
    sizes: Sequence[int] | None,
    queries: int,
    vectors: np.ndarray,
    text_queries: np.ndarray | None = None,
) -> list[DataSet]:
    """Real subsets for sizes the cache covers, a synthetic tiling for larger ones; with
    ``text_queries``, the largest real corpus once more, queried by encoded search strings."""
    real, held_out = split_queries(vectors, queries)
    real = without_copies(real, held_out)
    datasets = []
    for size in sizes or [len(real)]:
        if size <= len(real):
            datasets.append(
                DataSet(
                    f"Real USE vectors of generated postings ({size:,})",
                    real[:size],
                    held_out,
                    False,
                )
            )
        else:
            datasets.append(
                DataSet(
                    f"SYNTHETIC {size:,} (the {len(real):,} real vectors tiled, Gaussian noise "
                    "σ=0.005 a dimension, re-normalized; memory and latency only)",
                    synthetic_corpus(real, size),
                    held_out,
                    True,
                )
            )
    if text_queries is not None:
        size = min(len(real), max(sizes or [len(real)]))
        corpus = without_copies(real[:size], text_queries)
        datasets.append(
            DataSet(
                f"Real USE vectors of generated postings ({len(corpus):,}: {size - len(corpus)} "
                f"copies of the strings' own vectors taken out), queried by {len(text_queries)} "
                "encoded search strings (zh and en titles and skills)",
                corpus,
                text_queries,
                False,
            )
        )
    return datasets


def encode_search_strings() -> np.ndarray:
    """The encoder evaluation's title and skill queries, through the service's USE encoder."""
    from bench.encoder_quality import build_queries
    from representation.encoders import UniversalSentenceEncoder

    return UniversalSentenceEncoder().encode([q.text for q in build_queries()])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ann_compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="vectors indexed per run (default: every real vector); beyond the real count: synthetic")  # fmt: skip
    parser.add_argument("--queries", type=int, default=400, help="held-out query vectors")
    parser.add_argument(
        "--libraries", nargs="+", default=None, help="hnswlib, faiss, usearch (exact always runs)"
    )
    parser.add_argument("--ef-sweep", type=int, nargs="*", default=[48, 192, 384])
    parser.add_argument("--db", type=Path, default=CACHE_DB)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "ann.md"))
    parser.add_argument("--text-queries", action="store_true",
                        help="also query by encoded search strings (loads the USE encoder)")  # fmt: skip
    parser.add_argument("--append", action="store_true", help="add to the report, not replace it")
    parser.add_argument("--measure-load", nargs=4, metavar=("KIND", "PATH", "DIM", "COUNT"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.measure_load:
        kind, path, dim, count = args.measure_load
        print(json.dumps(measure_load(kind, path, int(dim), int(count))))
        return 0
    embedded = Settings().search.embedded
    params = HnswParams(embedded.hnsw_m, embedded.hnsw_ef_construction, embedded.hnsw_ef_search)
    if not args.db.exists():
        print(f"no embedding cache at {args.db}: run `talentmatch bench` first", file=sys.stderr)
        return 2
    text_queries = encode_search_strings() if args.text_queries else None
    datasets = build_datasets(args.sizes, args.queries, load_real_vectors(args.db), text_queries)
    command = "python -m bench.ann_compare " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    run_comparison(
        args.output,
        datasets,
        params,
        args.libraries,
        args.ef_sweep,
        command.strip(),
        append=args.append,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
