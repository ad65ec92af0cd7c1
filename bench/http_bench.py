"""What a client of ``talentmatch serve`` gets: a real uvicorn server in its own process on
the benchmark's data directory (so its memory is the server's own), searched and matched
through the HTTP API with an API key, by one client and by several at once.

The clients are threads of the benchmark process, each with its own keep-alive connection
(``http.client``, the lightest client in the standard library); they share the machine's
cores with the server, which the report says next to the figures.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 600.0


class ServerFailed(RuntimeError):
    """The benchmark's server did not start or answered a request with an error."""


@dataclass
class Server:
    """A running ``talentmatch serve`` process and how long it took to be ready."""

    process: subprocess.Popen[bytes]
    port: int
    startup_s: float
    log_path: Path

    def rss_bytes(self) -> int:
        """The server process's resident memory now (``VmRSS``)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise ServerFailed("no VmRSS for the server process")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)


def server_environment(
    settings: Settings, encoder_provider: str, hashing_dim: int
) -> dict[str, str]:
    """The environment of ``talentmatch serve`` on the benchmark's data: the bench's own
    settings (data directory, secrets, encoder) and no rate limit, which would otherwise
    refuse a benchmark's request rate with 429s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    search = settings.search
    env |= {
        "TALENTMATCH_ENVIRONMENT": settings.environment,
        "TALENTMATCH_DATA_DIR": str(settings.data_dir.resolve()),
        "TALENTMATCH_AUTH__KEY_PEPPER": settings.auth.key_pepper.get_secret_value(),
        "TALENTMATCH_AUTH__DATA_KEY": settings.auth.data_key.get_secret_value(),
        "TALENTMATCH_AUTH__RATE_LIMITS_PER_MINUTE": json.dumps(
            dict.fromkeys(settings.auth.rate_limits_per_minute, 0)
        ),
        "TALENTMATCH_EMBEDDING__PROVIDER": encoder_provider,
        "TALENTMATCH_EMBEDDING__HASHING_DIM": str(hashing_dim),
        "TALENTMATCH_SEARCH__BACKEND": search.backend,
        "TALENTMATCH_SEARCH__STARTUP_WAIT_S": str(search.startup_wait_s),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")])),
    }
    if settings.db.url:
        env["TALENTMATCH_DB__URL"] = settings.db.url
    return env


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[Server]:
    """``talentmatch serve`` in a subprocess; yields once ``/readyz`` answers 200 (database
    answers, the index loaded from its checkpoint and caught up with the outbox), with the
    seconds from process start to then. Stopped with SIGINT (a clean shutdown) on exit."""
    port = _free_port()
    command = [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPOSITORY, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while not _ready(port):
                if process.poll() is not None:
                    raise ServerFailed(
                        f"the server exited with {process.returncode}; see {log_path}"
                    )
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise ServerFailed(f"the server was not ready in {START_TIMEOUT_S:.0f}s")
                time.sleep(0.05)
            yield Server(process, port, time.perf_counter() - started, log_path)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Client:
    """One keep-alive connection with the benchmark's API key."""

    def __init__(self, server: Server, key: str) -> None:
        self._connection = server.connection()
        self._headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> float:
        """Seconds until the whole response was read; an error status stops the benchmark
        (timing refusals would measure the wrong thing)."""
        payload = None if body is None else json.dumps(body).encode()
        started = time.perf_counter()
        self._connection.request(method, path, body=payload, headers=self._headers)
        response = self._connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            # Error bodies are the API's error JSON: codes and field names, nothing personal.
            raise ServerFailed(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return elapsed

    def close(self) -> None:
        self._connection.close()


def search_latencies(server: Server, key: str, bodies: Sequence[dict[str, Any]]) -> list[float]:
    """Seconds per ``POST /v1/search/jobs``, one client, one request after the other."""
    client = Client(server, key)
    try:
        return [client.call("POST", "/v1/search/jobs", body) for body in bodies]
    finally:
        client.close()


def concurrent_qps(
    server: Server, key: str, bodies: Sequence[dict[str, Any]], clients: int
) -> dict[str, float]:
    """``bodies`` searched by ``clients`` threads at once, each on its own connection and
    taking the next body as soon as its previous answer arrived; completed searches per
    second of wall time, and the latency each client saw."""
    pending = iter(bodies)
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[BaseException] = []
    connections = [Client(server, key) for _ in range(clients)]

    def work(client: Client) -> None:
        while True:
            with lock:
                body = next(pending, None)
            if body is None or failures:
                return
            try:
                elapsed = client.call("POST", "/v1/search/jobs", body)
            except BaseException as exc:
                failures.append(exc)
                return
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=work, args=(c,)) for c in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for client in connections:
        client.close()
    if failures:
        raise failures[0]
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "qps": len(latencies) / wall,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
    }


def match_latencies(server: Server, key: str, paths: Sequence[str]) -> list[float]:
    """Seconds per ``GET`` of each match route path, one client."""
    client = Client(server, key)
    try:
        return [client.call("GET", path) for path in paths]
    finally:
        client.close()
