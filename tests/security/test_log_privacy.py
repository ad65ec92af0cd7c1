"""An unexpected failure answers with the JSON error body and leaves no personal data in the
server's log: the database's errors quote no parameters, and the log gets exception types and
raise sites, never messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import store.candidates
from store.db import Database
from store.models import Candidate
from tests.conftest import Api, candidate_payload, start_server

pytestmark = pytest.mark.anyio
SECRET_NAME = "欧阳秘密"
SECRET_SUMMARY = "在深圳南山区某厂做了十年隐秘项目"


def _upsert_then_fail(original: Callable[..., Any]) -> Callable[..., Any]:
    """The real upsert, then a statement the database refuses, carrying personal data as its
    parameters (as a constraint violation on a real row would)."""

    def upsert(session: Session, **kwargs: Any) -> Any:
        result = original(session, **kwargs)
        session.execute(
            text("INSERT INTO no_such_table (name, summary) VALUES (:name, :summary)"),
            {"name": kwargs["fields"]["name"], "summary": kwargs["fields"]["summary"]},
        )
        return result

    return upsert


def _stored_candidates(api: Api) -> int:
    db = Database(api.settings)
    try:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Candidate)) or 0)
    finally:
        db.dispose()


async def test_a_failure_is_a_json_500_and_the_log_holds_no_personal_data(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        store.candidates, "upsert_candidate", _upsert_then_fail(store.candidates.upsert_candidate)
    )
    body = candidate_payload(name=SECRET_NAME, summary=SECRET_SUMMARY)
    response = await api.post("/v1/candidates", "acme", body)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert SECRET_NAME not in response.text
    assert _stored_candidates(api) == 0  # the transaction rolled back
    assert "unhandled error on POST /v1/candidates" in caplog.text
    assert "no_such_table" in caplog.text or "Error" in caplog.text  # still useful to operators
    for secret in (SECRET_NAME, SECRET_SUMMARY, body["email"], body["phone"]):
        assert secret not in caplog.text


async def test_a_real_server_logs_no_personal_data_on_failure(
    app_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(
        store.candidates, "upsert_candidate", _upsert_then_fail(store.candidates.upsert_candidate)
    )
    app = app_factory()
    url, server, thread = start_server(app)
    try:
        api = Api(httpx.AsyncClient(base_url=url), app.state.runtime.settings, app)
        body = candidate_payload(name=SECRET_NAME, summary=SECRET_SUMMARY)
        response = await api.post("/v1/candidates", "acme", body)
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "internal_error"
        await api.client.aclose()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    printed = capfd.readouterr()
    everything = printed.out + printed.err + caplog.text
    assert "unhandled error" in everything
    for secret in (SECRET_NAME, SECRET_SUMMARY, body["email"], body["phone"]):
        assert secret not in everything
