"""``talentmatch bench``: ingest throughput, hybrid search and match latency, index size and
peak memory at N generated postings, on the embedded default (SQLite + tantivy + HNSW).

Method (one process, single client, this machine):
- vectors for the N postings come from the default encoder; they are computed once and kept
  in an embedding cache (``bench/.cache``), so repeated runs measure the pipeline, not the
  model. "ingest without embedding" = SQL write + outbox + index with cached vectors;
  "ingest with embedding" = the same on a sample with a cold cache, next to the encoder's own
  time on the same texts (the pipeline's overhead over the encoder);
- search: hybrid queries (zh, en, mixed) with random filters, the query-vector LRU cleared
  before each so every query is encoded; the search service (understanding, encoding, the
  pipeline over the index), without the page's rows, highlights and HTTP;
- match: candidate → postings and posting → candidates through the matching services:
  retrieval, vectors, scoring every retrieved pair by the ranker, the top 20 (without the
  routes' explanations and HTTP).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from api.runtime import Runtime
from api.schemas import CandidateRead, SearchRequest
from api.views import candidate_view
from core.domain import EntityKind
from core.settings import Settings
from ingestion.archetypes import ARCHETYPES
from ingestion.resume_text import with_resume_extraction
from ingestion.sample_data import generate_candidates, generate_jobs
from matching import search as search_service
from matching.service import rank_candidates_for_job, rank_jobs_for_candidate
from representation.encoders import HashingEncoder, UniversalSentenceEncoder
from store.candidates import candidates_by_ids, upsert_candidate
from store.db import Database
from store.jobs import jobs_by_ids, upsert_jobs, visible_jobs_by_ids
from store.keys import (
    ROLE_DEFAULT_SCOPES,
    Principal,
    authenticate,
    create_key,
    get_or_create_tenant,
)
from store.models import Candidate, Job
from taxonomy.skills import skill_vocabulary

CACHE_DIR = Path("bench/.cache")
TENANTS = ("agency-a", "agency-b", "agency-c")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": statistics.median(values) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "n": len(values),
    }


def directory_size(path: Path) -> int:
    total = 0
    for file in path.rglob("*"):
        try:
            if file.is_file():
                total += file.stat().st_size
        except FileNotFoundError:  # tantivy's merge threads delete segment files meanwhile
            continue
    return total


def bench_queries(count: int, seed: int = 99) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocabulary = skill_vocabulary()
    bodies = []
    for i in range(count):
        a = rng.choice(ARCHETYPES)
        kind = i % 4
        if kind == 0:
            text = rng.choice(a.zh_titles)
        elif kind == 1:
            text = rng.choice(a.en_titles)
        elif kind == 2:  # mixed: an English skill with a Chinese title word, and a city
            text = f"{vocabulary.display_name(rng.choice(a.required), 'en')} {rng.choice(a.zh_titles)} 深圳"
        else:
            text = " ".join(
                vocabulary.display_name(s, rng.choice(("en", "zh"))) for s in a.required[:2]
            )
        filters: dict[str, Any] = {}
        if rng.random() < 0.5:
            filters["city"] = "深圳"
        if rng.random() < 0.3:
            filters["salary_min"] = rng.choice((8000, 15000, 25000))
        if rng.random() < 0.2:
            filters["employment_type"] = "full_time"
        if rng.random() < 0.2:
            filters["education"] = {"at_most": "bachelor"}
        # A unique suffix-free variation keeps queries distinct without changing meaning much.
        bodies.append(
            {
                "query": text
                if i < len(ARCHETYPES) * 8
                else f"{text} {rng.choice(('', '招聘', 'jobs'))}".strip(),
                "filters": filters,
                "page_size": 20,
            }
        )
    return bodies


def match_jobs(runtime: Runtime, candidate_id: int) -> None:
    """Postings for one candidate, as the match route ranks them (top 20)."""
    with runtime.db.session() as session:
        candidate = candidates_by_ids(session, [candidate_id])[candidate_id]
        rank_jobs_for_candidate(
            candidate, sources=runtime.matching, limit=20,
            load_jobs=lambda ids: visible_jobs_by_ids(session, ids, viewer_tenant=TENANTS[0]),
        )  # fmt: skip


def match_candidates(runtime: Runtime, job_id: int) -> None:
    """The benchmark tenant's candidates for one posting, as the match route ranks them."""
    with runtime.db.session() as session:
        job = jobs_by_ids(session, [job_id])[job_id]
        rank_candidates_for_job(
            job, tenant_id=TENANTS[0], sources=runtime.matching, limit=20,
            load_candidates=lambda ids: candidates_by_ids(session, ids, full=False),
        )  # fmt: skip


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ingest_jobs(runtime: Runtime, records: list[Any], batch: int = 500) -> None:
    """Postings in batches as a bulk load writes them (one transaction and one batched
    upsert per tenant and batch), each batch indexed before the next is written."""
    for start in range(0, len(records), batch):
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for offset, record in enumerate(records[start : start + batch]):
            tenant = TENANTS[(start + offset) % len(TENANTS)]
            by_tenant.setdefault(tenant, []).append(record.fields)
        with runtime.db.session() as session:
            for tenant, fields in by_tenant.items():
                upsert_jobs(session, tenant_id=tenant, records=fields)
        runtime.sync.drain()


