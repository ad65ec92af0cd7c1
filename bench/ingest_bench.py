"""Intake speed on the path users take: postings sent through ``POST /v1/jobs:bulk``.

- ``measure_bulk_ingest``: a real uvicorn server on a fresh data directory (cold embedding
  cache), an agency key, JSONL batches posted as a client sends them, timed until the index
  holds every posting; next to the encoder alone on exactly the texts the pipeline gave it
  (recorded as it encoded them, in the same batches). Medians over repeats, since a shared
  machine's speed drifts between runs.
- ``measure_ingest_curve``: the rate of each chunk as the corpus grows from 0 to ``size``,
  through the bulk load's own code (the load job, its batches, the outbox and the index),
  with vectors that cost what cached ones do: everything but the model, so a rate that falls
  with the corpus shows up as a falling curve.

``python -m bench.ingest_bench --sample 1000 --repeats 3 --curve 200000 --chunk 10000``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.runtime import Runtime, index_now
from core.domain import EntityKind
from core.fingerprints import lsh_buckets, minhash_bytes, posting_minhash
from core.settings import Settings
from ingestion.bulk import create_ingest_job, run_ingest_job
from ingestion.sample_data import generate_jobs
from representation.encoders import HashingEncoder, UniversalSentenceEncoder
from store.db import Database
from store.jobs import BUCKET_CAPACITY, fingerprint_and_group
from store.keys import create_key, get_or_create_tenant
from store.models import Job, JobLshBucket
from store.normalize import normalize_place

TENANT = "agency-bench"


class RecordingEncoder:
    """An encoder that remembers every batch it was asked to encode (what the pipeline,
    after its embedding cache, really sent to the model)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.batches: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.asarray(self.encoder.encode(texts))


class DigestEncoder:
    """Stands in for cached vectors: a unit vector drawn from each text's digest costs about
    what reading a cached vector does, so a run measures everything but the model (the
    hashing test encoder spends a Python loop per character)."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.model_id = f"digest-{dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for item in texts:
            seed = int.from_bytes(hashlib.blake2b(item.encode(), digest_size=8).digest(), "little")
            rows.append(np.random.default_rng(seed).standard_normal(self.dim))
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def _jsonl(records: list[Any]) -> bytes:
    lines = [json.dumps(r.fields, ensure_ascii=False, default=str) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def serve_in_thread(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    """``app`` served by uvicorn on a free local port in a thread, once it has started (its
    lifespan, the runtime included, has run); stop it with ``server.should_exit = True``."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", server, thread


def _agency_key(settings: Settings, runtime: Runtime) -> str:
    with runtime.db.session() as session:
        get_or_create_tenant(session, TENANT)
        return create_key(
            session, tenant_id=TENANT, role="agency",
            pepper=settings.auth.key_pepper.get_secret_value(),
        )  # fmt: skip


def _bulk_once(encoder: Any, records: list[Any], batch: int) -> dict[str, float]:
    """Seconds from the first upload until the index holds every posting (cold cache), and
    seconds for the encoder alone on the batches the pipeline encoded: wall-clock, and the
    process's CPU time (every thread: server, load worker, encoder; steadier than wall-clock
    on a machine other work shares)."""
    recording = RecordingEncoder(encoder)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp))
        app = create_app(settings, encoder=recording)
        url, server, thread = serve_in_thread(app)
        try:
            runtime: Runtime = app.state.runtime
            headers = {"Authorization": f"Bearer {_agency_key(settings, runtime)}"}
            index = runtime.indexes[EntityKind.JOB]
            recording.batches.clear()  # start-up's own encodes (none expected) are not ingest
            with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
                started, started_cpu = time.perf_counter(), time.process_time()
                loads = []
                for i in range(0, len(records), batch):
                    body = _jsonl(records[i : i + batch])
                    answer = client.post(
                        "/v1/jobs:bulk", files={"file": (f"postings-{i}.jsonl", body)}
                    )
                    answer.raise_for_status()
                    loads.append(answer.json()["id"])
                for load in loads:
                    while (state := client.get(f"/v1/ingest-jobs/{load}").json())["status"] in (
                        "queued",
                        "running",
                    ):
                        time.sleep(0.15)
                    if state["failed"]:
                        raise RuntimeError(f"bulk load {load}: {state['errors'][:3]}")
                while index.count() < len(records):
                    time.sleep(0.15)
                pipeline = time.perf_counter() - started
                pipeline_cpu = time.process_time() - started_cpu
        finally:
            server.should_exit = True
            thread.join(timeout=60)
    encoder_only = encoder_cpu = 0.0
    for texts in recording.batches:
        started, started_cpu = time.perf_counter(), time.process_time()
        encoder.encode(texts)
        encoder_only += time.perf_counter() - started
        encoder_cpu += time.process_time() - started_cpu
    return {"pipeline_s": pipeline, "encoder_s": encoder_only, "pipeline_cpu_s": pipeline_cpu,
            "encoder_cpu_s": encoder_cpu, "texts": sum(len(t) for t in recording.batches)}  # fmt: skip


