"""Runs bulk loads, one at a time, resuming unfinished ones at start: in the server process,
or in ``talentmatch worker`` processes, which also pick up loads other processes queued."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from core.log_safety import describe_failure
from ingestion.bulk import load_lease, run_ingest_job, unfinished_jobs
from ingestion.readers import ReaderLimits
from store.db import Database
from store.models import IngestJob

log = logging.getLogger(__name__)


class IngestWorker:
    def __init__(
        self,
        db: Database,
        files_dir: Path,
        limits: ReaderLimits,
        after_batch: Callable[[IngestJob], None],
    ) -> None:
        self._db = db
        self._files_dir = files_dir
        self._limits = limits
        self._after_batch = after_batch
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._failed: set[str] = set()
        self._stopping = threading.Event()

    def start(self, *, poll_interval_s: float | None = None) -> None:
        """Resume unfinished loads, then run submitted ones; ``poll_interval_s``: also look
        this often for unfinished loads of other processes (API processes on a shared
        backend leave their loads to the workers; a worker that died leaves its load)."""
        self._stopping.clear()
        if poll_interval_s is None:
            for job_id in unfinished_jobs(self._db):
                self._queue.put(job_id)
        self._thread = threading.Thread(
            target=self._run, args=(poll_interval_s,), name="ingest-worker", daemon=True
        )
        self._thread.start()

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def _next_jobs(self, poll_interval_s: float | None) -> list[str] | None:
        """Loads to try next, oldest first (None: stop), waiting for some."""
        while True:
            try:
                job_id = self._queue.get(timeout=poll_interval_s)
                return None if job_id is None else [job_id]
            except queue.Empty:
                pass
            try:
                # Each is tried under its lease: the loads other workers run are skipped.
                waiting = [j for j in unfinished_jobs(self._db) if j not in self._failed]
            except Exception as exc:  # the database is away: look again next round
                log.error("looking for bulk loads failed: %s", describe_failure(exc))
                continue
            if waiting:
                return waiting

    def _run_leased(self, job_id: str) -> bool:
        """Run the load unless another worker process runs it; whether it ran."""
        with load_lease(self._db, job_id) as ours:
            if ours:
                run_ingest_job(self._db, self._files_dir, job_id, limits=self._limits,
                               after_batch=self._after_batch)  # fmt: skip
            return ours

    def _run(self, poll_interval_s: float | None) -> None:
        while (job_ids := self._next_jobs(poll_interval_s)) is not None:
            for job_id in job_ids:
                if self._stopping.is_set():
                    return
                self._run_one(job_id)

    def _run_one(self, job_id: str) -> None:
        try:
            self._run_leased(job_id)
        except Exception as exc:  # the job stays "running" and resumes at the next start
            self._failed.add(job_id)  # not again in this process: no loop of failures
            log.error("bulk load %s stopped; it resumes at the next start: %s", job_id,
                      describe_failure(exc))  # fmt: skip

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None
