"""``talentmatch worker``: a process that applies the outbox to a shared search backend and
runs bulk loads, serving no HTTP. Any number run beside the API processes: they claim
outbox events and loads so that each is taken by one of them."""

from __future__ import annotations

import threading

from core.encoder import Encoder
from core.settings import Settings


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
        stop.wait()
    finally:
        runtime.close()