def measure_bulk_ingest(
    encoder: Any, sample: int, *, repeats: int, batch: int = 500, seed: int = 4242
) -> dict[str, Any]:
    """``sample`` postings through ``POST /v1/jobs:bulk`` (real HTTP, an agency key, JSONL
    files of ``batch`` postings, cold embedding cache) until searchable, against the encoder
    alone on the same texts; medians over ``repeats``."""
    records = list(generate_jobs(sample, seed=seed))
    encoder.encode(["warm-up: load the model before timing"])
    runs = [_bulk_once(encoder, records, batch) for _ in range(repeats)]
    return {
        "postings": sample,
        "repeats": repeats,
        "batch": batch,
        "encoder": encoder.model_id,
        "bulk_api_postings_per_s": statistics.median(sample / r["pipeline_s"] for r in runs),
        "encoder_only_postings_per_s": statistics.median(sample / r["encoder_s"] for r in runs),
        "pipeline_overhead_pct": statistics.median(
            100 * (r["pipeline_s"] - r["encoder_s"]) / r["encoder_s"] for r in runs
        ),
        "pipeline_overhead_cpu_pct": statistics.median(
            100 * (r["pipeline_cpu_s"] - r["encoder_cpu_s"]) / r["encoder_cpu_s"] for r in runs
        ),
        "runs": runs,
    }


def measure_ingest_curve(
    size: int, chunk: int, *, batch: int = 500, seed: int = 1, dim: int = 64
) -> dict[str, Any]:
    """Postings per second of each ``chunk`` as the corpus grows from 0 to ``size``, each
    chunk one bulk load (JSONL, batches of ``batch``, indexed after each batch), with vectors
    that cost what cached ones do (``DigestEncoder``)."""
    rates: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp))
        runtime = Runtime(settings, encoder=DigestEncoder(dim))
        runtime.start(background=False)
        try:
            with runtime.db.session() as session:
                get_or_create_tenant(session, TENANT)
            for start in range(0, size, chunk):
                count = min(chunk, size - start)
                body = _jsonl(list(generate_jobs(count, seed=seed, start=start)))
                began, began_cpu = time.perf_counter(), time.process_time()
                load = create_ingest_job(
                    runtime.db, settings.files_dir, tenant_id=TENANT, entity=EntityKind.JOB,
                    filename=f"chunk-{start}.jsonl", content=body, limits=runtime.limits,
                )  # fmt: skip
                done = run_ingest_job(
                    runtime.db, settings.files_dir, load.id, limits=runtime.limits,
                    batch_size=batch, after_batch=lambda _job: index_now(runtime),
                )  # fmt: skip
                elapsed = time.perf_counter() - began
                cpu = time.process_time() - began_cpu
                if done.failed:
                    raise RuntimeError(f"chunk at {start}: {list(done.errors or [])[:3]}")
                rate = count / elapsed
                rates.append({"corpus_before": start, "postings": count, "per_s": rate,
                              "per_cpu_s": count / cpu})  # fmt: skip
                print(f"  {start:>9,} → {start + count:>9,}: {rate:7.1f} postings/s "
                      f"({count / cpu:.1f} per CPU second)", flush=True)  # fmt: skip
        finally:
            runtime.close()
    return {"size": size, "chunk": chunk, "batch": batch, "chunks": rates}


