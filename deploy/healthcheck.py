"""Container health checks: ``python healthcheck.py api`` or ``python healthcheck.py worker``.

Exit status 0 is healthy. The API is asked its own readiness (``/readyz``). The worker has
no HTTP endpoint, so its check reads what it leaves outside: the worker process (PID 1 of
its container) is running, its heartbeat file is fresh (the worker touches it every few
seconds while its outbox consumer runs and makes progress, so a stalled or dead consumer
stops it), and the two things it works between, the database (where the outbox is) and the
search engine, answer.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

TIMEOUT_S = 5.0
# The worker touches its heartbeat every 5 s; a minute without one is a stall.
HEARTBEAT_MAX_AGE_S = 60.0


def check_api(port: int = 8000) -> str | None:
    """None when ``/readyz`` answers 200, else why not."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=TIMEOUT_S) as reply:
            return None if reply.status == 200 else f"/readyz answered {reply.status}"
    except OSError as exc:  # URLError and HTTPError (a 503 while not ready) are OSErrors
        return f"/readyz: {exc}"


def process_problem(pid: int = 1) -> str | None:
    """None when process ``pid`` (the container's main one) is a running worker."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return "the main process is gone"
    # The state follows the command name, which is in parentheses and may hold spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X", "T"):
        return f"the main process is in state {state}"
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"worker" not in command:
        return "the main process is not the worker"
    return None


def heartbeat_problem(path: Path) -> str | None:
    """None when the worker's heartbeat file was touched within the last minute."""
    import time

    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return "no heartbeat yet (the worker has not started its outbox consumer)"
    if age > HEARTBEAT_MAX_AGE_S:
        return f"no heartbeat for {age:.0f} s: the outbox consumer stalled or stopped"
    return None


def check_worker(pid: int = 1, heartbeat: Path | None = None) -> str | None:
    """None when the worker process runs, its consumer beats, and its database and search
    engine answer."""
    from core.settings import Settings

    if problem := process_problem(pid):
        return problem
    settings = Settings()
    if problem := heartbeat_problem(heartbeat or settings.worker_heartbeat_file):
        return problem
    if problem := database_problem(settings):
        return problem
    if settings.search.backend == "elasticsearch":
        return _elasticsearch_problem(settings)
    return None


def database_problem(settings: Settings) -> str | None:
    """None when the configured database answers a query within the timeout."""
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.database_url, connect_args=_connect_timeout(settings))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer is the finding
        return f"database: {type(exc).__name__}"
    finally:
        engine.dispose()
    return None


def _connect_timeout(settings: Settings) -> dict[str, object]:
    postgres = settings.database_url.startswith("postgresql")
    return {"connect_timeout": int(TIMEOUT_S)} if postgres else {}


def _elasticsearch_problem(settings: Settings) -> str | None:
    from elasticsearch import Elasticsearch

    group = settings.search.elasticsearch
    options: dict[str, Any] = {"request_timeout": TIMEOUT_S}
    if group.api_key is not None:
        options["api_key"] = group.api_key.get_secret_value()
    elif group.username and group.password is not None:
        options["basic_auth"] = (group.username, group.password.get_secret_value())
    if group.ca_certs:
        options["ca_certs"] = group.ca_certs
    client = Elasticsearch(group.url, **options)
    try:
        return None if client.ping() else "elasticsearch: no answer"
    finally:
        client.close()


def main(argv: list[str]) -> int:
    """Run the check the argument names; print why it failed (no secrets, no personal data)."""
    if argv[1:] == ["api"]:
        problem = check_api()
    elif argv[1:] == ["worker"]:
        problem = check_worker()
    else:
        print("usage: healthcheck.py api|worker", file=sys.stderr)
        return 2
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
