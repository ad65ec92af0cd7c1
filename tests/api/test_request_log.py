"""One log line per request (request id, method, route template, status, latency, tenant and
key id), never a query string or personal data; ``X-Request-ID`` kept when sane, else made,
and carried by every response and error body, a 500 included."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import store.candidates
from api.request_log import REQUEST_LOGGER, JsonLogFormatter
from tests.conftest import Api, candidate_payload, free_port
from tests.test_cli import cli_env, talentmatch

pytestmark = pytest.mark.anyio
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log's records as the JSON lines ``talentmatch serve`` writes."""
    formatter = JsonLogFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == REQUEST_LOGGER
    ]


async def test_one_line_per_request_with_route_template_and_no_personal_data(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    person = candidate_payload(email="lin.secret@example.com", name="林秘密")
    created = await api.post("/v1/candidates", "acme", person)
    assert created.status_code == 201
    candidate_id = created.json()["id"]
    key_id = api.key("acme").split("_")[1]
    caplog.clear()

    searched = await api.post("/v1/search/candidates", "acme", {"query": person["email"]})
    assert searched.status_code == 200
    read = await api.get(f"/v1/candidates/{candidate_id}", "acme",
                         params={"blind": "false", "note": person["email"]})  # fmt: skip
    assert read.status_code == 200
    anonymous = await api.client.get("/v1/jobs", params={"q": person["phone"]})
    assert anonymous.status_code == 401

    lines = request_lines(caplog)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("POST", "/v1/search/candidates", 200),
        ("GET", "/v1/candidates/{candidate_id}", 200),
        ("GET", "/v1/jobs", 401),
    ]
    for line, response in zip(lines, (searched, read, anonymous), strict=True):
        assert line["request_id"] == response.headers["x-request-id"]
        assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert (lines[0]["tenant_id"], lines[0]["key_id"]) == ("acme", key_id)
    assert (lines[1]["tenant_id"], lines[1]["key_id"]) == ("acme", key_id)
    assert "tenant_id" not in lines[2]  # no key, no tenant
    logged = caplog.text + "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for secret in (
        person["email"],
        person["phone"],
        person["name"],
        "note=",
        f"/candidates/{candidate_id}",
    ):
        assert secret not in logged


async def test_the_request_id_is_kept_when_sane_and_made_otherwise(api: Api) -> None:
    kept = await api.client.get("/livez", headers={"X-Request-ID": "lb-7f3a.19_ab"})
    assert kept.headers["x-request-id"] == "lb-7f3a.19_ab"
    made = await api.client.get("/livez")
    assert GENERATED_ID.fullmatch(made.headers["x-request-id"])
    assert made.headers["x-request-id"] != (await api.client.get("/livez")).headers["x-request-id"]
    for bad in ("two words", "x" * 129, "<script>", "id\\n{}", ""):
        replaced = await api.client.get("/livez", headers={"X-Request-ID": bad})
        assert GENERATED_ID.fullmatch(replaced.headers["x-request-id"]), bad
    longest = "a" * 128
    assert (await api.client.get("/livez", headers={"X-Request-ID": longest})).headers[
        "x-request-id"
    ] == longest


async def test_error_bodies_carry_the_request_id(api: Api) -> None:
    missing = await api.client.get(
        "/v1/jobs/999999", headers={**api.auth("acme"), "X-Request-ID": "trace-404"}
    )
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "trace-404"
    assert missing.json()["error"]["request_id"] == "trace-404"
    unrouted = await api.client.get("/no/such/path")
    assert unrouted.status_code == 404
    assert unrouted.json()["error"]["request_id"] == unrouted.headers["x-request-id"]
    invalid = await api.post("/v1/jobs", "acme", {"title": ""})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["request_id"] == invalid.headers["x-request-id"]
    assert invalid.json()["error"]["details"][0]["field"] == "title"


def _upsert_then_fail(original: Callable[..., Any]) -> Callable[..., Any]:
    """The real upsert, then a statement the database refuses: an unexpected failure."""

    def upsert(session: Session, **kwargs: Any) -> Any:
        result = original(session, **kwargs)
        session.execute(text("INSERT INTO no_such_table (x) VALUES (1)"))
        return result

    return upsert


async def test_a_500_carries_the_request_id_and_is_logged_once(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    monkeypatch.setattr(
        store.candidates, "upsert_candidate", _upsert_then_fail(store.candidates.upsert_candidate)
    )
    response = await api.client.post(
        "/v1/candidates",
        json=candidate_payload(),
        headers={**api.auth("acme"), "X-Request-ID": "trace-500"},
    )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500"
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "an internal error occurred; it has been logged",
        "details": None,
        "request_id": "trace-500",
    }
    lines = [line for line in request_lines(caplog) if line["request_id"] == "trace-500"]
    assert [(line["route"], line["status"]) for line in lines] == [("/v1/candidates", 500)]


def test_serve_writes_one_json_line_per_request_to_stderr(tmp_path: Path) -> None:
    """``talentmatch serve`` as a real process: stderr is JSON lines, one per request, and
    uvicorn's access lines (raw paths, query strings) are gone."""
    created = talentmatch("keys", "create", "--tenant", "acme", "--role", "agency",
                          data_dir=tmp_path)  # fmt: skip
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    port = free_port()
    env = {**cli_env(tmp_path), "TALENTMATCH_LOG_FORMAT": "json"}
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=stderr, env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.3)
            person = candidate_payload(email="wang.private@example.com")
            sent = {
                "serve-1": httpx.post(f"{base}/v1/candidates", json=person,
                                      headers={**headers, "X-Request-ID": "serve-1"}),
                "serve-2": httpx.get(f"{base}/v1/candidates", params={"q": person["email"]},
                                     headers={**headers, "X-Request-ID": "serve-2"}),
                "serve-3": httpx.get(f"{base}/v1/jobs/424242",
                                     headers={**headers, "X-Request-ID": "serve-3"}),
            }  # fmt: skip
            assert [r.status_code for r in sent.values()] == [201, 200, 404]
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    written = stderr_path.read_text()
    lines = [json.loads(line) for line in written.splitlines() if line.strip()]
    by_id = {
        request_id: [line for line in lines if line.get("request_id") == request_id]
        for request_id in sent
    }
    assert [(line["method"], line["route"], line["status"], line["tenant_id"])
            for request_id in sent for line in by_id[request_id]] == [
        ("POST", "/v1/candidates", 201, "acme"),
        ("GET", "/v1/candidates", 200, "acme"),
        ("GET", "/v1/jobs/{job_id}", 404, "acme"),
    ]  # fmt: skip
    assert all(line["message"] == "request" for lines_ in by_id.values() for line in lines_)
    for secret in (person["email"], person["phone"], person["name"], "424242", "?q="):
        assert secret not in written
