"""The engines alone on the same index the search service uses: the encoder's time for the
query text, one bare tantivy BM25 query (the text query alone: no visibility or filter
clauses, the pipeline's depth as limit) and one bare hnswlib kNN (no filter, the same k).
Their medians and sum are what a search costs at the least on this machine; the service's
time over that sum is its overhead (issue 18: "service / raw engines").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np
import tantivy

from core.encoder import Encoder
from search_index.protocol import DocumentVectors, SearchIndex
from search_index.tokenize import char_weight, query_char_grams, tokenize


def bm25_query(index: tantivy.Index, text: str) -> Any:
    """The keyword side's text query for ``text`` as the embedded engine scores it (words of
    the body, and Chinese character grams at their weights), without any other clause."""
    schema = index.schema
    Q, Should = tantivy.Query, tantivy.Occur.Should
    tokens = tokenize(text)
    clauses = [(Should, Q.term_query(schema, "body", token)) for token in tokens]
    clauses += [
        (Should, Q.boost_query(Q.term_query(schema, "chars", gram), char_weight(gram)))
        for gram in query_char_grams(tokens)
    ]
    return Q.boolean_query(clauses)


def live_hnsw(index: SearchIndex) -> Any | None:
    """The HNSW graph an embedded index searches, where it holds one in memory."""
    return getattr(index, "_hnsw", None)


def built_hnsw(source: DocumentVectors, ids: Sequence[int], *, m: int, ef_construction: int) -> Any:
    """A fresh hnswlib graph over the documents' vectors (for an engine that keeps its graph
    elsewhere): the same documents, the engine's graph parameters."""
    vectors = source.stored_fields(ids).vectors
    graph = hnswlib.Index(space="ip", dim=vectors.shape[1])
    graph.init_index(max_elements=len(vectors), ef_construction=ef_construction, M=m)
    graph.add_items(vectors, np.arange(len(vectors)))
    return graph


def measure_raw_engines(
    *,
    encoder: Encoder,
    keyword_dir: Path,
    graph: Any,
    ef_search: int,
    texts: Sequence[str],
    depth: int,
) -> dict[str, float]:
    """Median milliseconds of each engine over ``texts`` (one call per text, in order) and
    their sum. The keyword index is opened read-only beside the engine's own handle."""
    keywords = tantivy.Index.open(str(keyword_dir))
    keywords.reload()
    searcher = keywords.searcher()
    graph.set_ef(ef_search)
    k = min(depth, graph.get_current_count())
    encode, bm25, knn = [], [], []
    hits = 0
    for text in texts:
        started = time.perf_counter()
        vector = encoder.encode([text])[0]
        encode.append(time.perf_counter() - started)
        query = bm25_query(keywords, text)
        started = time.perf_counter()
        found = searcher.search(query, limit=depth)
        bm25.append(time.perf_counter() - started)
        hits += len(found.hits)
        started = time.perf_counter()
        graph.knn_query(vector, k=k, num_threads=1)
        knn.append(time.perf_counter() - started)
    result = {
        "encode_p50_ms": statistics.median(encode) * 1000,
        "bm25_p50_ms": statistics.median(bm25) * 1000,
        "knn_p50_ms": statistics.median(knn) * 1000,
        "queries": len(texts),
        "depth": depth,
        # A bare query that matched nothing would time an empty lookup, not BM25.
        "bm25_mean_hits": hits / max(1, len(texts)),
    }
    result["sum_p50_ms"] = result["encode_p50_ms"] + result["bm25_p50_ms"] + result["knn_p50_ms"]
    return result