def _group(session: Session, jobs: list[Job]) -> None:
    fingerprint_and_group(session, TENANT, jobs)


def _plain_jobs(records: list[dict[str, Any]], places: dict[str | None, int | None]) -> list[Job]:
    jobs = []
    for fields in records:
        city = fields.get("city")
        if city not in places:
            places[city] = normalize_place(city, None).city_code
        jobs.append(Job(tenant_id=TENANT, title=fields["title"], city=city, city_code=places[city],
                        description=fields.get("description") or ""))  # fmt: skip
    return jobs


def _fill(
    session: Session, records: list[dict[str, Any]], places: dict[str | None, int | None]
) -> None:
    """Postings written straight to the tables with their MinHash and buckets, laid out as the
    store keeps them (``_keep_bucket_layout``); their groups are not computed."""
    first = int(session.scalar(select(func.max(Job.id))) or 0) + 1
    rows, buckets = [], []
    for offset, job in enumerate(_plain_jobs(records, places)):
        signature = posting_minhash(job.title, job.city, job.description)
        rows.append({"id": first + offset, "tenant_id": TENANT, "title": job.title,
                     "city": job.city, "city_code": job.city_code,
                     "description": job.description, "minhash": minhash_bytes(signature)})  # fmt: skip
        buckets += [{"bucket": k, "job_id": first + offset} for k in set(lsh_buckets(signature))]
    session.execute(insert(Job), rows)
    session.execute(insert(JobLshBucket), buckets)
    _keep_bucket_layout(session, sorted({b["bucket"] for b in buckets}))


def _keep_bucket_layout(session: Session, touched: list[int]) -> None:
    """Each touched bucket trimmed to the newest ``BUCKET_CAPACITY`` postings, as the store
    keeps its buckets."""
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS touched (bucket BIGINT PRIMARY KEY)"))
    session.execute(text("DELETE FROM touched"))
    session.execute(text("INSERT INTO touched (bucket) VALUES (:bucket)"),
                    [{"bucket": k} for k in touched])  # fmt: skip
    session.execute(
        text(
            "DELETE FROM job_lsh_buckets WHERE (bucket, job_id) IN (SELECT bucket, job_id FROM "
            "(SELECT b.bucket, b.job_id, row_number() OVER (PARTITION BY b.bucket ORDER BY "
            "b.job_id DESC) AS r FROM job_lsh_buckets b JOIN touched t ON t.bucket = b.bucket) "
            "WHERE r > :capacity)"
        ),
        {"capacity": BUCKET_CAPACITY},
    )


def measure_grouping_curve(
    size: int, chunk: int, *, batch: int = 500, seed: int = 1, probe: int | None = None
) -> dict[str, Any]:
    """Postings per second of duplicate grouping alone (``store.jobs.fingerprint_and_group``:
    MinHash, bucket lookups, comparisons, bucket writes) for each ``chunk`` as the corpus
    grows from 0 to ``size``. The postings are written as plain rows (no extraction,
    compliance, occupation coding, outbox or index): this isolates the stage whose cost grew
    with the corpus. With ``probe``, only the first ``probe`` postings of each chunk go
    through grouping (timed); the rest are written straight to the tables (``_fill``), so a
    large corpus is reached in a fraction of the time."""
    rates: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        db = Database(Settings(environment="test", data_dir=Path(tmp)))
        try:
            with db.session() as session:
                get_or_create_tenant(session, TENANT)
            places: dict[str | None, int | None] = {}
            for start in range(0, size, chunk):
                count = min(chunk, size - start)
                records = [r.fields for r in generate_jobs(count, seed=seed, start=start)]
                timed = records[:probe] if probe else records
                wall = cpu = 0.0
                for offset in range(0, len(timed), batch):
                    with db.session() as session:
                        jobs = _plain_jobs(timed[offset : offset + batch], places)
                        session.add_all(jobs)
                        session.flush()
                        began, began_cpu = time.perf_counter(), time.process_time()
                        _group(session, jobs)
                        session.flush()
                        wall += time.perf_counter() - began
                        cpu += time.process_time() - began_cpu
                for offset in range(len(timed), count, 5000):
                    with db.session() as session:
                        _fill(session, records[offset : offset + 5000], places)
                n = len(timed)
                rates.append({"corpus_before": start, "postings": n, "per_s": n / wall,
                              "per_cpu_s": n / cpu})  # fmt: skip
                print(f"  grouping at {start:>9,}: {n / wall:7.1f} postings/s "
                      f"({n / cpu:.1f} per CPU second)", flush=True)  # fmt: skip
        finally:
            db.dispose()
    return {"size": size, "chunk": chunk, "batch": batch, "probe": probe, "chunks": rates}


