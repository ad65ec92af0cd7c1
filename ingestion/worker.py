"""Runs bulk loads, one at a time, resuming unfinished ones at start: in the server process,
or in ``talentmatch worker`` processes, which also pick up loads other processes queued."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from core.log_safety import describe_failure
from ingestion.bulk import claim_queued_job, queued_jobs, run_ingest_job, unfinished_jobs
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

    def start(self, *, poll_interval_s: float | None = None) -> None:
        """Resume unfinished loads, then run submitted ones; ``poll_interval_s``: also look
        this often for loads queued by other processes (API processes on a shared backend
        leave their loads to the workers)."""
        for job_id in unfinished_jobs(self._db):
            self._queue.put(job_id)
        self._thread = threading.Thread(
            target=self._run, args=(poll_interval_s,), name="ingest-worker", daemon=True
        )
        self._thread.start()

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def _next_job(self, poll_interval_s: float | None) -> str | None:
        """The next load to run (None: stop), waiting for one."""
        while True:
            try:
                return self._queue.get(timeout=poll_interval_s)
            except queue.Empty:
                pass
            try:
                for job_id in queued_jobs(self._db):
                    if claim_queued_job(self._db, job_id):
                        return job_id
            except Exception as exc:  # the database is away: look again next round
                log.error("looking for queued bulk loads failed: %s", describe_failure(exc))

    def _run(self, poll_interval_s: float | None) -> None:
        while (job_id := self._next_job(poll_interval_s)) is not None:
            try:
                run_ingest_job(
                    self._db,
                    self._files_dir,
                    job_id,
                    limits=self._limits,
                    after_batch=self._after_batch,
                )
            except Exception as exc:  # the job stays "running" and resumes at the next start
                log.error("bulk load %s stopped; it resumes at the next start: %s", job_id,
                          describe_failure(exc))  # fmt: skip

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None
