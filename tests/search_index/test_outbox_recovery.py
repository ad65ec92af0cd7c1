"""The transactional outbox: killing the process between the SQL commit and the index update
(or before the index is checkpointed) loses nothing; restart replays; reindex rebuilds."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from api.runtime import Runtime
from core.settings import Settings
from search_index.hybrid import HybridSearch
from search_index.protocol import SearchQuery
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
from store.outbox import backlog

# Durability, not embedding quality, is under test: the model-free encoder keeps it fast.
SETTINGS_CODE = """
from pathlib import Path
from core.settings import Settings
settings = Settings(environment="test", data_dir=Path({data_dir!r}),
                    embedding={{"provider": "hashing"}},
                    search={{"embedded": {{"checkpoint_interval_s": 3600, "checkpoint_every_events": 10**9}}}})
"""


def settings_for(data_dir: Path) -> Settings:
    return Settings(environment="test", data_dir=data_dir, embedding={"provider": "hashing"})


def run_and_kill(data_dir: Path, body: str) -> None:
    """Run ``body`` in a fresh interpreter that then SIGKILLs itself (no cleanup at all)."""
    script = (
        SETTINGS_CODE.format(data_dir=str(data_dir))
        + textwrap.dedent(body)
        + ("\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def keyword_ids(runtime: Runtime, text: str) -> list[int]:
    return [
        h.id
        for h in HybridSearch(runtime.jobs_index)
        .search(SearchQuery(viewer_tenant="acme", text=text, mode="keyword"))
        .hits
    ]


def semantic_ids(runtime: Runtime, text: str) -> list[int]:
    vector = runtime.encode_query(text)
    query = SearchQuery(viewer_tenant="acme", text=text, vector=vector, mode="semantic", limit=50)
    return [h.id for h in HybridSearch(runtime.jobs_index).search(query).hits]


WRITE_JOB = """
from api.runtime import Runtime
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
runtime = Runtime(settings)
runtime.start(background=False)
with runtime.db.session() as session:
    get_or_create_tenant(session, "acme")
    upsert_job(session, tenant_id="acme", fields={{"title": {title!r}, "external_id": {external_id!r}}})
"""


def test_kill_between_commit_and_index_update_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # The row and its outbox event commit; the process dies before any indexing.
    run_and_kill(data_dir, WRITE_JOB.format(title="Crash-safe Rust engineer", external_id="r1"))
    runtime = Runtime(settings_for(data_dir))
    try:
        runtime.start(background=False)
        assert len(keyword_ids(runtime, "rust")) == 1
        with runtime.db.session() as session:
            assert backlog(session) == 0
    finally:
        runtime.close()


def test_kill_after_indexing_but_before_checkpoint_replays_without_duplicates(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    run_and_kill(
        data_dir,
        WRITE_JOB.format(title="Kotlin developer", external_id="k1")
        + """
runtime.sync.checkpoint()  # the first posting is durable
with runtime.db.session() as session:
    upsert_job(session, tenant_id="acme", fields={"title": "Elixir developer", "external_id": "e1"})
    upsert_job(session, tenant_id="acme", fields={"title": "Kotlin lead", "external_id": "k1"})
runtime.sync.drain()  # applied in memory and in tantivy, vectors never checkpointed
""",
    )
    runtime = Runtime(settings_for(data_dir))
    try:
        runtime.start(background=False)
        assert runtime.jobs_index.count() == 2
        assert len(keyword_ids(runtime, "elixir")) == 1
        assert keyword_ids(runtime, "kotlin") == keyword_ids(runtime, "lead")  # the update won
        # The vectors of the replayed postings are there too.
        listed = HybridSearch(runtime.jobs_index).search(SearchQuery(viewer_tenant="acme"))
        assert set(semantic_ids(runtime, "Elixir developer")) == {h.id for h in listed.hits}
    finally:
        runtime.close()


def test_index_survives_restart_and_rebuilds_when_lost(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runtime = Runtime(settings_for(data_dir))
    runtime.start(background=False)
    with runtime.db.session() as session:
        get_or_create_tenant(session, "acme")
        for n in range(30):
            upsert_job(
                session,
                tenant_id="acme",
                fields={"title": f"Scala engineer {n}", "external_id": str(n)},
            )
    runtime.sync.drain()
    runtime.close()

    restarted = Runtime(settings_for(data_dir))
    restarted.start(background=False)
    assert restarted.jobs_index.count() == 30
    restarted.close()

    shutil.rmtree(data_dir / "index")  # the index is derived data
    rebuilt = Runtime(settings_for(data_dir))
    try:
        rebuilt.start(background=False)
        assert rebuilt.jobs_index.count() == 30
        assert len(keyword_ids(rebuilt, "scala")) == 20  # the default page
    finally:
        rebuilt.close()


@pytest.mark.parametrize("command", [["reindex"]])
def test_reindex_command_rebuilds_from_the_database(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "data"
    runtime = Runtime(settings_for(data_dir))
    runtime.start(background=False)
    with runtime.db.session() as session:
        get_or_create_tenant(session, "acme")
        upsert_job(session, tenant_id="acme", fields={"title": "Haskell engineer"})
    runtime.sync.drain()
    runtime.jobs_index.clear()  # simulate a damaged index
    runtime.close()
    env = {
        "TALENTMATCH_DATA_DIR": str(data_dir),
        "TALENTMATCH_EMBEDDING__PROVIDER": "hashing",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Reindexed 1 documents" in result.stdout
    again = Runtime(settings_for(data_dir))
    try:
        again.start(background=False)
        assert len(keyword_ids(again, "haskell")) == 1
    finally:
        again.close()
