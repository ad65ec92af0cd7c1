"""``talentmatch worker``: a process that applies the outbox to a shared search backend and
runs bulk loads, serving no HTTP. Any number run beside the API processes: they claim
outbox events and loads so that each is taken by one of them."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from core.encoder import Encoder
from core.settings import Settings

if TYPE_CHECKING:
    from search_index.sync import IndexSync

# The heartbeat (``settings.worker_heartbeat_file``) is touched this often while the outbox
# consumer runs and makes progress; deploy/healthcheck.py reads its age.
HEARTBEAT_EVERY_S = 5.0
# A consumer that made no progress (no poll round, no batch) for this long has stalled.
STALLED_AFTER_S = 120.0


def embedded_backend_refusal(settings: Settings, what: str) -> str | None:
    """Why ``what`` cannot run on the configured backend, or None: the embedded index belongs
    to one process (the server, which applies the outbox itself)."""
    if settings.search.backend != "embedded":
        return None
    return (
        f"{what} needs a shared search backend (TALENTMATCH_SEARCH__BACKEND=elasticsearch): "
        f"the embedded index at {settings.index_dir} is owned by one process, "
        "'talentmatch serve', which applies the outbox and runs bulk loads itself"
    )


def run_worker(
    settings: Settings, stop: threading.Event, *, encoder: Encoder | None = None
) -> None:
    """Apply outbox events and run bulk loads until ``stop`` is set, then apply what is
    pending and close."""
    from api.runtime import Runtime

    runtime = Runtime(settings, encoder=encoder, role="worker")
    try:
        runtime.start()
        beat(runtime.sync, settings.worker_heartbeat_file)
        while not stop.wait(HEARTBEAT_EVERY_S):
            beat(runtime.sync, settings.worker_heartbeat_file)
    finally:
        runtime.close()


def beat(sync: IndexSync, heartbeat: Path) -> bool:
    """Touch the heartbeat file when the consumer runs and made progress lately."""
    alive = sync.running and time.monotonic() - sync.last_progress < STALLED_AFTER_S
    if alive:
        heartbeat.touch()
    return alive
