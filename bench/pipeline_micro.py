"""Per-stage timings of one search: fusion + re-ranking + duplicate collapsing, the result
page's rows, highlights, and the HTTP fixed overhead (``python -m bench.pipeline_micro``; not
in CI, minutes on two cores).

The pipeline stages run in-process on an embedded index of generated postings (100k by
default) whose vectors come from the hashing test encoder: these stages do arithmetic on
vectors, their quality does not matter here. The page and HTTP stages run on a database of
generated postings (``--page-postings``) served by a real uvicorn server and in-process over
ASGI. The data is generated, labelled as such in the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest_bench import serve_in_thread
from core.settings import SearchSettings
from representation.encoders import HashingEncoder
from search_index.embedded import EmbeddedIndex
from search_index.hybrid import HybridSearch
from search_index.protocol import IndexDocument, SearchFilters, SearchQuery
from search_index.rerank import default_search_reranker

DIM = 64
TITLES = (
    "后端开发工程师", "前端开发工程师", "Java开发工程师", "Python工程师", "数据分析师",
    "会计", "出纳", "财务经理", "人力资源专员", "招聘专员", "行政助理", "销售代表", "客服专员",
    "产品经理", "UI设计师", "测试工程师", "运维工程师", "算法工程师", "电工", "叉车司机",
    "仓库管理员", "物流专员", "采购专员", "市场营销经理", "药剂师", "护士", "教师", "律师",
    "调解员", "厨师", "Backend Engineer", "Frontend Developer", "Data Analyst", "Accountant",
    "Sales Manager", "Product Manager", "QA Engineer", "DevOps Engineer", "Nurse", "Teacher",
)  # fmt: skip
SKILLS = ("python", "java", "mysql", "docker", "excel", "go", "react", "linux", "sql", "spark")
DESCRIPTIONS = (
    "负责 {skill} 相关开发与维护", "熟悉 {skill}，有团队合作精神", "三年以上 {skill} 经验优先",
    "Experience with {skill} required", "Build and run services in {skill}",
)  # fmt: skip
CITIES = (440300, 440100, 441900, 440600)
QUERIES = (
    "后端开发", "Python 工程师", "会计 出纳", "数据分析", "Java microservices", "销售",
    "叉车司机", "药剂师", "Backend Engineer Python", "产品经理 互联网", "测试", "nurse",
)  # fmt: skip


def generated_documents(count: int, *, seed: int = 7) -> list[IndexDocument]:
    """``count`` generated postings (one in ten reposted up to three times: a duplicate
    group), with hashing-encoder vectors; the same ``seed`` gives the same documents."""
    rng = random.Random(seed)
    encoder = HashingEncoder(DIM)
    title_vectors = dict(zip(TITLES, encoder.encode(list(TITLES)), strict=True))
    documents: list[IndexDocument] = []
    doc_id = 0
    while len(documents) < count:
        title = rng.choice(TITLES)
        skills = tuple(sorted(rng.sample(SKILLS, rng.randint(1, 3))))
        text = " ".join(rng.choice(DESCRIPTIONS).format(skill=s) for s in skills)
        vector = encoder.encode([f"{title} {text}"])[0]
        leader = doc_id + 1
        for _ in range(rng.choice((2, 3, 4)) if rng.random() < 0.1 else 1):
            doc_id += 1
            documents.append(
                IndexDocument(
                    id=doc_id, tenant_id=rng.choice(("acme", "globex")),
                    private=rng.random() < 0.05, title=title, text=f"{title} {text}",
                    vector=vector, title_vector=title_vectors[title],
                    timestamp=1_700_000_000 + doc_id, city_code=rng.choice(CITIES),
                    salary_min=rng.choice((5000, 10000, 15000)),
                    salary_max=rng.choice((20000, 30000)),
                    employment_type=rng.choice(("full_time", "part_time")),
                    skills=skills, group_id=leader if doc_id != leader else None,
                    language="en" if title.isascii() else "zh",
                )
            )  # fmt: skip
    return documents[:count]


def build_index(path: Path, count: int) -> EmbeddedIndex:
    """An embedded index of ``count`` generated postings under ``path``."""
    index = EmbeddedIndex(path, dim=DIM, model_id=f"hashing-ngram-{DIM}", settings=SearchSettings())
    documents = generated_documents(count)
    for start in range(0, len(documents), 5000):
        index.upsert(documents[start : start + 5000])
    index.commit()
    return index


def generated_queries(count: int, *, seed: int = 11) -> list[SearchQuery]:
    """Hybrid, re-ranked queries with and without filters, collapsing and paging."""
    rng = random.Random(seed)
    encoder = HashingEncoder(DIM)
    reranker = default_search_reranker()
    queries = []
    for _ in range(count):
        text = rng.choice(QUERIES)
        filters = (
            SearchFilters(city_codes=(rng.choice(CITIES),))
            if rng.random() < 0.5
            else SearchFilters()
        )
        queries.append(
            SearchQuery(
                viewer_tenant=rng.choice(("acme", "globex")), text=text,
                vector=encoder.encode([text])[0], filters=filters, limit=20,
                offset=rng.choice((0, 0, 20)), rerank=reranker,
                collapse_duplicates=rng.random() < 0.8,
            )
        )  # fmt: skip
    return queries


@dataclass
class Timings:
    samples: dict[str, list[float]]

    def add(self, stage: str, seconds: float) -> None:
        self.samples.setdefault(stage, []).append(seconds * 1000)

    def rows(self) -> list[str]:
        out = ["| stage | p50 ms | mean ms | n |", "|---|---|---|---|"]
        for stage, values in self.samples.items():
            out.append(
                f"| {stage} | {statistics.median(values):.3f} | {statistics.fmean(values):.3f} "
                f"| {len(values)} |"
            )
        return out


class StageTimer(HybridSearch):
    """The pipeline with its fusion stage (fusion, re-ranking, collapsing, the page) timed
    apart from retrieval."""

    def __init__(self, *args: Any, timings: Timings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings = timings

    def _fuse(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return super()._fuse(*args, **kwargs)
        finally:
            self.timings.add("fusion + re-rank + collapse", time.perf_counter() - start)


def time_pipeline(index: EmbeddedIndex, queries: Sequence[SearchQuery], rounds: int) -> Timings:
    """Whole searches and their fusion stage, ``rounds`` passes over ``queries``."""
    timings = Timings({})
    pipeline = StageTimer(index, timings=timings)
    for q in queries[:5]:  # warm caches (occupation coder, tantivy searcher)
        pipeline.search(q)
    timings.samples.clear()
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            pipeline.search(q)
            timings.add("whole search (in-process, no facets)", time.perf_counter() - start)
    return timings


def time_highlights(rounds: int) -> Timings:
    """Highlights of a 20-hit page (three fields per hit) per search."""
    from search_index.highlight import highlight

    documents = generated_documents(20, seed=3)
    timings = Timings({})
    for r in range(rounds):
        for text in QUERIES:
            # A query not seen before each round: the first highlight of a search pays its
            # tokenizing and pattern compiling.
            query = f"{text} {r}"
            start = time.perf_counter()
            for d in documents:
                highlight(query, {"title": d.title, "description": d.text, "company": "某科技公司"})
            timings.add("highlights, 20 hits", time.perf_counter() - start)
    return timings


def _posting(rng: random.Random, n: int) -> dict[str, Any]:
    skill = rng.choice(SKILLS)
    description = rng.choice(DESCRIPTIONS).format(skill=skill)
    return {
        "external_id": f"gen-{n}", "title": rng.choice(TITLES), "city": "深圳",
        "company": rng.choice(("腾讯", "华为", "某科技公司")),
        "description": f"{description}，简历发送 hr{n}@example.com",
        "salary_min": 10000, "salary_max": 20000, "required_skills": [skill],
    }  # fmt: skip


def _settings(data_dir: Path) -> Any:
    from core.settings import Settings

    return Settings.model_validate({
        "environment": "test", "data_dir": data_dir,
        "search": {"embedded": {"checkpoint_interval_s": 3600.0}, "startup_wait_s": 120.0},
        # Timings, not quotas: the limiter still runs on every request.
        "auth": {"rate_limits_per_minute": {"agency": 1_000_000}},
    })  # fmt: skip


async def _time_in_process(settings: Any, postings: int, rounds: int, timings: Timings) -> str:
    """Loads ``postings`` through the bulk API, then times the page stages and the search
    route over ASGI; returns the API key it made."""
    import httpx
    from fastapi.encoders import jsonable_encoder
    from pydantic import TypeAdapter
    from sqlalchemy import event
    from starlette.concurrency import run_in_threadpool

    from api.app import create_app
    from api.schemas import JobSearchResponse
    from api.views import job_views
    from store.jobs import visible_jobs_by_ids
    from store.keys import authenticate, create_key

    app = create_app(settings, encoder=HashingEncoder(DIM))
    pepper = settings.auth.key_pepper.get_secret_value()
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        with runtime.db.session() as session:
            key: str = create_key(session, tenant_id="acme", role="agency", pepper=pepper)
        headers = {"Authorization": f"Bearer {key}"}
        rng = random.Random(5)
        lines = [json.dumps(_posting(rng, n), ensure_ascii=False) for n in range(postings)]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            response = await client.post(
                "/v1/jobs:bulk", headers=headers,
                files={"file": ("jobs.jsonl", "\n".join(lines).encode())},
            )  # fmt: skip
            response.raise_for_status()
            load = response.json()["id"]
            for _ in range(6000):
                progress = await client.get(f"/v1/ingest-jobs/{load}", headers=headers)
                if progress.json()["status"] in ("done", "failed"):
                    break
                await asyncio.sleep(0.2)
            body = {"query": "开发工程师", "page_size": 20}
            found = (await client.post("/v1/search/jobs", json=body, headers=headers)).json()
            hit_ids = [h["id"] for h in found["hits"]]
            statements = 0

            def count(*_: Any) -> None:
                nonlocal statements
                statements += 1

            principal = None
            event.listen(runtime.db.engine, "before_cursor_execute", count)
            for _ in range(rounds):
                with runtime.db.session() as session:
                    start = time.perf_counter()
                    principal = authenticate(session, key, pepper=pepper)
                    timings.add("auth: key lookup + HMAC", time.perf_counter() - start)
                    start = time.perf_counter()
                    rows = visible_jobs_by_ids(session, hit_ids, viewer_tenant="acme")
                    timings.add("page rows, 20 hits", time.perf_counter() - start)
                    start = time.perf_counter()
                    job_views(session, list(rows.values()), principal)
                    timings.add("page views (privacy rules), 20 hits", time.perf_counter() - start)
            event.remove(runtime.db.engine, "before_cursor_execute", count)
            print(f"auth + page: {statements / max(rounds, 1):.1f} SQL statements per search")
            assert principal is not None
            adapter = TypeAdapter(JobSearchResponse)
            page = adapter.validate_python(found)
            for _ in range(rounds):
                start = time.perf_counter()
                runtime.rate_limiter.check(principal.role, principal.key_id, "127.0.0.1")
                timings.add("rate limiter", time.perf_counter() - start)
                start = time.perf_counter()
                adapter.dump_json(adapter.validate_python(page))
                timings.add("response model: validate + JSON, 20 hits", time.perf_counter() - start)
                start = time.perf_counter()
                json.dumps(jsonable_encoder(page))
                timings.add(
                    "(for scale) jsonable_encoder + json.dumps", time.perf_counter() - start
                )
                start = time.perf_counter()
                await run_in_threadpool(lambda: None)
                timings.add("one thread-pool hop", time.perf_counter() - start)
            for r in range(rounds):
                start = time.perf_counter()
                (await client.post("/v1/search/jobs", json={**body, "query": f"开发工程师 {r % 7}"},
                                   headers=headers)).raise_for_status()  # fmt: skip
                timings.add("search route in-process (ASGI)", time.perf_counter() - start)
                start = time.perf_counter()
                (
                    await client.get("/v1/jobs", params={"page_size": 1}, headers=headers)
                ).raise_for_status()
                timings.add(
                    "authenticated GET in-process (fixed cost)", time.perf_counter() - start
                )
    return key


def time_page_and_http(postings: int, rounds: int) -> Timings:
    """Searches of a database of ``postings`` generated postings: the page stages and the
    search route in-process (ASGI), then the same through a real uvicorn server."""
    import httpx

    from api.app import create_app

    timings = Timings({})
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp) / "data")
        key = asyncio.run(_time_in_process(settings, postings, rounds, timings))
        # The same database and index, now served by uvicorn (which runs the lifespan).
        url, server, thread = serve_in_thread(create_app(settings, encoder=HashingEncoder(DIM)))
        body = {"query": "开发工程师", "page_size": 20}
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
                for r in range(rounds):
                    start = time.perf_counter()
                    query = {**body, "query": f"开发工程师 {r % 7}"}
                    http.post("/v1/search/jobs", json=query).raise_for_status()
                    timings.add("search route over HTTP (uvicorn)", time.perf_counter() - start)
                    start = time.perf_counter()
                    http.get("/v1/jobs", params={"page_size": 1}).raise_for_status()
                    timings.add(
                        "authenticated GET over HTTP (fixed cost)", time.perf_counter() - start
                    )
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=100_000, help="documents in the index")
    parser.add_argument("--page-postings", type=int, default=2000, help="postings in the database")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--output", help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    lines = [
        f"# Search pipeline stages ({datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, shared)",
        "",
        f"GENERATED data: {args.postings} postings in the index (hashing encoder, {DIM}-d "
        f"vectors), {args.page_postings} in the database; `python -m bench.pipeline_micro`.",
        "",
    ]
    print(lines[-2])
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        index = build_index(Path(tmp) / "index", args.postings)
        print(f"indexed in {time.perf_counter() - start:.1f} s")
        try:
            timings = time_pipeline(index, generated_queries(args.queries), args.rounds)
        finally:
            index.close()
    timings.samples |= time_highlights(args.rounds * 10).samples
    if not args.skip_http:
        timings.samples |= time_page_and_http(args.page_postings, args.rounds * 50).samples
    lines += timings.rows()
    print("\n".join(lines[4:]))
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