def ingest_candidates(runtime: Runtime, records: list[Any], tenant: str, batch: int = 500) -> None:
    for start in range(0, len(records), batch):
        with runtime.db.session() as session:
            for record in records[start : start + batch]:
                upsert_candidate(
                    session, tenant_id=tenant, fields=with_resume_extraction(record.fields)
                )
        runtime.sync.drain()


def bench_settings(data_dir: Path) -> Settings:
    # Checkpoints are part of ingest cost: keep the production defaults' batching.
    return Settings(environment="test", data_dir=data_dir)


def _embedding_overhead_once(encoder: Any, records: list[Any]) -> tuple[float, float]:
    """Seconds to ingest ``records`` with a cold embedding cache, and seconds for the encoder
    alone on exactly the texts the pipeline encoded."""
    from representation.profiles import JobProfile

    # tantivy may still be finishing a segment merge in its own thread when the runtime is
    # closed; a leftover file must not fail the measurement.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        runtime = Runtime(bench_settings(Path(tmp)), encoder=encoder)
        runtime.start(background=False)
        with runtime.db.session() as session:
            for tenant in TENANTS:
                get_or_create_tenant(session, tenant)
        with_embedding = timed(lambda: ingest_jobs(runtime, records))
        texts: list[str] = []
        with runtime.db.session() as session:
            rows = jobs_by_ids(session, sorted(session.scalars(select(Job.id))))
            for row in rows.values():
                profile = JobProfile.from_row(row)
                texts += [profile.embedding_text(), profile.title_text()]
        runtime.close()
    encoder_only = timed(
        lambda: [encoder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    )
    return with_embedding, encoder_only


def measure_embedding_overhead(encoder: Any, sample: int, repeats: int = 5) -> dict[str, float]:
    """Ingest ``sample`` postings with a cold embedding cache vs. the encoder alone, ``repeats``
    times back to back; medians, since a shared machine's speed drifts by ±15% between runs."""
    records = list(generate_jobs(sample, seed=4242))
    encoder.encode(["warm-up: load the model before timing"])
    runs = [_embedding_overhead_once(encoder, records) for _ in range(repeats)]
    return {
        "postings": sample,
        "repeats": repeats,
        "with_embedding_postings_per_s": statistics.median(sample / w for w, _ in runs),
        "encoder_only_postings_per_s": statistics.median(sample / e for _, e in runs),
        "pipeline_overhead_pct": statistics.median(100 * (w - e) / e for w, e in runs),
    }


def bench_size(
    size: int, *, encoder: Any, cache_db: Database, queries: int, candidates: int
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"tm-bench-{size}-"))
    try:
        runtime = Runtime(bench_settings(data_dir), encoder=encoder, cache_db=cache_db)
        runtime.start(background=False)
        with runtime.db.session() as session:
            for tenant in TENANTS:
                get_or_create_tenant(session, tenant)
        records = list(generate_jobs(size, seed=1))
        print(f"[{size}] warming the embedding cache (first run only is slow)…", flush=True)
        warm = timed(lambda: _warm_cache(runtime, records))
        print(f"[{size}] cache ready in {warm:.0f}s; ingesting…", flush=True)
        ingest = timed(lambda: ingest_jobs(runtime, records))
        people = list(generate_candidates(candidates, seed=2))
        ingest_candidates(runtime, people, TENANTS[0])
        runtime.sync.checkpoint()
        index_bytes = directory_size(data_dir / "index")
        db_bytes = directory_size(data_dir) - index_bytes

        print(f"[{size}] searching…", flush=True)
        principal = Principal(tenant_id=TENANTS[0], role="agency", key_id="bench")
        search_times = []
        for body in bench_queries(queries):
            request = SearchRequest.model_validate(body)
            runtime.encode_query.clear()
            search_times.append(timed(partial(
                search_service.search_postings, runtime.search[EntityKind.JOB], runtime.encode_query,
                viewer_tenant=principal.tenant_id, request=request,
            )))  # fmt: skip

        print(f"[{size}] matching…", flush=True)
        rng = random.Random(5)
        with runtime.db.session() as session:
            candidate_ids = sorted(session.scalars(select(Candidate.id)))
        with runtime.db.session() as session:  # postings the benchmark tenant may see
            job_ids = sorted(session.scalars(select(Job.id).where(
                or_(Job.private.is_(False), Job.tenant_id == TENANTS[0]))))  # fmt: skip
        c2j: list[float] = []
        j2c: list[float] = []
        for _ in range(min(queries, len(candidate_ids))):
            # The matching services: retrieval, vectors, scoring by the ranker (the routes add
            # explanations and views to the 20 shown).
            c2j.append(timed(partial(match_jobs, runtime, rng.choice(candidate_ids))))
            j2c.append(timed(partial(match_candidates, runtime, rng.choice(job_ids))))
        print(f"[{size}] auth and redaction…", flush=True)
        security = measure_security_overhead(runtime, queries)
        runtime.close()
        return {
            "security": security,
            "postings": size,
            "candidates": candidates,
            "ingest_without_embedding_postings_per_s": size / ingest,
            "search": summarize(search_times),
            "match_candidate_to_jobs": summarize(c2j),
            "match_job_to_candidates": summarize(j2c),
            "index_mb": index_bytes / 1e6,
            "database_mb": db_bytes / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure_security_overhead(runtime: Runtime, queries: int) -> dict[str, float]:
    """What authentication (key lookup, constant-time hash check, rate limiter) and contact
    redaction add to a candidate search, against the search itself."""
    with runtime.db.session() as session:
        key = create_key(session, tenant_id=TENANTS[0], role="agency",
                         pepper=runtime.settings.auth.key_pepper.get_secret_value())  # fmt: skip
    pepper = runtime.settings.auth.key_pepper.get_secret_value()

    def authenticate_once() -> None:
        with runtime.db.session() as session:
            principal = authenticate(session, key, pepper=pepper)
        runtime.rate_limiter.check(principal.role, principal.key_id, "127.0.0.1")

    runtime.rate_limiter._per_minute = {}  # measure the check, not the refusals
    auth = [timed(authenticate_once) for _ in range(max(queries, 200))]
    principal = Principal(tenant_id=TENANTS[0], role="agency", key_id="bench",
                          scopes=frozenset(ROLE_DEFAULT_SCOPES["agency"]))  # fmt: skip
    searches, redaction = [], []
    for body in bench_queries(min(queries, 200)):
        request = SearchRequest.model_validate(body)
        runtime.encode_query.clear()
        search = partial(search_service.search_candidates, runtime.search[EntityKind.CANDIDATE],
                         runtime.encode_query, viewer_tenant=TENANTS[0], request=request)  # fmt: skip
        searches.append(timed(search))
        result = search().result
        with runtime.db.session() as session:
            rows = list(candidates_by_ids(session, [h.id for h in result.hits]).values())
            plain = timed(
                partial(lambda found: [CandidateRead.model_validate(r) for r in found], rows)
            )
            redacted = timed(
                partial(
                    lambda found: [candidate_view(r, principal, in_results=True) for r in found],
                    rows,
                )
            )
        redaction.append(max(0.0, redacted - plain))
    search_p50 = statistics.median(searches) * 1000
    auth_p50 = statistics.median(auth) * 1000
    redaction_p50 = statistics.median(redaction) * 1000
    return {
        "candidate_search_p50_ms": search_p50,
        "auth_p50_ms": auth_p50,
        "redaction_p50_ms": redaction_p50,
        "overhead_pct": 100 * (auth_p50 + redaction_p50) / search_p50,
    }


def _warm_cache(runtime: Runtime, records: list[Any]) -> None:
    from representation.profiles import JobProfile

    for start in range(0, len(records), 2000):
        texts = []
        for record in records[start : start + 2000]:
            fields = {k: v for k, v in record.fields.items() if k != "external_id"}
            job = Job(id=0, tenant_id="x", **fields)
            profile = JobProfile.from_row(job)
            texts += [profile.embedding_text(), profile.title_text()]
        runtime.encoder.encode(texts)
        print(f"  cached {min(start + 2000, len(records))}/{len(records)}", flush=True)


def run_benchmarks(
    *, sizes: list[int], queries: int, output: str, embed_sample: int, encoder_name: str
) -> int:
    encoder: Any = UniversalSentenceEncoder() if encoder_name == "use" else HashingEncoder(256)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache_db = Database(Settings(environment="test", data_dir=CACHE_DIR))
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores",
        "encoder": encoder.model_id,
        "sizes": [],
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"measuring ingest with embedding on {embed_sample} postings…", flush=True)
    results["embedding"] = measure_embedding_overhead(encoder, embed_sample)
    for size in sizes:
        results["sizes"].append(
            bench_size(size, encoder=encoder, cache_db=cache_db, queries=queries, candidates=2000)
        )
    cache_db.dispose()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).with_suffix(".json").write_text(json.dumps(results, indent=2))
    Path(output).write_text(render(results))
    print(render(results))
    return 0