def render(
    bulk: dict[str, Any] | None,
    curve: dict[str, Any] | None,
    grouping: dict[str, Any] | None = None,
) -> str:
    """The measurements as Markdown."""
    lines = ["# Intake speed", ""]
    if bulk:
        lines += [
            f"`POST /v1/jobs:bulk`, {bulk['postings']} postings in JSONL files of "
            f"{bulk['batch']}, cold embedding cache, encoder `{bulk['encoder']}`, median of "
            f"{bulk['repeats']} runs:",
            "",
            f"- through the API until searchable: {bulk['bulk_api_postings_per_s']:.1f} postings/s",
            f"- the encoder alone on the same texts: {bulk['encoder_only_postings_per_s']:.1f} postings/s",
            f"- pipeline overhead over the encoder: {bulk['pipeline_overhead_pct']:.1f}% "
            f"wall-clock, {bulk['pipeline_overhead_cpu_pct']:.1f}% CPU time",
            "",
        ]
    if curve:
        lines += [
            f"Ingest rate by corpus size (vectors at the cost of cached ones, bulk loads of "
            f"{curve['chunk']:,}):",
            "",
            "| corpus before the chunk | postings/s | postings per CPU second |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c['corpus_before']:,} | {c['per_s']:.0f} | {c['per_cpu_s']:.0f} |"
            for c in curve["chunks"]
        ]
        lines.append("")
    if grouping:
        lines += [
            f"Duplicate grouping alone by corpus size (batches of {grouping['batch']}"
            + (
                f"; {grouping['probe']:,} timed per chunk, the rest written straight to the tables"
                if grouping.get("probe")
                else ""
            )
            + "):",
            "",
            "| corpus before the chunk | postings/s | postings per CPU second |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c['corpus_before']:,} | {c['per_s']:.0f} | {c['per_cpu_s']:.0f} |"
            for c in grouping["chunks"]
        ]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=1000, help="postings for the bulk API run")
    parser.add_argument("--repeats", type=int, default=3)
    # "digest": vectors at the cost of cached ones, so the bulk run times the pipeline alone.
    parser.add_argument("--encoder", choices=("use", "hashing", "digest"), default="use")
    parser.add_argument("--curve", type=int, default=0, help="corpus size for the rate curve")
    parser.add_argument("--chunk", type=int, default=10000)
    parser.add_argument(
        "--grouping", type=int, default=0, help="corpus size for the duplicate-grouping curve"
    )
    parser.add_argument(
        "--probe", type=int, default=0, help="grouping: time this many postings per chunk"
    )
    parser.add_argument("--output", default="")
    args = parser.parse_args(argv)
    bulk = curve = grouping = None
    if args.sample:
        encoders = {
            "use": UniversalSentenceEncoder,
            "hashing": HashingEncoder,
            "digest": DigestEncoder,
        }
        encoder: Any = encoders[args.encoder]()
        bulk = measure_bulk_ingest(encoder, args.sample, repeats=args.repeats)
    if args.curve:
        curve = measure_ingest_curve(args.curve, args.chunk)
    if args.grouping:
        grouping = measure_grouping_curve(args.grouping, args.chunk, probe=args.probe or None)
    text = render(bulk, curve, grouping)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
        Path(args.output).with_suffix(".json").write_text(
            json.dumps({"bulk": bulk, "curve": curve, "grouping": grouping}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
