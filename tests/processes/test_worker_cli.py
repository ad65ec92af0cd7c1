"""``talentmatch worker`` and ``serve --workers``: refused on the embedded backend (one process
owns its index), and on a shared backend the worker is what indexes: API processes write the
database and the outbox only, the worker applies the outbox and runs their bulk loads, and
stops cleanly when told to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from api.app import create_app
from core.domain import EntityKind
from core.settings import Settings
from ingestion.bulk import create_ingest_job, load_lease
from ingestion.readers import ReaderLimits
from ingestion.worker import IngestWorker
from representation.encoders import HashingEncoder
from store.db import Database
from store.keys import get_or_create_tenant
from store.models import IngestJob
from store.outbox import backlog
from tests.conftest import POSTGRES_URL, Api, free_port, fresh_postgres_database, job_payload
from tests.processes.recording import RecordingIndex
from tests.processes.recording_worker import recorded, start_worker_process
from tests.test_cli import cli_env, talentmatch


def test_worker_on_the_embedded_backend_refuses_with_the_reason(tmp_path: Path) -> None:
    result = talentmatch("worker", data_dir=tmp_path)
    assert result.returncode == 1
    assert "talentmatch worker needs a shared search backend" in result.stderr
    assert "TALENTMATCH_SEARCH__BACKEND=elasticsearch" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_several_workers_on_the_embedded_backend_refuses(tmp_path: Path) -> None:
    result = talentmatch("serve", "--workers", "2", "--port", "1", data_dir=tmp_path)
    assert result.returncode == 1
    assert "serve --workers N (N > 1) needs a shared search backend" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def shared_backend(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, list[RecordingIndex]]:
    """Settings for a shared search backend, whose indexes (one set per process's runtime,
    in the order the runtimes start) record what each process applies to them."""
    made: list[RecordingIndex] = []

    def recording_index(kind: EntityKind, settings: Settings, **_: Any) -> RecordingIndex:
        made.append(RecordingIndex())
        return made[-1]

    monkeypatch.setattr("api.runtime.create_search_index", recording_index)
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        db={"url": database_url},
        search={"backend": "elasticsearch", "outbox_poll_interval_s": 0.1, "startup_wait_s": 30},
    )
    return settings, made


@pytest.fixture
async def api_process(
    shared_backend: tuple[Settings, list[RecordingIndex]],
) -> AsyncIterator[Api]:
    settings, _ = shared_backend
    app = create_app(settings, encoder=HashingEncoder(64))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, settings, app)


async def _wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await anyio.sleep(0.05)
    return condition()


@pytest.mark.anyio
async def test_the_worker_applies_what_api_processes_write_and_stops_cleanly(
    shared_backend: tuple[Settings, list[RecordingIndex]], api_process: Api
) -> None:
    from cli.worker import run_worker

    settings, made = shared_backend
    api_indexes = list(made)
    before = await api_process.create_job("acme", title="Before the worker")
    # The API process answered without indexing (and runs no outbox thread).
    await anyio.sleep(0.5)
    assert all(not index.upserted for index in api_indexes)

    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings, stop),
                              kwargs={"encoder": HashingEncoder(64)})  # fmt: skip
    worker.start()
    try:
        assert await _wait_for(lambda: len(made) > len(api_indexes))
        worker_jobs = made[len(api_indexes)]  # the worker's job index (created first)
        assert await _wait_for(lambda: before["id"] in worker_jobs.upserted)
        during = await api_process.create_job("acme", title="While the worker runs")
        assert await _wait_for(lambda: during["id"] in worker_jobs.upserted)

        lines = [json.dumps({"title": f"Bulk posting {n}", "description": f"Load {n}",
                             "city": "深圳", "external_id": f"bulk-{n}"}) for n in range(3)]  # fmt: skip
        load = await api_process.client.post(
            "/v1/jobs:bulk", headers=api_process.auth("acme"),
            files={"file": ("jobs.jsonl", "\n".join(lines).encode())},
        )  # fmt: skip
        assert load.status_code == 202, load.text
        url = f"/v1/ingest-jobs/{load.json()['id']}"

        async def finished() -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = dict((await api_process.get(url, "acme")).json())
                if state["status"] not in ("queued", "running"):
                    return state
                await anyio.sleep(0.1)
            raise AssertionError("the worker never ran the bulk load")

        state = await finished()
        assert (state["status"], state["succeeded"]) == ("done", 3), state
        assert await _wait_for(lambda: len(set(worker_jobs.upserted)) == 5)
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive()  # stopped when told to, after draining
    assert all(not index.upserted for index in api_indexes)
    db = Database(settings)
    with db.session() as session:
        assert backlog(session) == 0
    db.dispose()


@pytest.mark.anyio
async def test_a_worker_process_applies_the_outbox_and_drains_before_exiting_on_sigterm(
    shared_backend: tuple[Settings, list[RecordingIndex]], api_process: Api, tmp_path: Path
) -> None:
    settings, made = shared_backend
    first = await api_process.create_job("acme", title="Written before the worker starts")
    # Polling rarely: only its start-up recovery and its drain on exit apply anything.
    heartbeat = tmp_path / "heartbeat"
    worker = start_worker_process(
        settings, tmp_path / "worker", TALENTMATCH_SEARCH__OUTBOX_POLL_INTERVAL_S="600",
        TALENTMATCH_WORKER_HEARTBEAT_FILE=str(heartbeat),
    )  # fmt: skip
    try:
        assert await _wait_for(lambda: f"upsert {first['id']}" in recorded(tmp_path / "worker"))
        # Its consumer runs: the container health check sees a fresh heartbeat.
        assert await _wait_for(heartbeat.exists)
        last = await api_process.create_job("acme", title="Written just before SIGTERM")
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert f"upsert {last['id']}" in recorded(tmp_path / "worker")
    assert all(not index.upserted for index in made)  # the API process indexed nothing
    db = Database(settings)
    with db.session() as session:
        assert backlog(session) == 0
    db.dispose()


def test_serve_with_two_workers_on_a_shared_backend_runs_two_api_processes(
    tmp_path: Path, database_url: str | None
) -> None:
    """``serve --workers 2`` on a shared (here: recording) backend: two uvicorn worker
    processes each build the app; they write the database and the outbox, index nothing."""
    records, hook = tmp_path / "records", tmp_path / "hook"
    records.mkdir()
    hook.mkdir()
    # uvicorn starts its workers as fresh interpreters: each installs the recording backend.
    (hook / "sitecustomize.py").write_text(
        "import os\nfrom pathlib import Path\n"
        "from tests.processes.recording_worker import install_recording_backend\n"
        "install_recording_backend(Path(os.environ['TM_TEST_RECORDS']), per_process=True)\n"
    )
    settings = Settings(environment="test", data_dir=tmp_path / "data", db={"url": database_url})
    env = cli_env(settings.data_dir)
    env.update({"TALENTMATCH_SEARCH__BACKEND": "elasticsearch", "TM_TEST_RECORDS": str(records),
                "PYTHONPATH": os.pathsep.join([str(hook), str(Path.cwd())])})  # fmt: skip
    if database_url:
        env["TALENTMATCH_DB__URL"] = database_url
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--workers", "2", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_blocking(lambda: len(list(records.glob("started-*"))) == 2, 120)
        assert _wait_blocking(lambda: _answers(f"{base}/healthz"), 60)
        api = Api(httpx.AsyncClient(), settings)
        headers = {"Authorization": f"Bearer {api.key('acme')}"}
        created = httpx.post(f"{base}/v1/jobs", json=job_payload(), headers=headers, timeout=30)
        assert created.status_code == 201, created.text
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert len({path.name for path in records.glob("started-*")}) == 2
    assert all("upsert" not in path.read_text() for path in records.glob("*.log"))
    db = Database(settings)
    with db.session() as session:
        assert backlog(session) == 1  # left for a worker process
    db.dispose()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _wait_blocking(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None, reason="needs PostgreSQL (TALENTMATCH_TEST_POSTGRES_URL)"
)


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    for url in fresh_postgres_database():
        yield Settings(environment="test", data_dir=tmp_path / "data", db={"url": url})


@needs_postgres
def test_worker_processes_share_bulk_loads_by_lease(pg_settings: Settings) -> None:
    """A load another worker holds is left alone until it lets go; a load left "running" by
    a worker that died (nobody holds it) is resumed."""
    settings = pg_settings
    db, worker_db = Database(settings), Database(settings)
    with db.session() as session:
        get_or_create_tenant(session, "acme")
    limits = ReaderLimits.from_settings(settings.uploads)

    def load(name: str) -> str:
        lines = [json.dumps({"title": f"{name} posting {n}", "description": f"{name} {n}",
                             "external_id": f"{name}-{n}"}) for n in range(3)]  # fmt: skip
        return create_ingest_job(
            db, settings.files_dir, tenant_id="acme", entity=EntityKind.JOB,
            filename=f"{name}.jsonl", content="\n".join(lines).encode(), limits=limits,
        ).id  # fmt: skip

    def state(job_id: str) -> tuple[str, int]:
        with db.session() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            return job.status, job.succeeded

    held, orphaned = load("held"), load("orphaned")
    with db.session() as session:
        job = session.get(IngestJob, orphaned)
        assert job is not None
        job.status = "running"  # its worker was killed mid-load
    runner = IngestWorker(worker_db, settings.files_dir, limits, after_batch=lambda _: None)
    with load_lease(db, held) as ours:  # another worker process runs this one
        assert ours
        runner.start(poll_interval_s=0.1)
        try:
            assert _wait_blocking(lambda: state(orphaned) == ("done", 3), 60)
            time.sleep(1.0)
            assert state(held) == ("queued", 0)
        except BaseException:
            runner.stop()
            raise
    try:
        assert _wait_blocking(lambda: state(held) == ("done", 3), 60)
    finally:
        runner.stop()
    worker_db.dispose()
    db.dispose()


@needs_postgres
def test_the_ingest_command_leaves_a_load_a_worker_runs_alone(
    pg_settings: Settings, tmp_path: Path
) -> None:
    db = Database(pg_settings)
    with db.session() as session:
        get_or_create_tenant(session, "acme")
    source = tmp_path / "postings.jsonl"
    source.write_text(json.dumps({"title": "Loaded twice?", "description": "Once only"}))
    job_id = create_ingest_job(
        db, pg_settings.files_dir, tenant_id="acme", entity=EntityKind.JOB,
        filename=source.name, content=source.read_bytes(),
        limits=ReaderLimits.from_settings(pg_settings.uploads),
    ).id  # fmt: skip
    env = cli_env(pg_settings.data_dir)
    env["TALENTMATCH_DB__URL"] = str(pg_settings.db.url)
    with load_lease(db, job_id) as ours:  # a worker process runs it
        assert ours
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "ingest", str(source), "--kind", "jobs",
             "--tenant", "acme"], capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"load {job_id} is being run by a worker process" in result.stderr
    with db.session() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None and (job.status, job.succeeded) == ("queued", 0)
    db.dispose()
