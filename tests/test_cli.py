"""The ``talentmatch`` command, run as a real process: keys, and a real server with the demo
data answering real HTTP requests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.settings import Settings
from store.db import Database
from store.keys import authenticate
from tests.conftest import free_port


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    env["TALENTMATCH_DATA_DIR"] = str(data_dir)
    # The server test is about the process and HTTP, not embedding quality.
    env["TALENTMATCH_EMBEDDING__PROVIDER"] = "hashing"
    return env


def talentmatch(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=cli_env(data_dir),
        timeout=300,
    )


def test_keys_create_prints_only_the_key_and_creates_the_database(tmp_path: Path) -> None:
    result = talentmatch(
        "keys", "create", "--tenant", "acme", "--role", "agency", data_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert re.fullmatch(r"tm_[a-z0-9]{12}_[A-Za-z0-9_-]+", key)
    assert result.stdout == key + "\n"
    settings = Settings(environment="test", data_dir=tmp_path)
    db = Database(settings)
    with db.session() as session:
        principal = authenticate(session, key, pepper=settings.auth.key_pepper.get_secret_value())
    db.dispose()
    assert (principal.tenant_id, principal.role) == ("acme", "agency")
    revoked = talentmatch("keys", "revoke", key, data_dir=tmp_path)
    assert revoked.returncode == 0


def test_keys_create_rejects_a_bad_tenant(tmp_path: Path) -> None:
    result = talentmatch(
        "keys", "create", "--tenant", "Not A Tenant!", "--role", "agency", data_dir=tmp_path
    )
    assert result.returncode != 0
    assert result.stdout == ""


def test_serve_demo_answers_healthz_and_search_over_http(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        match = re.search(r"(tm_[a-z0-9]{12}_[A-Za-z0-9_-]+)", first_line)
        assert match, first_line
        key = match.group(1)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None and health.status_code == 200
        assert health.json()["jobs_indexed"] == 300
        headers = {"Authorization": f"Bearer {key}"}
        result = httpx.post(
            f"{base}/v1/search/jobs", json={"query": "会计"}, headers=headers, timeout=30
        )
        assert result.status_code == 200
        assert result.json()["total"] > 0
        candidate_id = httpx.get(f"{base}/v1/candidates", headers=headers, timeout=30).json()[
            "items"
        ][0]["id"]
        matches = httpx.get(
            f"{base}/v1/candidates/{candidate_id}/matches", headers=headers, timeout=30
        )
        assert matches.status_code == 200 and matches.json()["matches"]
        # The widget demo page embeds the demo fair's browser key, valid from this origin.
        demo = httpx.get(f"{base}/widget/demo", timeout=30)
        assert demo.status_code == 200 and f'src="{base}/widget/v1/talentmatch.js"' in demo.text
        widget_key = re.search(r'key="(tm_[^"]+)"', demo.text)
        assert widget_key and 'fair="demo-fair-2026"' in demo.text
        browser = {"Authorization": f"Bearer {widget_key.group(1)}", "Origin": base}
        fair = httpx.post(f"{base}/v1/search/jobs", json={"query": "", "facets": ["city"]},
                          headers=browser, timeout=30)  # fmt: skip
        shown = httpx.get(f"{base}/v1/fairs/demo-fair-2026", headers=browser, timeout=30)
        # Every public sample posting is at the fair (near-duplicates count once in search).
        assert 250 < shown.json()["postings"] < 300
        assert fair.status_code == 200 and 0 < fair.json()["total"] <= shown.json()["postings"]
        assert httpx.post(f"{base}/v1/search/jobs", json={"query": ""}, timeout=30,
                          headers={**browser, "Origin": "https://elsewhere.example"}
                          ).status_code == 403  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    # uvicorn re-raises SIGTERM after its graceful shutdown, which ran the lifespan's close.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in stderr


def test_a_second_process_on_a_held_index_gets_a_clear_error(tmp_path: Path) -> None:
    from api.runtime import Runtime

    runtime = Runtime(
        Settings(environment="test", data_dir=tmp_path, embedding={"provider": "hashing"})
    )
    try:
        result = talentmatch("reindex", data_dir=tmp_path)
    finally:
        runtime.close()
    assert result.returncode == 1
    assert "in use by another process" in result.stderr
    assert "Traceback" not in result.stderr