def render(results: dict[str, Any]) -> str:
    e = results["embedding"]
    lines = [
        "# Benchmark results",
        "",
        f"`talentmatch bench` on {results['machine']}, {results['date']}, encoder `{results['encoder']}`, "
        "embedded default (SQLite + tantivy + HNSW). Latencies are single-client, in-process "
        "(the search and matching services, without the routes' views and HTTP), search "
        "including query encoding. Data: generated postings and candidates (demo and load "
        "data, not a quality measurement).",
        "",
        "## Ingest with embedding (cold cache)",
        "",
        f"- {e['postings']} postings, median of {e.get('repeats', 1)} runs: "
        f"{e['with_embedding_postings_per_s']:.1f} postings/s through the pipeline (batched "
        f"upserts as bulk loads write them, each batch indexed before the next), "
        f"{e['encoder_only_postings_per_s']:.1f} postings/s for the encoder alone on the same texts",
        f"- pipeline overhead on top of encoder time (median of the runs' ratios): "
        f"{e['pipeline_overhead_pct']:.1f}%",
        "",
        "## By corpus size",
        "",
        "| postings | ingest w/o embedding (postings/s) | search p50 / p95 / p99 (ms) | match cand→jobs p50 / p95 (ms) | match job→cands p50 / p95 (ms) | index (MB) | db (MB) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        s, c, j = r["search"], r["match_candidate_to_jobs"], r["match_job_to_candidates"]
        lines.append(
            f"| {r['postings']:,} | {r['ingest_without_embedding_postings_per_s']:.0f} | "
            f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} / {s['p99_ms']:.1f} | {c['p50_ms']:.1f} / {c['p95_ms']:.1f} | "
            f"{j['p50_ms']:.1f} / {j['p95_ms']:.1f} | {r['index_mb']:.0f} | {r['database_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "## Authentication and redaction",
        "",
        "Per candidate search (20 hits): key lookup + constant-time hash check + rate limiter, "
        "and masking the contacts of the hits, against the search route itself.",
        "",
        "| postings | candidate search p50 (ms) | auth p50 (ms) | redaction p50 (ms) | overhead |",
        "|---|---|---|---|---|",
    ]
    for r in results["sizes"]:
        sec = r["security"]
        lines.append(f"| {r['postings']:,} | {sec['candidate_search_p50_ms']:.1f} | {sec['auth_p50_ms']:.2f} | "
                     f"{sec['redaction_p50_ms']:.2f} | {sec['overhead_pct']:.1f}% |")  # fmt: skip
    lines.append("")
    return "\n".join(lines)
