"""``talentmatch bench``: what users get at N generated postings on the embedded default
(SQLite + tantivy + HNSW), in-process and through a real HTTP server, beside the raw engines
on the same index (issue 18).

Method (this machine, the same documents for every figure of one size):
- vectors for the N postings come from the default encoder; they are computed once and kept
  in an embedding cache (``bench/.cache``), so repeated runs measure the pipeline, not the
  model. "ingest without embedding" = SQL write + outbox + index with cached vectors;
  "ingest with embedding" = a sample sent to ``POST /v1/jobs:bulk`` of a real server with a
  cold cache until searchable, next to the encoder's own time on the same texts
  (``bench.ingest_bench``: the pipeline's overhead over the encoder);
- in-process search: hybrid queries (zh, en, mixed) with random filters, the query-vector
  LRU cleared before each so every query is encoded; the search service (understanding,
  encoding, the pipeline over the index), without the page's rows, highlights and HTTP;
- raw engines (``bench.raw_engines``): the encoder, a bare tantivy BM25 query and a bare
  hnswlib kNN on the same index, for the service / raw engines ratio;
- match: candidate → postings and posting → candidates through the matching services:
  retrieval, vectors, scoring every retrieved pair by the ranker, the top 20 (without the
  routes' explanations and HTTP);
- checkpoint: 100 postings changed, one checkpoint timed, the bytes it writes;
- HTTP (``bench.http_bench``): ``talentmatch serve`` in a subprocess on the same data
  directory: start-up until ready, its RSS, search latency with one client and QPS with
  several, match routes.
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
from bench.http_bench import (
    concurrent_qps,
    match_latencies,
    running_server,
    search_latencies,
    server_environment,
)
from bench.ingest_bench import measure_bulk_ingest
from bench.raw_engines import built_hnsw, live_hnsw, measure_raw_engines
from core.domain import EntityKind
from core.settings import Settings
from ingestion.archetypes import ARCHETYPES
from ingestion.resume_text import with_resume_extraction
from ingestion.sample_data import generate_candidates, generate_jobs
from matching import search as search_service
from matching.service import (
    rank_candidates_for_job,
    rank_jobs_for_candidate,
    scoring_candidates,
    scoring_jobs,
)
from representation.encoders import HashingEncoder, UniversalSentenceEncoder, available_cores
from store.candidates import candidates_by_ids, upsert_candidate
from store.db import Database
from store.jobs import jobs_by_ids, upsert_jobs
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
            load_jobs=lambda ids: scoring_jobs(session, ids, viewer_tenant=TENANTS[0]),
        )  # fmt: skip


def match_candidates(runtime: Runtime, job_id: int) -> None:
    """The benchmark tenant's candidates for one posting, as the match route ranks them."""
    with runtime.db.session() as session:
        job = jobs_by_ids(session, [job_id])[job_id]
        rank_candidates_for_job(
            job, tenant_id=TENANTS[0], sources=runtime.matching, limit=20,
            load_candidates=lambda ids: scoring_candidates(session, ids),
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


def query_pool(count: int, seed: int = 99) -> list[dict[str, Any]]:
    """``count`` search bodies with distinct query texts (``bench_queries``' mix, repeats
    left out): a server's query-vector cache cannot be cleared from outside, so over HTTP
    only distinct texts make every query encode, as in-process (where it is cleared)."""
    pool: dict[str, dict[str, Any]] = {}
    generated = count
    while True:
        for body in bench_queries(generated, seed=seed):
            pool.setdefault(body["query"], body)
        if len(pool) >= count or generated >= count * 16:
            break
        generated *= 2
    bodies = list(pool.values())
    # Too few distinct texts for a long run: the rest repeat (and hit the server's cache).
    return [bodies[i % len(bodies)] for i in range(count)]


def machine_description() -> dict[str, Any]:
    """Cores, memory and CPU model of this machine (Linux ``/proc``)."""
    model = "unknown CPU"
    memory_gb = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = int(line.split()[1]) / 1024**2
                break
    except OSError:  # not Linux
        pass
    return {
        "cores": available_cores(),
        "memory_gb": round(memory_gb, 1),
        "cpu": model,
        "load_average_start": round(os.getloadavg()[0], 1),
    }


def _file_states(path: Path) -> dict[Path, tuple[int, int, int]]:
    states = {}
    for file in path.rglob("*"):
        try:
            if file.is_file():
                stat = file.stat()
                states[file] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        except FileNotFoundError:  # tantivy's merge threads delete segment files meanwhile
            continue
    return states


def bytes_written(before: dict[Path, tuple[int, int, int]], after_dir: Path) -> int:
    """Sizes of the files under ``after_dir`` created or rewritten since ``before``."""
    return sum(state[0] for file, state in _file_states(after_dir).items()
               if before.get(file) != state)  # fmt: skip


def database_size(settings: Settings) -> int:
    """Bytes of the SQLite database with its journal files (0 on a server database)."""
    if settings.db.url:
        return 0
    return sum(f.stat().st_size for f in settings.data_dir.glob("talentmatch.db*") if f.is_file())


def measure_checkpoint(runtime: Runtime, records: list[Any], changed: int = 100) -> dict[str, Any]:
    """Change ``changed`` postings (a new salary, as an edit does), index them, then time one
    checkpoint and the bytes it writes into the index directory; also the bytes the whole
    change wrote there (the index update and the checkpoint)."""
    sync = runtime.sync
    saved = sync.checkpoint_interval_s, sync.checkpoint_every_events
    # Hold the periodic checkpoint back, so the one timed is the one that covers the change.
    sync.checkpoint_interval_s, sync.checkpoint_every_events = float("inf"), 2**62
    index_dir = runtime.settings.index_dir
    try:
        sync.checkpoint()
        before_change = _file_states(index_dir)
        rng = random.Random(17)
        picked = rng.sample(range(len(records)), min(changed, len(records)))
        with runtime.db.session() as session:
            for i in picked:
                fields = dict(records[i].fields)
                fields["salary_max"] = (fields.get("salary_max") or 10000) + 1000
                upsert_jobs(session, tenant_id=TENANTS[i % len(TENANTS)], records=[fields])
        runtime.sync.drain()
        before_checkpoint = _file_states(index_dir)
        seconds = timed(sync.checkpoint)
        checkpoint_bytes = bytes_written(before_checkpoint, index_dir)
        change_bytes = bytes_written(before_change, index_dir)
    finally:
        sync.checkpoint_interval_s, sync.checkpoint_every_events = saved
    return {
        "changed_postings": len(picked),
        "checkpoint_s": seconds,
        "checkpoint_bytes": checkpoint_bytes,
        "change_bytes": change_bytes,
        "index_bytes": directory_size(index_dir),
    }


def measure_in_process_search(runtime: Runtime, bodies: list[dict[str, Any]]) -> list[float]:
    """Seconds per posting search through the search service, the query cache cleared first."""
    times = []
    for body in bodies:
        request = SearchRequest.model_validate(body)
        runtime.encode_query.clear()
        times.append(timed(partial(
            search_service.search_postings, runtime.search[EntityKind.JOB], runtime.encode_query,
            viewer_tenant=TENANTS[0], request=request,
        )))  # fmt: skip
    return times


def measure_raw(runtime: Runtime, encoder: Any, texts: list[str]) -> dict[str, Any]:
    """The engines alone on the index the service just searched (``bench.raw_engines``)."""
    index = runtime.indexes[EntityKind.JOB]
    embedded = runtime.settings.search.embedded
    graph = live_hnsw(index)
    graph_source = "the engine's own graph"
    if graph is None:
        with runtime.db.session() as session:
            ids = sorted(session.scalars(select(Job.id)))
        graph = built_hnsw(
            runtime.vectors[EntityKind.JOB],
            ids,
            m=embedded.hnsw_m,
            ef_construction=embedded.hnsw_ef_construction,
        )
        graph_source = "a graph built from the index's vectors"
    result: dict[str, Any] = measure_raw_engines(
        encoder=encoder,
        keyword_dir=runtime.settings.index_dir / "jobs" / "keyword",
        graph=graph,
        ef_search=embedded.hnsw_ef_search,
        texts=texts,
        depth=runtime.settings.search.candidate_depth,
    )
    result["graph"] = graph_source
    return result


def measure_http(
    settings: Settings, *, encoder_provider: str, key: str, bodies: list[dict[str, Any]],
    queries: int, clients: list[int], match_paths: list[str], warmup: int,
) -> dict[str, Any]:  # fmt: skip
    """Start-up, memory, search and match of a real server on ``settings.data_dir``."""
    env = server_environment(settings, encoder_provider, settings.embedding.hashing_dim)
    log_path = settings.data_dir.parent / f"{settings.data_dir.name}-server.log"
    with running_server(env, log_path) as server:
        startup_rss = server.rss_bytes()
        search_latencies(server, key, bodies[:warmup])
        match_latencies(server, key, match_paths[-min(len(match_paths), 10) :])
        warm_rss = server.rss_bytes()
        rest = bodies[warmup:]
        single = search_latencies(server, key, rest[:queries])
        curve = []
        for n, level in enumerate(clients):
            share = rest[queries * (n + 1) : queries * (n + 2)]
            curve.append(concurrent_qps(server, key, share, level))
        jobs_paths = [p for p in match_paths if p.startswith("/v1/candidates/")]
        candidates_paths = [p for p in match_paths if p.startswith("/v1/jobs/")]
        c2j = match_latencies(server, key, jobs_paths)
        j2c = match_latencies(server, key, candidates_paths)
        final_rss = server.rss_bytes()
        startup_s = server.startup_s
    return {
        "startup_s": startup_s,
        "rss_after_start_bytes": startup_rss,
        "rss_after_warmup_bytes": warm_rss,
        "rss_after_run_bytes": final_rss,
        "search": summarize(single),
        "concurrency": curve,
        "match_candidate_to_jobs": summarize(c2j),
        "match_job_to_candidates": summarize(j2c),
    }


def bench_size(
    size: int, *, encoder: Any, encoder_provider: str, cache_db: Database, queries: int,
    candidates: int, clients: list[int],
) -> dict[str, Any]:  # fmt: skip
    data_dir = Path(tempfile.mkdtemp(prefix=f"tm-bench-{size}-")) / "data"
    try:
        settings = bench_settings(data_dir)
        runtime = Runtime(settings, encoder=encoder, cache_db=cache_db)
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

        warmup = 20
        bodies = query_pool(warmup + queries * (1 + len(clients)))
        measured = bodies[warmup : warmup + queries]
        print(f"[{size}] searching in-process, and the raw engines…", flush=True)
        # The same warm-up as the server gets (lazy loads, first-query costs), not timed.
        measure_in_process_search(runtime, bodies[:warmup])
        search_times = measure_in_process_search(runtime, measured)
        raw = measure_raw(runtime, encoder, [b["query"] for b in measured])

        print(f"[{size}] matching…", flush=True)
        rng = random.Random(5)
        with runtime.db.session() as session:
            candidate_ids = sorted(session.scalars(select(Candidate.id)))
        with runtime.db.session() as session:  # postings the benchmark tenant may see
            job_ids = sorted(session.scalars(select(Job.id).where(
                or_(Job.private.is_(False), Job.tenant_id == TENANTS[0]))))  # fmt: skip
        pairs = [(rng.choice(candidate_ids), rng.choice(job_ids))
                 for _ in range(min(queries, len(candidate_ids)))]  # fmt: skip
        for _, job_id in pairs[-10:]:  # the server's warm-up: the last ten postings' matches
            match_candidates(runtime, job_id)
        c2j: list[float] = []
        j2c: list[float] = []
        for candidate_id, job_id in pairs:
            # The matching services: retrieval, vectors, scoring by the ranker (the routes add
            # explanations and views to the 20 shown).
            c2j.append(timed(partial(match_jobs, runtime, candidate_id)))
            j2c.append(timed(partial(match_candidates, runtime, job_id)))
        print(f"[{size}] auth and redaction…", flush=True)
        security = measure_security_overhead(runtime, queries)
        print(f"[{size}] checkpoint after changing 100 postings…", flush=True)
        checkpoint = measure_checkpoint(runtime, records)
        with runtime.db.session() as session:
            key = create_key(session, tenant_id=TENANTS[0], role="agency",
                             pepper=settings.auth.key_pepper.get_secret_value())  # fmt: skip
        runtime.close()  # checkpoints and releases the index for the server
        jobs_index_bytes = directory_size(settings.index_dir / "jobs")
        index_bytes = directory_size(settings.index_dir)
        db_bytes = database_size(settings)

        print(f"[{size}] through HTTP (a server in its own process)…", flush=True)
        match_paths = [f"/v1/candidates/{c}/matches?limit=20" for c, _ in pairs] + [
            f"/v1/jobs/{j}/matches?limit=20" for _, j in pairs
        ]
        http = measure_http(settings, encoder_provider=encoder_provider, key=key, bodies=bodies,
                            queries=queries, clients=clients, match_paths=match_paths,
                            warmup=warmup)  # fmt: skip
        return {
            "security": security,
            "postings": size,
            "candidates": candidates,
            "ingest_without_embedding_postings_per_s": size / ingest,
            "search": summarize(search_times),
            "raw_engines": raw,
            "match_candidate_to_jobs": summarize(c2j),
            "match_job_to_candidates": summarize(j2c),
            "checkpoint": checkpoint,
            "http": http,
            "index_mb": index_bytes / 1e6,
            "jobs_index_bytes": jobs_index_bytes,
            "database_mb": db_bytes / 1e6,
            "database_bytes": db_bytes,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)


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
    *, sizes: list[int], queries: int, output: str, embed_sample: int, encoder_name: str,
    clients: list[int] | None = None, cache_dir: Path = CACHE_DIR, candidates: int = 2000,
) -> int:  # fmt: skip
    encoder: Any = UniversalSentenceEncoder() if encoder_name == "use" else HashingEncoder(256)
    clients = clients or [1, 4, 8]
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_db = Database(Settings(environment="test", data_dir=cache_dir))
    results: dict[str, Any] = {
        "machine": machine_description(),
        "encoder": encoder.model_id,
        "sizes": [],
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"measuring ingest with embedding on {embed_sample} postings…", flush=True)
    # The path users take: POST /v1/jobs:bulk through a real server, cold embedding cache.
    results["embedding"] = measure_bulk_ingest(encoder, embed_sample, repeats=3)
    for size in sizes:
        results["sizes"].append(
            bench_size(
                size,
                encoder=encoder,
                encoder_provider=encoder_name,
                cache_db=cache_db,
                queries=queries,
                candidates=candidates,
                clients=clients,
            )  # fmt: skip
        )
    cache_db.dispose()
    # A shared machine's other work skews every latency: say how busy it was.
    results["machine"]["load_average_end"] = round(os.getloadavg()[0], 1)
    results["slopes"] = slopes(results["sizes"])
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).with_suffix(".json").write_text(json.dumps(results, indent=2))
    Path(output).write_text(render(results))
    print(render(results))
    return 0


