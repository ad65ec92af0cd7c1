"""``talentmatch bench`` measures what users get (issue 18): a real server's search and match
through HTTP, the concurrency curve, the raw engines on the same index, server memory, disk
and start-up, and one checkpoint's cost; the report says on what machine and data.

One small run with the hashing encoder (no model) is shared by the tests of this module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.run import run_benchmarks

SIZES = [150, 300]
QUERIES = 6
CLIENTS = [1, 3]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    output = out / "bench.md"
    status = run_benchmarks(
        sizes=SIZES, queries=QUERIES, output=str(output), embed_sample=20,
        encoder_name="hashing", clients=CLIENTS, cache_dir=out / "cache", candidates=30,
    )  # fmt: skip
    assert status == 0
    return json.loads(output.with_suffix(".json").read_text()), output.read_text()


def test_http_search_and_match_are_timed_on_a_real_server(
    report: tuple[dict[str, Any], str],
) -> None:
    results, _ = report
    for row in results["sizes"]:
        http = row["http"]
        # Every search and match answered 200 (the client stops the run on anything else).
        assert http["search"]["n"] == QUERIES
        assert 0 < http["search"]["p50_ms"] <= http["search"]["p95_ms"] <= http["search"]["p99_ms"]
        assert http["match_candidate_to_jobs"]["n"] == QUERIES
        assert http["match_job_to_candidates"]["n"] == QUERIES
        assert http["match_candidate_to_jobs"]["p50_ms"] > 0
        assert [p["clients"] for p in http["concurrency"]] == CLIENTS
        for point in http["concurrency"]:
            assert point["requests"] == QUERIES
            assert point["qps"] > 0
        # The server is its own process: it loaded the index from the checkpoint and its
        # memory is not the benchmark's.
        assert http["startup_s"] > 0
        assert 0 < http["rss_after_start_bytes"] <= http["rss_after_run_bytes"] * 1.5
        assert http["rss_after_warmup_bytes"] > 10_000_000


def test_raw_engines_are_measured_on_the_same_index(report: tuple[dict[str, Any], str]) -> None:
    results, text = report
    for row in results["sizes"]:
        raw = row["raw_engines"]
        assert raw["queries"] == QUERIES
        assert raw["depth"] == 200
        assert raw["bm25_mean_hits"] > 0  # the bare keyword queries matched postings
        parts = raw["encode_p50_ms"] + raw["bm25_p50_ms"] + raw["knn_p50_ms"]
        assert raw["sum_p50_ms"] == pytest.approx(parts)
        assert min(raw["encode_p50_ms"], raw["bm25_p50_ms"], raw["knn_p50_ms"]) > 0
        in_process = row["search"]["p50_ms"] / raw["sum_p50_ms"]
        over_http = row["http"]["search"]["p50_ms"] / raw["sum_p50_ms"]
        assert f"**{in_process:.1f}×**" in text
        assert f"**{over_http:.1f}×**" in text


def test_memory_disk_and_their_slope_per_posting(report: tuple[dict[str, Any], str]) -> None:
    results, text = report
    small, large = results["sizes"]
    for row in (small, large):
        assert row["jobs_index_bytes"] > 0
        assert row["database_bytes"] > 0
    assert large["jobs_index_bytes"] > small["jobs_index_bytes"]
    slopes = results["slopes"]
    assert (slopes["from"], slopes["to"]) == tuple(SIZES)
    added = SIZES[1] - SIZES[0]
    expected = (large["jobs_index_bytes"] - small["jobs_index_bytes"]) / added
    assert slopes["jobs_index_bytes"] == pytest.approx(expected)
    rss = large["http"]["rss_after_warmup_bytes"] - small["http"]["rss_after_warmup_bytes"]
    assert slopes["server_rss_bytes"] == pytest.approx(rss / added)
    assert f"Per added posting from {SIZES[0]:,} to {SIZES[1]:,}" in text


def test_one_checkpoint_after_changing_postings(report: tuple[dict[str, Any], str]) -> None:
    results, _ = report
    for row in results["sizes"]:
        checkpoint = row["checkpoint"]
        assert checkpoint["changed_postings"] == 100
        assert checkpoint["checkpoint_s"] > 0
        # The checkpoint wrote files, and no more than the whole change wrote.
        assert 0 < checkpoint["checkpoint_bytes"] <= checkpoint["change_bytes"]
        assert checkpoint["checkpoint_bytes"] <= checkpoint["index_bytes"] * 2


def test_report_states_date_machine_encoder_and_generated_data(
    report: tuple[dict[str, Any], str],
) -> None:
    results, text = report
    machine = results["machine"]
    assert machine["cores"] >= 1
    assert machine["memory_gb"] > 0
    cpu = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    assert machine["cpu"] == cpu
    assert cpu in text
    assert results["date"] in text
    assert "`hashing-ngram-256`" in text
    assert "GENERATED" in text
    assert "share the machine's cores" in text
    for heading in ("HTTP search p50", "HTTP QPS at 1 / 3 clients", "server RSS",
                    "start-up", "checkpoint after 100 changed postings", "database on disk"):  # fmt: skip
        assert heading in text


def test_bench_refuses_bad_client_counts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", "--sizes", "100", "--clients", "1,0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error: --sizes and --clients must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr
