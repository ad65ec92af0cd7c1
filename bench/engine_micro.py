"""Micro-benchmarks of the embedded engine's own costs (not run in CI)::

    python -m bench.engine_micro                      # every part, 100k documents
    python -m bench.engine_micro masks --sizes 100000 1000000
    python -m bench.engine_micro keyword vectors threads
    python -m bench.engine_micro memory --sizes 32000

- ``masks``: the filter mask of one query (synthetic columns, no vectors: cheap at 1M);
  cold (first query), after a write (cached predicates, combined mask stale), and warm;
- ``keyword``: ``keyword_search`` with and without filters;
- ``vectors``: ``vector_search`` latency and recall@10 against an exact scan under masks
  admitting 100%, 50%, 10% and 1% of the documents (with the exact-scan shortcut on, and
  off so every selectivity goes through HNSW);
- ``threads``: queries per second at 1, 2 and 4 threads, on the raw engine calls (tantivy
  ``Searcher.search``, hnswlib ``knn_query``) and through the index (does a read wait for
  another read?);
- ``memory``: bytes per posting of what Python allocates (vectors, columns), USE-sized.

Data: generated (random words, clustered random vectors), labelled as such; medians of
repeated calls on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from itertools import cycle
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters

WORDS = [f"w{i}" for i in range(3000)] + ["后端", "工程师", "会计", "销售", "运营", "产品经理"]
TENANTS = 50
CITIES = 300
SKILLS = 500


def median_ms(call: Callable[[], Any], repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def open_index(path: Path, dim: int, **embedded: Any) -> EmbeddedIndex:
    settings = SearchSettings(semantic_floor=-1.0, embedded=embedded)  # type: ignore[arg-type]
    return EmbeddedIndex(path, dim=dim, model_id="bench-micro", settings=settings)


def fill_columns(index: EmbeddedIndex, n: int, rng: np.random.Generator) -> None:
    """``n`` synthetic documents written straight into the columns (no vectors, no keyword
    index): what the mask of a query reads, at any size."""
    c = index._columns
    c.grow(n)
    c.size = n
    a = c.arrays
    for t in range(TENANTS):
        index._tenants.code(f"t{t}", create=True)
    for e in ("full_time", "part_time", "intern", "contract"):
        index._employment_types.code(e, create=True)
    a["ids"][:n] = np.arange(1, n + 1)
    a["alive"][:n] = True
    a["tenant"][:n] = rng.integers(0, TENANTS, n)
    a["private"][:n] = rng.random(n) < 0.05
    a["city_code"][:n] = rng.zipf(1.3, n) % CITIES
    a["district_code"][:n] = rng.integers(0, 3000, n)
    low = rng.integers(3, 40, n) * 1000.0
    a["salary_min"][:n] = low
    a["salary_max"][:n] = low + rng.integers(0, 20, n) * 1000.0
    a["employment_type"][:n] = rng.integers(0, 4, n)
    a["company"][:n] = rng.integers(0, 5000, n)
    a["education_rank"][:n] = rng.integers(1, 7, n)
    a["years"][:n] = rng.integers(0, 11, n).astype(float)
    skills = rng.integers(0, SKILLS, (n, 3))
    for slot in range(n):
        row = tuple(f"s{k}" for k in skills[slot].tolist())
        c.skills[slot] = row
        for skill in row:
            index._skill_slots.setdefault(skill, set()).add(slot)
    index._slot_of = {i + 1: i for i in range(n)}


MASK_FILTERS = {
    "visibility only": SearchFilters(),
    "city": SearchFilters(city_codes=(1,)),
    "city + salary": SearchFilters(city_codes=(1,), salary_min=15000.0),
    "skills + education": SearchFilters(skills_any=("s1", "s2"), education_min_rank=3),
    "five filters": SearchFilters(
        city_codes=(1, 2),
        salary_min=10000.0,
        years_max=5.0,
        employment_types=("full_time",),
        education_min_rank=2,
    ),  # fmt: skip
}


def bench_masks(sizes: list[int]) -> None:
    print("| filter | N | cold ms | after a write ms | warm ms | write (1 slot) ms |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            index = open_index(Path(tmp), dim=8)
            fill_columns(index, n, np.random.default_rng(1))
            for name, f in MASK_FILTERS.items():
                print(mask_row(index, n, name, f))
            index._lock_file.close()  # no checkpoint of synthetic columns


def mask_row(index: EmbeddedIndex, n: int, name: str, f: SearchFilters) -> str:
    cached = hasattr(index, "_masks")  # the code before the mask cache had none

    def write() -> None:
        if cached:  # a write's mask upkeep: the touched slot, in every cached mask
            index._refresh_masks(np.array([n // 2], dtype=np.int64))

    def after_write() -> None:
        write()
        index._filter_mask("t3", f)

    start = time.perf_counter()
    index._filter_mask("t3", f)
    cold = (time.perf_counter() - start) * 1000
    stale = median_ms(after_write) - median_ms(write)
    warm = median_ms(lambda: index._filter_mask("t3", f))
    return f"| {name} | {n:,} | {cold:.2f} | {stale:.3f} | {warm:.3f} | {median_ms(write):.3f} |"


def corpus(n: int, dim: int, rng: np.random.Generator) -> list[IndexDocument]:
    """``n`` generated postings: random words, clustered unit vectors, cities chosen so that
    a filter on city 1 / 2 / 3 admits 50% / 10% / 1% of them."""
    centres = rng.normal(size=(200, dim))
    vectors = centres[rng.integers(0, 200, n)] + 2.0 * rng.normal(size=(n, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    share = rng.random(n)
    cities = np.select([share < 0.5, share < 0.6, share < 0.61], [1, 2, 3], default=4)
    words = np.array(WORDS)
    docs = []
    for i in range(n):
        # Zipf-like word frequencies: the first words are in many documents, as real words are.
        text = " ".join(words[np.minimum(rng.zipf(1.2, 12) - 1, len(WORDS) - 1)])
        low = float(rng.integers(3, 40) * 1000)
        docs.append(
            IndexDocument(
                id=i + 1, tenant_id=f"t{i % TENANTS}", private=bool(i % 20 == 0),
                title=text[:20], text=text, vector=vectors[i], title_vector=vectors[i],
                timestamp=float(i), city_code=int(cities[i]), salary_min=low,
                salary_max=low + 5000, education_rank=int(rng.integers(1, 7)),
                years=float(rng.integers(0, 11)), skills=(f"s{i % SKILLS}",),
            )
        )  # fmt: skip
    return docs


def build(path: Path, n: int, dim: int) -> tuple[EmbeddedIndex, list[IndexDocument]]:
    docs = corpus(n, dim, np.random.default_rng(2))
    index = open_index(path, dim=dim)
    start = time.perf_counter()
    for at in range(0, n, 2000):
        index.upsert(docs[at : at + 2000])
    index.commit()
    print(f"(built {n:,} documents, dim {dim}, in {time.perf_counter() - start:.0f} s)")
    return index, docs


def queries(rng: np.random.Generator, count: int) -> list[list[str]]:
    # Words of middling frequency (each in ~1-5% of the documents): the filter clauses
    # then walk long posting lists, as a real query's do.
    return [[str(w) for w in rng.choice(WORDS[5:60], size=2)] for _ in range(count)]


def bench_keyword(index: EmbeddedIndex) -> None:
    rng = np.random.default_rng(5)
    qs = queries(rng, 200)
    cases = {
        "no filter": SearchFilters(),
        "city + salary": SearchFilters(city_codes=(1,), salary_min=15000.0),
        "city + salary + education + skills": SearchFilters(
            city_codes=(1, 2), salary_min=15000.0, education_min_rank=3, skills_any=("s1", "s2")
        ),
    }
    print("| keyword_search (limit 200) | median ms |")
    print("|---|---|")
    for name, f in cases.items():
        source = cycle(qs)
        ms = median_ms(partial(keyword_call, index, source, f), 200)
        print(f"| {name} | {ms:.3f} |")


def keyword_call(index: EmbeddedIndex, source: Iterator[list[str]], f: SearchFilters) -> Any:
    return index.keyword_search("t3", next(source), f, limit=200)


def vector_call(index: EmbeddedIndex, source: Iterator[np.ndarray], f: SearchFilters) -> Any:
    return index.vector_search("t3", next(source), f, limit=200)


def bench_vectors(index: EmbeddedIndex, docs: list[IndexDocument]) -> None:
    rng = np.random.default_rng(6)
    vectors = np.stack([d.vector for d in docs])
    cities = np.array([d.city_code for d in docs])
    visible = np.array([not d.private or d.tenant_id == "t3" for d in docs])
    probes = vectors[rng.integers(0, len(docs), 100)] + 0.1 * rng.normal(
        size=(100, vectors.shape[1])
    )
    probes = (probes / np.linalg.norm(probes, axis=1, keepdims=True)).astype(np.float32)
    cases = {"100%": ((), visible), "50%": ((1,), cities == 1), "10%": ((2,), cities == 2),
             "1%": ((3,), cities == 3)}  # fmt: skip
    original = index.settings
    print("| selectivity | exact shortcut | recall@10 | median ms (limit 200) |")
    print("|---|---|---|---|")
    for shortcut in (True, False):
        if not shortcut:
            index.settings = original.model_copy(
                update={
                    "embedded": original.embedded.model_copy(update={"exact_search_threshold": 0})
                }
            )
        for name, (codes, admitted) in cases.items():
            f = SearchFilters(city_codes=codes)
            allowed = np.flatnonzero(admitted & visible)
            recalls = []
            for probe in probes:
                truth = allowed[np.argsort(-(vectors[allowed] @ probe))[:10]] + 1
                found = [d for d, _ in index.vector_search("t3", probe, f, limit=200)[:10]]
                recalls.append(len(set(found) & set(truth.tolist())) / 10)
            ms = median_ms(partial(vector_call, index, cycle(probes), f), 100)
            print(f"| {name} | {'on' if shortcut else 'off'} | {np.mean(recalls):.4f} | {ms:.3f} |")
    index.settings = original


def qps(call: Callable[[int], Any], threads: int, seconds: float = 3.0) -> float:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            call(k * 100_000 + i)
            i += 1
        done[k] = i

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / seconds


def bench_threads(index: EmbeddedIndex, docs: list[IndexDocument]) -> None:
    rng = np.random.default_rng(7)
    qs = queries(rng, 500)
    probes = np.stack([docs[i].vector for i in rng.integers(0, len(docs), 500)])
    searcher = index._keyword.searcher()
    raw_queries = [index._keyword_query(q, "t3", SearchFilters()) for q in qs]
    filtered = SearchFilters(city_codes=(1,))
    mask = index._filter_mask("t3", filtered)
    calls: dict[str, Callable[[int], Any]] = {
        "raw tantivy Searcher.search": lambda i: searcher.search(
            raw_queries[i % 500], limit=200, count=True
        ),
        "raw hnswlib knn_query": lambda i: index._hnsw.knn_query(probes[i % 500], k=200),
        "raw hnswlib knn_query, Python filter": lambda i: index._hnsw.knn_query(
            probes[i % 500], k=200, filter=lambda s: bool(mask[s])
        ),
        "index.keyword_search": lambda i: index.keyword_search(
            "t3", qs[i % 500], SearchFilters(), limit=200
        ),
        "index.vector_search (50% mask)": lambda i: index.vector_search(
            "t3", probes[i % 500], filtered, limit=200
        ),
    }
    print("| call | 1 thread QPS | 2 threads | 4 threads | 4 / 1 |")
    print("|---|---|---|---|---|")
    for name, call in calls.items():
        rates = [qps(call, t) for t in (1, 2, 4)]
        print(
            f"| {name} | {rates[0]:.0f} | {rates[1]:.0f} | {rates[2]:.0f} | {rates[2] / rates[0]:.2f} |"
        )


def bench_memory(n: int, dim: int = 512, titles: int = 2700) -> None:
    """Python-side memory (numpy columns, vectors, vocabularies: what ``tracemalloc`` sees;
    hnswlib's graph and tantivy live outside it) per posting, USE-sized vectors, ``titles``
    distinct title vectors as in 300k generated postings."""
    rng = np.random.default_rng(8)
    title_vectors = rng.normal(size=(titles, dim)).astype(np.float32)
    title_vectors /= np.linalg.norm(title_vectors, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        index = open_index(Path(tmp), dim=dim, hnsw_ef_construction=20)
        base = tracemalloc.get_traced_memory()[0]
        for at in range(0, n, 1000):
            vectors = rng.normal(size=(1000, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            index.upsert(
                [
                    IndexDocument(
                        id=at + i + 1, tenant_id="t0", private=False, title="t", text="w1",
                        vector=vectors[i], title_vector=title_vectors[(at + i) % titles],
                        timestamp=float(i),
                    )
                    for i in range(1000)
                ]
            )  # fmt: skip
        used = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        capacity = index._columns.capacity
        print("| postings | capacity (slots) | traced bytes per posting | per slot of capacity |")
        print("|---|---|---|---|")
        print(f"| {n:,} | {capacity:,} | {used / n:,.0f} | {used / capacity:,.0f} |")
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", default=["masks", "keyword", "vectors", "threads"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dim", type=int, default=64)
    args = parser.parse_args()
    if "memory" in args.parts:
        bench_memory(args.sizes[0])
    if "masks" in args.parts:
        bench_masks(args.sizes)
    if set(args.parts) & {"keyword", "vectors", "threads"}:
        with tempfile.TemporaryDirectory() as tmp:
            index, docs = build(Path(tmp), args.sizes[0], args.dim)
            if "keyword" in args.parts:
                bench_keyword(index)
            if "vectors" in args.parts:
                bench_vectors(index, docs)
            if "threads" in args.parts:
                bench_threads(index, docs)
            index.close()


if __name__ == "__main__":
    main()
