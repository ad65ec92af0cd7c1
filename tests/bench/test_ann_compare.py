"""The ANN comparison runs end to end on random vectors and reports every engine."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np

from bench.ann_compare import DataSet, HnswParams, run_comparison

ENGINES = (
    "exact (numpy float32)",
    "hnswlib float32",
    "faiss HNSWSQ int8",
    "faiss HNSWSQ fp16",
    "faiss SQ int8 flat scan",
    "usearch i8",
    "usearch f16",
)


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """The rows of the table under ``heading``, by engine name."""
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if cells and cells[0] in ENGINES:
            rows[cells[0]] = cells[1:]
    return rows


def test_report_has_exact_reference_and_every_library_measured_or_skipped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2_100, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = DataSet("random unit vectors", vectors[:2_000], vectors[2_000:], synthetic=False)
    output = tmp_path / "ann.md"
    params = HnswParams(m=8, ef_construction=40, ef_search=32, build_threads=1)
    # The comparison collects garbage after each engine (for honest memory figures); late in
    # a suite run the worker's heap holds millions of objects, which made those collections
    # most of this test's time (150 s against 7.5 s alone). Frozen objects are not traversed.
    gc.freeze()
    try:
        run_comparison(
            output, [data], params, ef_sweep=(64,), log=lambda _: None, probe_seconds=0.02
        )
    finally:
        gc.unfreeze()
    text = output.read_text()

    recall = table_rows(text, "### Recall@10 against exact")
    assert set(recall) == set(ENGINES)
    assert recall["exact (numpy float32)"] == ["1.000"] * 4
    for name, cells in recall.items():
        if cells[0].startswith("skipped:"):
            assert len(cells[0]) > len("skipped: "), name  # a reason is given
            continue
        assert not any("outside the filter" in c for c in cells), name  # never a post-filter
        measured = [float(c) for c in cells if not c.startswith("skipped")]
        assert measured and all(0.0 <= v <= 1.0 for v in measured), name
    for name in ("hnswlib float32", "faiss HNSWSQ int8", "faiss HNSWSQ fp16"):
        if not recall[name][0].startswith("skipped"):
            # A graph this size, searched this wide, finds most true neighbours unfiltered.
            assert float(recall[name][0]) > 0.5, name

    sizes = table_rows(text, "### Size, build, save and load")
    assert set(sizes) == set(ENGINES)
    exact = sizes["exact (numpy float32)"]
    assert 32 * 4 <= float(exact[1].replace(",", "")) < 32 * 4 + 10  # float32 file: 128 B a vector
    if not sizes["faiss HNSWSQ int8"][0].startswith("skipped"):
        # int8 codes: a quarter of float32 per vector, plus the graph.
        assert float(sizes["faiss HNSWSQ int8"][3].replace(",", "")) < float(
            sizes["faiss HNSWSQ fp16"][3].replace(",", "")
        )
    assert "### Throughput" in text and "### Deletion and replacement" in text
    assert "efSearch" in text
