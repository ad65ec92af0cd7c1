"""/metrics in the Prometheus text format: request latency by route template (never raw
paths), search and match latency, 429s, outbox backlog and lag, documents indexed, bulk-load
record counts; admin keys only unless ``metrics_public``; several processes sharing
``PROMETHEUS_MULTIPROC_DIR`` report their sum."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.encoder import Encoder
from core.settings import Settings
from ingestion.sample_data import generate_jobs
from store.db import Database
from store.jobs import upsert_jobs
from store.keys import create_key
from tests.api.test_probes import SlowEncoder, client_for
from tests.conftest import Api, free_port
from tests.test_cli import cli_env

pytestmark = pytest.mark.anyio
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(api: Api) -> Samples:
    admin = {"Authorization": f"Bearer {api.key('ops', role='admin')}"}
    response = await api.client.get("/metrics", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_metrics_need_an_admin_key_unless_public(
    api: Api, settings: Settings, app_factory: Callable[..., Any]
) -> None:
    assert (await api.client.get("/metrics")).status_code == 401
    agency = await api.get("/metrics", "acme")
    assert agency.status_code == 403
    assert agency.json()["error"]["details"][0]["message"] == "admin"
    assert value(await scrape(api), "talentmatch_index_caught_up") == 1.0
    # Another data directory: the first app holds its indexes.
    public = settings.model_copy(
        update={"metrics_public": True, "data_dir": settings.data_dir.parent / "public"}
    )
    async with client_for(app_factory(settings=public)) as client:
        opened = await client.get("/metrics")
        assert opened.status_code == 200
        assert "talentmatch_http_request_duration_seconds" in opened.text


async def test_request_search_and_match_latency_by_route_template(api: Api) -> None:
    jobs = [await api.create_job("acme", title=title) for title in ("会计", "出纳")]
    candidate = await api.create_candidate("acme")
    for job in jobs:
        assert (await api.get(f"/v1/jobs/{job['id']}", "acme")).status_code == 200
    assert (await api.get("/v1/jobs/987654", "acme")).status_code == 404
    await api.search_jobs("acme", "会计")
    await api.search_jobs("acme", "出纳")
    assert (await api.post("/v1/search/candidates", "acme", {"query": "Python"})).status_code == 200
    matched = await api.get(f"/v1/jobs/{jobs[0]['id']}/matches", "acme")
    assert matched.status_code == 200
    assert (await api.get(f"/v1/candidates/{candidate['id']}/matches", "acme")).status_code == 200

    samples = await scrape(api)
    requests = "talentmatch_http_request_duration_seconds_count"
    route = "/v1/jobs/{job_id}"
    assert value(samples, requests, route=route, method="GET", status_class="2xx") == 2
    assert value(samples, requests, route=route, method="GET", status_class="4xx") == 1
    assert value(samples, requests, route="/v1/jobs", method="POST", status_class="2xx") == 2
    assert value(samples, requests, route="/v1/search/jobs", method="POST",
                 status_class="2xx") == 2  # fmt: skip
    # Every bucket is there and the +Inf bucket is the count.
    assert value(samples, "talentmatch_http_request_duration_seconds_bucket", route=route,
                 method="GET", status_class="2xx", le="+Inf") == 2  # fmt: skip
    routes = {dict(labels).get("route") for _, labels in samples}
    assert not any(r and ("987654" in r or str(jobs[0]["id"]) in r.split("/")) for r in routes)
    search = "talentmatch_search_duration_seconds_count"
    assert value(samples, search, entity="jobs") == 2
    assert value(samples, search, entity="candidates") == 1
    match = "talentmatch_match_duration_seconds_count"
    assert value(samples, match, direction="candidates_for_job") == 1
    assert value(samples, match, direction="jobs_for_candidate") == 1
    assert value(samples, "talentmatch_documents_indexed", entity="job") == 2
    assert value(samples, "talentmatch_documents_indexed", entity="candidate") == 1
    assert value(samples, "talentmatch_outbox_backlog") == 0
    assert value(samples, "talentmatch_outbox_lag_seconds") == 0


async def test_bulk_load_records_accepted_and_rejected(api: Api) -> None:
    good = [r.fields for r in generate_jobs(6, seed=3)]
    lines = [*good[:3], {"title": ""}, *good[3:]]
    content = "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in lines).encode()
    load = await api.client.post("/v1/jobs:bulk", files={"file": ("jobs.jsonl", content)},
                                 headers=api.auth("acme"))  # fmt: skip
    assert load.status_code == 202, load.text
    for _ in range(600):
        done = (await api.get(f"/v1/ingest-jobs/{load.json()['id']}", "acme")).json()
        if done["status"] == "done":
            break
        await asyncio.sleep(0.05)
    assert (done["succeeded"], done["failed"]) == (6, 1)
    samples = await scrape(api)
    records = "talentmatch_ingest_records_total"
    assert value(samples, records, entity="job", outcome="accepted") == 6
    assert value(samples, records, entity="job", outcome="rejected") == 1
    assert value(samples, records, entity="candidate", outcome="accepted") == 0


async def test_429_responses_are_counted(
    settings: Settings, app_factory: Callable[..., Any]
) -> None:
    # Six a minute: a burst of five at most, so some of eight requests in a row are refused.
    limited = settings.model_copy(update={"auth": settings.auth.model_copy(
        update={"rate_limits_per_minute": {"agency": 6, "admin": 0}})})  # fmt: skip
    app = app_factory(settings=limited)
    async with client_for(app) as client:
        api = Api(client, limited, app)
        statuses = [(await api.get("/v1/jobs", "acme")).status_code for _ in range(8)]
        assert statuses[0] == 200 and statuses.count(429) >= 2
        samples = await scrape(api)
    assert value(samples, "talentmatch_rate_limited_responses_total", route="/v1/jobs") == (
        statuses.count(429)
    )
    assert value(samples, "talentmatch_http_request_duration_seconds_count", route="/v1/jobs",
                 method="GET", status_class="4xx") == statuses.count(429)  # fmt: skip


async def test_outbox_backlog_and_lag_while_the_index_catches_up(
    settings: Settings, use_encoder: Encoder, app_factory: Callable[..., Any]
) -> None:
    quick_start = settings.model_copy(
        update={
            "search": settings.search.model_copy(update={"startup_wait_s": 0.0}),
            "metrics_public": True,
        }
    )
    db = Database(quick_start)
    try:
        with db.session() as session:
            create_key(session, tenant_id="acme", role="agency",
                       pepper=quick_start.auth.key_pepper.get_secret_value())  # fmt: skip
            upsert_jobs(session, tenant_id="acme",
                        records=[r.fields for r in generate_jobs(30, seed=9)])  # fmt: skip
    finally:
        db.dispose()
    await asyncio.sleep(0.3)  # the events are this old at least when scraped
    app = app_factory(settings=quick_start, encoder=SlowEncoder(use_encoder, 0.04))
    async with client_for(app) as client:
        samples = parse((await client.get("/metrics")).text)
        assert value(samples, "talentmatch_index_caught_up") == 0
        assert 0 < value(samples, "talentmatch_outbox_backlog") <= 30
        assert value(samples, "talentmatch_outbox_lag_seconds") >= 0.3
        assert value(samples, "talentmatch_documents_indexed", entity="job") < 30


def test_processes_sharing_a_multiprocess_dir_report_the_sum(tmp_path: Path) -> None:
    """Two server processes (as uvicorn workers are) write to one PROMETHEUS_MULTIPROC_DIR;
    a scrape of either counts the requests of both."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    processes, bases = [], []
    try:
        for n in range(2):
            port = free_port()
            env = {
                **cli_env(tmp_path / f"data{n}"),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "TALENTMATCH_METRICS_PUBLIC": "true",
            }
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            ))  # fmt: skip
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.3)
        for base, times in zip(bases, (3, 2), strict=True):
            for _ in range(times):
                assert httpx.get(f"{base}/livez", timeout=10).status_code == 200
        for base in bases:
            samples = parse(httpx.get(f"{base}/metrics", timeout=10).text)
            assert value(samples, "talentmatch_http_request_duration_seconds_count",
                         route="/livez", method="GET", status_class="2xx") == 5  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    assert os.listdir(metrics_dir)  # the samples went through the shared directory