def slopes(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """Bytes per added posting between the smallest and the largest corpus: the fixed part
    (the model, the candidates, the code) cancels out."""
    if len(rows) < 2:
        return None
    small, large = rows[0], rows[-1]
    added = large["postings"] - small["postings"]
    if added <= 0:
        return None

    def per_posting(get: Callable[[dict[str, Any]], float]) -> float:
        return (get(large) - get(small)) / added

    return {
        "from": small["postings"],
        "to": large["postings"],
        "server_rss_bytes": per_posting(lambda r: r["http"]["rss_after_warmup_bytes"]),
        "jobs_index_bytes": per_posting(lambda r: r["jobs_index_bytes"]),
        "database_bytes": per_posting(lambda r: r["database_bytes"]),
    }


def _latency(s: dict[str, float]) -> str:
    return f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} / {s['p99_ms']:.1f}"


def _kb(value: float) -> str:
    return f"{value / 1024:.1f} KB"


def _mb(value: float) -> str:
    return f"{value / 1e6:.0f} MB"


def render(results: dict[str, Any]) -> str:
    e = results["embedding"]
    machine = results["machine"]
    if isinstance(machine, dict):
        load = ""
        if "load_average_start" in machine:
            load = (f" (1-minute load average {machine['load_average_start']} at the start, "
                    f"{machine.get('load_average_end', '?')} at the end)")  # fmt: skip
        machine = f"{machine['cores']} cores, {machine['memory_gb']} GB RAM, {machine['cpu']}{load}"
    rows = results["sizes"]
    sizes = " | ".join(f"{r['postings']:,}" for r in rows)
    header = f"| | {sizes} |\n|---|{'---|' * len(rows)}"

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> str:
        return f"| {label} | " + " | ".join(cell(r) for r in rows) + " |"

    def ratio(r: dict[str, Any], p50: float) -> str:
        return f"**{p50 / r['raw_engines']['sum_p50_ms']:.1f}×**"

    def raw(r: dict[str, Any]) -> str:
        w = r["raw_engines"]
        return (f"{w['encode_p50_ms']:.1f} + {w['bm25_p50_ms']:.2f} + {w['knn_p50_ms']:.2f} "
                f"= {w['sum_p50_ms']:.1f} ms")  # fmt: skip

    def curve(r: dict[str, Any]) -> str:
        points = r["http"]["concurrency"]
        qps = " / ".join(f"{p['qps']:.0f}" for p in points)
        gain = points[1]["qps"] / points[0]["qps"] if len(points) > 1 else 1.0
        return f"{qps} ({gain:.2f}× at {points[1]['clients']})" if len(points) > 1 else qps

    levels = " / ".join(str(p["clients"]) for p in rows[0]["http"]["concurrency"]) if rows else ""
    lines = [
        "# Benchmark results",
        "",
        f"`talentmatch bench` on {results['date']}; machine: {machine}; encoder "
        f"`{results['encoder']}`; embedded default (SQLite + tantivy + HNSW). **Data: "
        "GENERATED** postings and candidates (`ingestion.sample_data`: demo and load data, "
        "not a quality measurement); every row of a column is measured on the same documents "
        "in one run.",
        "",
        "- In-process: the search service (query understanding, encoding with the query "
        "cache cleared, the pipeline over the index; without the page's rows, highlights and "
        "HTTP) and the matching services.",
        "- HTTP: `talentmatch serve` in its own process on the same data directory, "
        "`POST /v1/search/jobs` and `GET /v1/candidates/{id}/matches`, `GET /v1/jobs/{id}/matches` "
        "with an API key, every query text distinct (so each is encoded). The clients are "
        "threads of the benchmark process with keep-alive connections: **they share the "
        "machine's cores with the server**.",
        "- Raw engines: on the same index, the encoder's time for the query text, one bare "
        "tantivy BM25 query (the text query alone: no visibility or filter clause, the "
        "pipeline's depth as limit) and one bare hnswlib kNN (no filter, the same k); medians.",
        "",
        "## Ingest with embedding (cold cache)",
        "",
        f"- {e['postings']} postings sent to `POST /v1/jobs:bulk` (a real server, JSONL files of "
        f"{e['batch']}, until the index holds them all), median of {e['repeats']} runs: "
        f"{e['bulk_api_postings_per_s']:.1f} postings/s, against "
        f"{e['encoder_only_postings_per_s']:.1f} postings/s for the encoder alone on the texts "
        "the pipeline encoded",
        f"- pipeline overhead on top of the encoder (median of the runs' ratios): wall clock "
        f"{e['pipeline_overhead_pct']:.1f}%, CPU time {e['pipeline_overhead_cpu_pct']:.1f}% "
        "(wall clock also counts waiting for a loaded machine)",
        "",
        "## Search, match, memory, disk (by corpus size)",
        "",
        header,
        row("in-process search p50 / p95 / p99 (ms)", lambda r: _latency(r["search"])),
        row(
            "HTTP search p50 / p95 / p99 (ms), one client", lambda r: _latency(r["http"]["search"])
        ),
        row("raw engines: encode + BM25 + kNN (p50)", raw),
        row("service / raw engines, in-process", lambda r: ratio(r, r["search"]["p50_ms"])),
        row("service / raw engines, HTTP", lambda r: ratio(r, r["http"]["search"]["p50_ms"])),
        row(f"HTTP QPS at {levels} clients", curve),
        row(
            "match cand→jobs p50, in-process / HTTP (ms)",
            lambda r: (
                f"{r['match_candidate_to_jobs']['p50_ms']:.1f} / "
                f"{r['http']['match_candidate_to_jobs']['p50_ms']:.1f}"
            ),
        ),  # fmt: skip
        row(
            "match job→cands p50, in-process / HTTP (ms)",
            lambda r: (
                f"{r['match_job_to_candidates']['p50_ms']:.1f} / "
                f"{r['http']['match_job_to_candidates']['p50_ms']:.1f}"
            ),
        ),  # fmt: skip
        row(
            "server RSS after start-up and warm-up",
            lambda r: (
                f"{_mb(r['http']['rss_after_warmup_bytes'])} "
                f"({_kb(r['http']['rss_after_warmup_bytes'] / r['postings'])}/posting)"
            ),
        ),  # fmt: skip
        row(
            "server start-up until `/readyz` is ready", lambda r: f"{r['http']['startup_s']:.1f} s"
        ),
        row(
            "postings index on disk",
            lambda r: (
                f"{_mb(r['jobs_index_bytes'])} ({_kb(r['jobs_index_bytes'] / r['postings'])}/posting)"
            ),
        ),  # fmt: skip
        row(
            "database on disk",
            lambda r: (
                f"{_mb(r['database_bytes'])} ({_kb(r['database_bytes'] / r['postings'])}/posting)"
            ),
        ),  # fmt: skip
        row(
            "checkpoint after 100 changed postings",
            lambda r: (
                f"{r['checkpoint']['checkpoint_s']:.2f} s, {_mb(r['checkpoint']['checkpoint_bytes'])} written "
                f"(index {_mb(r['checkpoint']['index_bytes'])})"
            ),
        ),  # fmt: skip
        row(
            "ingest without embedding (postings/s)",
            lambda r: f"{r['ingest_without_embedding_postings_per_s']:.0f}",
        ),  # fmt: skip
        row("benchmark process peak RSS", lambda r: f"{r['peak_rss_mb']:.0f} MB"),
        "",
    ]
    slope = results.get("slopes")
    if slope:
        lines += [
            f"Per added posting from {slope['from']:,} to {slope['to']:,} (the fixed part — "
            "model, candidates, code — cancels out): server RSS "
            f"{_kb(slope['server_rss_bytes'])}, postings index {_kb(slope['jobs_index_bytes'])}, "
            f"database {_kb(slope['database_bytes'])}.",
            "",
        ]
    lines += [
        "Start-up is process start (imports, the encoder's model, the index loaded from its "
        "checkpoint, the outbox replayed) until `/readyz` answers 200. The checkpoint row: "
        "100 postings get a new salary and are indexed, then one checkpoint is timed; "
        "written = the sizes of the files it created or rewrote in the index directory "
        "(the whole change, index update included: "
        + ", ".join(f"{_mb(r['checkpoint']['change_bytes'])} at {r['postings']:,}" for r in rows)
        + "). The server's memory after the HTTP runs: "
        + ", ".join(f"{_mb(r['http']['rss_after_run_bytes'])} at {r['postings']:,}" for r in rows)
        + ".",
        "",
        "## Authentication and redaction",
        "",
        "Per candidate search (20 hits): key lookup + constant-time hash check + rate limiter, "
        "and masking the contacts of the hits, against the search route itself.",
        "",
        "| postings | candidate search p50 (ms) | auth p50 (ms) | redaction p50 (ms) | overhead |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        sec = r["security"]
        lines.append(f"| {r['postings']:,} | {sec['candidate_search_p50_ms']:.1f} | {sec['auth_p50_ms']:.2f} | "
                     f"{sec['redaction_p50_ms']:.2f} | {sec['overhead_pct']:.1f}% |")  # fmt: skip
    lines.append("")
    return "\n".join(lines)
