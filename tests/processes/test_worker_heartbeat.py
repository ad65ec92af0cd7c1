"""The worker's heartbeat (what its container health check reads) beats only while its outbox
consumer runs and makes progress."""

from __future__ import annotations

import os
import time
from pathlib import Path

from cli.worker import STALLED_AFTER_S, beat
from core.domain import EntityKind
from core.settings import Settings
from representation.encoders import HashingEncoder
from search_index.protocol import SearchIndex
from search_index.sync import IndexSync
from store.db import Database
from tests.processes.recording import RecordingIndex


def test_the_heartbeat_stops_when_the_consumer_stalls_or_stops(tmp_path: Path) -> None:
    db = Database(Settings(environment="test", data_dir=tmp_path / "data"))
    indexes: dict[EntityKind, SearchIndex] = dict.fromkeys(EntityKind, RecordingIndex())
    sync = IndexSync(db, HashingEncoder(64), indexes)
    heartbeat = tmp_path / "heartbeat"
    assert not beat(sync, heartbeat) and not heartbeat.exists()  # not started
    sync.start(600.0)  # its first round is 10 minutes away: nothing refreshes progress
    try:
        assert sync.running
        assert beat(sync, heartbeat) and heartbeat.exists()
        old = time.time() - 300
        os.utime(heartbeat, (old, old))
        # A consumer stuck in one round (or one batch) makes no progress.
        sync.last_progress = time.monotonic() - STALLED_AFTER_S - 1
        assert sync.running and not beat(sync, heartbeat)
        assert heartbeat.stat().st_mtime == old
        sync.last_progress = time.monotonic()
        assert beat(sync, heartbeat) and heartbeat.stat().st_mtime > old
    finally:
        sync.stop()
        db.dispose()
    assert not beat(sync, heartbeat)
