"""The interactive API docs in a real browser (Debian's Chromium through Playwright) with the
network to anything but the server blocked: Swagger UI renders the operations from assets the
server ships, "Authorize" takes a key, and "Try it out" sends it as the bearer token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.app import create_app
from core.encoder import Encoder
from core.settings import Settings
from store.db import Database
from store.keys import create_key
from tests.conftest import start_server
from tests.widget.chromium import CHROMIUM, sync_api


def test_swagger_ui_works_offline_and_sends_the_key(tmp_path: Path, use_encoder: Encoder) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    app = create_app(settings, encoder=use_encoder)
    url, server, thread = start_server(app)
    db = Database(settings)
    with db.session() as session:
        key = create_key(
            session, tenant_id="acme", role="agency",
            pepper=settings.auth.key_pepper.get_secret_value(),
        )  # fmt: skip
    db.dispose()
    foreign: list[str] = []
    sent: list[dict[str, Any]] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()

            def route(request: Any) -> None:
                if request.request.url.startswith(url):
                    request.continue_()
                else:  # no CDN, no fonts, no validator badge
                    foreign.append(request.request.url)
                    request.abort()

            page.route("**/*", route)
            page.on(
                "request",
                lambda r: sent.append({"url": r.url, "auth": r.headers.get("authorization")}),
            )
            page.goto(f"{url}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            assert page.locator(".opblock").count() > 10
            page.click("button.authorize")
            page.fill(".auth-container input", key)
            page.click(".auth-btn-wrapper button.authorize")
            page.click("button.btn-done")
            jobs = page.locator('.opblock-get:has([data-path="/v1/jobs"])').first
            jobs.locator(".opblock-summary").click()
            jobs.locator("button.try-out__btn").click()
            jobs.locator("button.execute").click()
            status = jobs.locator(".live-responses-table tr.response .response-col_status").first
            status.wait_for(timeout=10_000)
            assert status.inner_text().strip().startswith("200")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert foreign == []
    api_calls = [r for r in sent if "/v1/jobs" in r["url"] and "openapi" not in r["url"]]
    assert api_calls and api_calls[-1]["auth"] == f"Bearer {key}"
