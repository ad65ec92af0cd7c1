"""Prometheus metrics: request latency by route template, search and match latency, 429s,
and (read at scrape time) the outbox backlog and lag, documents indexed and bulk-load record
counts.

Several uvicorn workers report together when ``PROMETHEUS_MULTIPROC_DIR`` names a directory
(empty at start, shared by the workers): each worker writes its samples there and a scrape
of any worker sums them, as the client's multiprocess mode describes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from api.request_log import FinishedRequest
from store.operations import ingest_record_totals, outbox_state

if TYPE_CHECKING:
    from api.runtime import Runtime

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The routes whose latency is also reported as search or match latency, by template.
SEARCH_ROUTES = {"/v1/search/jobs": "jobs", "/v1/search/candidates": "candidates"}
MATCH_ROUTES = {
    "/v1/jobs/{job_id}/matches": "candidates_for_job",
    "/v1/candidates/{candidate_id}/matches": "jobs_for_candidate",
}


class HttpMetrics:
    """The metrics that requests feed, in a registry of this app's own (tests build many
    apps in one process; the client's global registry would refuse the second)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "talentmatch_http_request_duration_seconds",
            "Time to the start of the response, by route template, method and status class.",
            ["route", "method", "status_class"],
            registry=self.registry,
        )
        self.search = Histogram(
            "talentmatch_search_duration_seconds",
            "Time to answer a successful search request, by the entity searched.",
            ["entity"],
            registry=self.registry,
        )
        self.match = Histogram(
            "talentmatch_match_duration_seconds",
            "Time to answer a successful match request, by direction.",
            ["direction"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "talentmatch_rate_limited_responses",
            "Responses with status 429 (rate limits and failed-authentication throttling).",
            ["route"],
            registry=self.registry,
        )

    def observe(self, finished: FinishedRequest) -> None:
        """Count one finished request (``RequestLog`` calls this for each)."""
        status_class = f"{finished.status // 100}xx"
        self.requests.labels(finished.route, finished.method, status_class).observe(
            finished.seconds
        )
        if finished.status == 429:
            self.rate_limited.labels(finished.route).inc()
        if finished.status >= 400:
            return
        if finished.route in SEARCH_ROUTES:
            self.search.labels(SEARCH_ROUTES[finished.route]).observe(finished.seconds)
        elif finished.route in MATCH_ROUTES:
            self.match.labels(MATCH_ROUTES[finished.route]).observe(finished.seconds)

    def render(self, runtime: Runtime) -> bytes:
        """The text exposition of every metric, this worker's or (multiprocess) all of them."""
        state = ServiceStateCollector(lambda: runtime)
        registry = CollectorRegistry()
        if os.environ.get(MULTIPROC_ENV):
            MultiProcessCollector(registry)
        else:
            registry.register(_RegistryCollector(self.registry))
        registry.register(state)
        return generate_latest(registry)


class _RegistryCollector:
    """Another registry's metrics, collected into the scrape's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()

    def describe(self) -> list[Metric]:
        return []


class ServiceStateCollector:
    """Numbers read from the database and indexes when scraped, not counted in memory: every
    worker sees the same database, so these stay right across workers and restarts."""

    def __init__(self, runtime_of: Callable[[], Runtime]) -> None:
        self._runtime_of = runtime_of

    def describe(self) -> list[Metric]:
        return []  # collect() reads the database: not at registration

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime_of()
        with runtime.db.session() as session:
            outbox = outbox_state(session)
            ingest = ingest_record_totals(session)
        backlog = GaugeMetricFamily(
            "talentmatch_outbox_backlog", "Outbox events not yet applied to the search index."
        )
        backlog.add_metric([], outbox.pending)
        yield backlog
        lag = GaugeMetricFamily(
            "talentmatch_outbox_lag_seconds",
            "Age of the oldest outbox event not yet applied (0 when none waits).",
        )
        oldest = outbox.oldest_pending_at
        lag.add_metric([], max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0)
        yield lag
        indexed = GaugeMetricFamily(
            "talentmatch_documents_indexed", "Documents in the search index.", labels=["entity"]
        )
        for kind, index in runtime.indexes.items():
            try:
                indexed.add_metric([kind.value], index.count())
            except Exception:  # noqa: S110 - an unreachable index has no count; /readyz says why
                continue
        yield indexed
        caught_up = GaugeMetricFamily(
            "talentmatch_index_caught_up",
            "1 once the index has caught up with the database after the start, else 0.",
        )
        caught_up.add_metric([], 1 if runtime.index_state == "ready" else 0)
        yield caught_up
        records = CounterMetricFamily(
            "talentmatch_ingest_records",
            "Records that bulk loads accepted or rejected, by entity.",
            labels=["entity", "outcome"],
        )
        for (entity, outcome), count in sorted(ingest.items()):
            records.add_metric([entity, outcome], count)
        yield records
