"""The embedded index under each ``settings.search.embedded.vector_codec`` (float32, float16,
int8) on generated postings with real USE vectors (issue 18: one compact copy of each vector,
≤ 2 KB a posting, recall@10 ≥ 0.95 against exact float32).

    python -m bench.vector_codec [--size 100000] [--codecs float32 float16 int8]
                                 [--output bench/results/vector_codec.md]

Content vectors: the benchmark's embedding cache of real USE vectors (``bench.ann_compare``
reads a private copy of ``bench/.cache/talentmatch.db``), minus copies of the query strings'
own vectors; title vectors: 2,700 other real vectors shared by the postings (300k generated
postings have about that many distinct titles). The postings themselves are GENERATED:
public, city 1 / 2 / 3 admitting 50% / 10% / 1% of them. Queries: the encoder evaluation's
search strings (zh and en titles and skills) through the service's USE encoder, encoded once
and kept in ``bench/.cache/vector_codec_queries.npy``.

For each codec: the index is built through ``EmbeddedIndex.upsert`` and checkpointed, then a
FRESH process opens it and reports the resident bytes the open added (imports done first)
and the seconds it took, then ``vector_search`` latency (CPU ms of the calling thread and wall
ms) and its top-10 against the exact float32 top-10 under each filter, with the default
``exact_search_threshold`` and with the graph forced (threshold 0). For the compact codecs it
also times the two ways to score only the admitted rows: a flat faiss scan of the codes with
an ``IDSelectorBitmap`` (what the index does), and decoding the admitted codes and scoring them
in numpy. Not in CI (minutes per codec on two cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.ann_compare import CACHE_DB, load_real_vectors, machine, rss_bytes, without_copies
from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters

QUERY_CACHE = Path(__file__).parent / ".cache" / "vector_codec_queries.npy"
TITLES = 2700
FILTERS = {
    "100%": SearchFilters(),
    "50%": SearchFilters(city_codes=(1,)),
    "10%": SearchFilters(city_codes=(2,)),
    "1%": SearchFilters(city_codes=(3,)),
}
LIMITS = (10, 200)  # top-10 asked for, and the service's candidate_depth (top 10 of 200 read)
EXACT_ROWS = (1000, 5000, 20000)
MODEL_ID = "bench-vector-codec"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def search_strings() -> np.ndarray:
    """The encoded search strings (encoded once, then read from the cache file)."""
    if QUERY_CACHE.exists():
        return np.load(QUERY_CACHE)
    from bench.ann_compare import encode_search_strings

    vectors = np.asarray(encode_search_strings(), dtype=np.float32)
    QUERY_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.save(QUERY_CACHE, vectors)
    return vectors


def cities(n: int) -> np.ndarray:
    share = np.random.default_rng(13).random(n)
    return np.select([share < 0.5, share < 0.6, share < 0.61], [1, 2, 3], default=4)


def settings_for(codec: str, threshold: int = 20_000) -> SearchSettings:
    return SearchSettings(
        semantic_floor=-1.0,
        embedded={"vector_codec": codec, "exact_search_threshold": threshold},  # type: ignore[arg-type]
    )


def build(path: Path, codec: str, vectors: np.ndarray, titles: np.ndarray) -> float:
    """An index of ``vectors`` (generated postings) under ``path``; the seconds it took."""
    city = cities(len(vectors))
    index = EmbeddedIndex(
        path, dim=vectors.shape[1], model_id=MODEL_ID, settings=settings_for(codec)
    )
    started = time.perf_counter()
    for at in range(0, len(vectors), 1000):
        index.upsert(
            [
                IndexDocument(
                    id=i + 1, tenant_id="t", private=False, title=f"posting {i}", text=f"w{i % 997}",
                    vector=vectors[i], title_vector=titles[i % len(titles)], timestamp=float(i),
                    city_code=int(city[i]),
                )
                for i in range(at, min(at + 1000, len(vectors)))
            ]
        )  # fmt: skip
    index.checkpoint()
    elapsed = time.perf_counter() - started
    index.close()
    return elapsed


def exact_truth(vectors: np.ndarray, queries: np.ndarray) -> dict[str, list[list[int]]]:
    """The float32 top-10 ids under each filter."""
    city = cities(len(vectors))
    truth = {}
    for share, f in FILTERS.items():
        slots = (
            np.flatnonzero(np.isin(city, f.city_codes)) if f.city_codes else np.arange(len(vectors))
        )
        scores = queries @ vectors[slots].T
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        truth[share] = (slots[top] + 1).tolist()
    return truth


# -- in the fresh process ---------------------------------------------------------------


def measure_loaded(path: Path, codec: str, dim: int, queries_path: Path) -> dict[str, Any]:
    """Open the index at ``path`` in this process and measure it (``--child``)."""
    queries = np.load(queries_path)
    before = rss_bytes()
    started = time.perf_counter()
    index = EmbeddedIndex(path, dim=dim, model_id=MODEL_ID, settings=settings_for(codec))
    load_s = time.perf_counter() - started
    loaded_rss = rss_bytes() - before
    result: dict[str, Any] = {"load_s": load_s, "rss_delta": loaded_rss, "count": index.count()}
    runs: dict[str, Any] = {}
    for threshold in (20_000, 0):
        index.settings = settings_for(codec, threshold)
        for share, f in FILTERS.items():
            for limit in LIMITS:
                index.vector_search("t", queries[0], f, limit=limit)  # masks cached, as served
                found, cpu, wall = [], [], []
                for q in queries:
                    c0, w0 = time.thread_time(), time.perf_counter()
                    hits = index.vector_search("t", q, f, limit=limit)
                    cpu.append((time.thread_time() - c0) * 1000)
                    wall.append((time.perf_counter() - w0) * 1000)
                    found.append([doc_id for doc_id, _ in hits[:10]])
                runs[f"{threshold}/{share}/{limit}"] = {"found": found, "cpu": cpu, "wall": wall}
    result["runs"] = runs
    result["rss_after_search"] = rss_bytes() - before
    result["exact_ways"] = exact_ways(index, queries)
    stored = index.stored_fields(list(range(1, 2001)))
    result["stored_ids"] = stored.ids
    np.save(queries_path.with_name(f"stored-{codec}.npy"), stored.vectors)
    index.close()
    return result


def exact_ways(index: EmbeddedIndex, queries: np.ndarray) -> dict[str, dict[int, float]]:
    """Median CPU ms of scoring only ``n`` admitted rows and keeping the top 200: the index's
    own exact path, and (compact codecs) decoding the codes and scoring them in numpy."""
    store: Any = index._vectors
    rng = np.random.default_rng(5)
    ways: dict[str, dict[int, float]] = {"index exact scan": {}}
    if store.codec != "float32":
        ways["decode + numpy"] = {}
    for rows in [r for r in EXACT_ROWS if r <= index._columns.size]:
        slots = np.sort(rng.choice(index._columns.size, size=rows, replace=False))
        times: dict[str, list[float]] = {name: [] for name in ways}
        for q in queries[:60]:
            c0 = time.thread_time()
            store.exact(q, slots, 200)
            times["index exact scan"].append((time.thread_time() - c0) * 1000)
            if "decode + numpy" in ways:
                c0 = time.thread_time()
                decoded = store.state.index.reconstruct_batch(store.state.slot_label[slots])
                scores = np.einsum("ij,j->i", decoded, q)
                top = np.argpartition(-scores, 199)[:200]
                slots[top[np.argsort(-scores[top])]]
                times["decode + numpy"].append((time.thread_time() - c0) * 1000)
        for name, samples in times.items():
            ways[name][rows] = float(np.median(samples))
    return ways


# -- the report -------------------------------------------------------------------------


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def render(meta: dict[str, Any], results: dict[str, dict[str, Any]], truth: dict[str, Any]) -> str:
    n = meta["size"]
    lines = [
        "# Vector codecs of the embedded index: one compact copy of each vector",
        "",
        f"`python -m bench.vector_codec --size {n}` on {meta['machine']}, {meta['date']}; load "
        f"average {meta['load_start']} at the start, {meta['load_end']} at the end (a shared "
        "machine: latencies are CPU time of the searching thread, wall time beside).",
        "",
        f"Data: {n:,} GENERATED postings (public; city 1 / 2 / 3 admit 50% / 10% / 1%) with REAL "
        f"USE content vectors (the benchmark's embedding cache, {meta['removed']} copies of the "
        f"query strings' own vectors taken out) and {TITLES:,} real title vectors shared among "
        f"them; queries: {meta['queries']} encoded search strings (zh and en titles and skills). "
        "Settings: today's defaults (M=16, ef_construction=100, ef_search=96, "
        "exact_search_threshold=20,000) unless a row says otherwise.",
        "",
        "## Memory, build and load",
        "",
        "RSS: resident bytes a fresh process gains opening the checkpointed index (Python and "
        "the libraries imported first), divided by the postings; it holds the columns, titles, "
        "vocabularies and the vectors (tantivy's files are memory-mapped and barely touched by "
        "a vector search). Files: the index directory's bytes on disk, tantivy's excluded.",
        "",
        "| codec | build s | load s | RSS bytes/posting (opened) | RSS bytes/posting (after the searches) | vector + column files bytes/posting |",
        "|---|---|---|---|---|---|",
    ]
    for codec, r in results.items():
        lines.append(
            f"| {codec} | {r['build_s']:.0f} | {r['load_s']:.2f} | {r['rss_delta'] / n:,.0f} | "
            f"{r['rss_after_search'] / n:,.0f} | {r['file_bytes'] / n:,.0f} |"
        )
    for threshold, title in ((20_000, "the default exact_search_threshold (20,000: the 10% and 1% filters are scanned exactly)"),
                             (0, "the graph forced (exact_search_threshold 0)")):  # fmt: skip
        lines += [
            "",
            f"## Recall@10 against exact float32 and `vector_search` latency, {title}",
            "",
            "Cells: recall@10 (top 10 of the answer against the exact float32 top 10 of the "
            "admitted postings); CPU ms p50 / p99 (wall p50). `limit 200` is what the service asks "
            "for (candidate_depth).",
            "",
            "| codec | limit | " + " | ".join(FILTERS) + " |",
            "|---|---|" + "---|" * len(FILTERS),
        ]
        for codec, r in results.items():
            for limit in LIMITS:
                cells = []
                for share in FILTERS:
                    run = r["runs"][f"{threshold}/{share}/{limit}"]
                    cpu, wall = np.array(run["cpu"]), np.array(run["wall"])
                    cells.append(
                        f"{recall(run['found'], truth[share]):.3f}; {np.percentile(cpu, 50):.2f} / "
                        f"{np.percentile(cpu, 99):.2f} ({np.percentile(wall, 50):.2f})"
                    )
                lines.append(f"| {codec} | {limit} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Scoring only the admitted rows (the exact path), top 200",
        "",
        "CPU ms median over 60 queries, random admitted slots.",
        "",
        "| codec | way | " + " | ".join(f"{rows:,} rows" for rows in EXACT_ROWS) + " |",
        "|---|---|" + "---|" * len(EXACT_ROWS),
    ]
    for codec, r in results.items():
        for way, by_rows in r["exact_ways"].items():
            cells = [f"{by_rows[str(r)]:.2f}" if str(r) in by_rows else "—" for r in EXACT_ROWS]
            lines.append(f"| {codec} | {way} | " + " | ".join(cells) + " |")
    lines += ["", "## Stored vectors against the originals (postings 1-2,000)", ""]
    lines += ["| codec | max abs difference | min cosine |", "|---|---|---|"]
    for codec, r in results.items():
        lines.append(f"| {codec} | {r['stored_max_abs']:.5f} | {r['stored_min_cos']:.6f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", type=int, default=100_000, help="postings (at most the real vectors)"
    )
    parser.add_argument("--codecs", nargs="+", default=["float32", "float16", "int8"])
    parser.add_argument(
        "--db", type=Path, default=CACHE_DB, help="the benchmark's database (read-only copy)"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "vector_codec.md"
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("PATH", "CODEC", "DIM", "QUERIES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        path, codec, dim, queries_path = args.child
        print(json.dumps(measure_loaded(Path(path), codec, int(dim), Path(queries_path))))
        return
    meta: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                            "load_start": load_average(), "size": args.size}  # fmt: skip
    queries = search_strings()
    real = load_real_vectors(args.db)
    titles, real = real[-TITLES:], real[:-TITLES]
    corpus = without_copies(real, queries)
    meta["removed"] = len(real) - len(corpus)
    if len(corpus) < args.size:
        parser.error(f"only {len(corpus):,} real vectors")
    corpus = corpus[: args.size]
    meta["queries"] = len(queries)
    truth = exact_truth(corpus, queries)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        queries_path = Path(scratch) / "queries.npy"
        np.save(queries_path, queries)
        for codec in args.codecs:
            path = Path(scratch) / codec
            build_s = build(path, codec, corpus, titles)
            files = [f for f in path.iterdir() if f.is_file()]
            child = subprocess.run(
                [sys.executable, "-m", "bench.vector_codec", "--child", str(path), codec,
                 str(corpus.shape[1]), str(queries_path)],
                capture_output=True, text=True,
            )  # fmt: skip
            if child.returncode:
                sys.exit(f"measuring {codec} failed:\n{child.stderr}")
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result["build_s"] = build_s
            result["file_bytes"] = sum(f.stat().st_size for f in files if f.name != "LOCK")
            stored = np.load(Path(scratch) / f"stored-{codec}.npy")
            original = corpus[np.array(result["stored_ids"]) - 1]
            result["stored_max_abs"] = float(np.abs(stored - original).max())
            cos = np.sum(stored * original, axis=1) / np.linalg.norm(stored, axis=1)
            result["stored_min_cos"] = float(cos.min())
            results[codec] = result
            print(
                f"{codec}: built in {build_s:.0f} s, {result['rss_delta'] / args.size:,.0f} B/posting",
                file=sys.stderr,
            )
            shutil.rmtree(path, ignore_errors=True)
    meta["load_end"] = load_average()
    report = render(meta, results, truth)
    args.output.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
