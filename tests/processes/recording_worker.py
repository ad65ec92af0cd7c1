"""``talentmatch worker`` as a real process on a recording search backend: each index's
applied changes are appended to ``<dir>/<entity>s.log``. Usage:
``python -m tests.processes.recording_worker DIR`` (settings from the environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.domain import EntityKind
from core.settings import Settings
from tests.processes.recording import RecordingIndex
from tests.test_cli import cli_env


def start_worker_process(
    settings: Settings, record_dir: Path, **environment: str
) -> subprocess.Popen[str]:
    """A real ``talentmatch worker`` process on the settings' database, on a recording search
    backend (``tests.processes.recording_worker``); ``environment``: more settings."""
    env = cli_env(settings.data_dir)
    env["TALENTMATCH_SEARCH__BACKEND"] = "elasticsearch"
    if settings.db.url:
        env["TALENTMATCH_DB__URL"] = settings.db.url
    env.update(environment)
    record_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.processes.recording_worker", str(record_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def recorded(record_dir: Path, entity: str = "job") -> list[str]:
    """The lines a recording worker process wrote for one entity's index so far."""
    log = record_dir / f"{entity}s.log"
    return log.read_text().splitlines() if log.exists() else []


def install_recording_backend(record_dir: Path, *, per_process: bool = False) -> None:
    """Make this process's runtimes build recording indexes that log to ``record_dir``
    (``per_process``: in files named after the process id, and a ``started-<pid>`` file)."""
    import search_index.factory

    def recording_index(kind: EntityKind, settings: Settings, **_: Any) -> RecordingIndex:
        suffix = f"-{os.getpid()}" if per_process else ""
        if per_process:
            (record_dir / f"started{suffix}").touch()
        return RecordingIndex(log=record_dir / f"{kind.value}s{suffix}.log")

    # The engine is not what these tests are about: the processes, their signals and claims.
    search_index.factory.create_search_index = recording_index  # type: ignore[assignment]
    if "api.runtime" in sys.modules:
        sys.modules["api.runtime"].create_search_index = recording_index


def main(record_dir: Path) -> int:
    install_recording_backend(record_dir)
    from cli.main import main as talentmatch

    return talentmatch(["worker"])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
