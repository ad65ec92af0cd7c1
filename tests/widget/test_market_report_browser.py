"""The operator's market report in a real browser (Debian's Chromium through Playwright), with
every request to anything but the server blocked: it signs in with an admin key, draws the
charts, switches between Chinese and English and downloads each table as CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from core.encoder import Encoder
from core.settings import Settings
from store.db import Database
from store.keys import create_key
from tests.conftest import job_payload, start_server
from tests.widget.chromium import CHROMIUM, sync_api


def _key(settings: Settings, tenant: str, role: str) -> str:
    db = Database(settings)
    try:
        with db.session() as session:
            return create_key(session, tenant_id=tenant, role=role,
                              pepper=settings.auth.key_pepper.get_secret_value())  # fmt: skip
    finally:
        db.dispose()


def test_the_report_renders_switches_language_and_downloads(
    tmp_path: Path, use_encoder: Encoder
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    app = create_app(settings, encoder=use_encoder)
    url, server, thread = start_server(app)
    admin = _key(settings, "operator", "admin")
    agencies = [_key(settings, f"agency{i}", "agency") for i in range(3)]
    for i in range(6):
        response = httpx.post(
            f"{url}/v1/jobs",
            json=job_payload(
                title="Java开发工程师",
                company=f"公司{i % 3}",
                headcount=2,
                posted_at="2026-10-05T09:00:00Z",
            ),  # fmt: skip
            headers={"Authorization": f"Bearer {agencies[i % 3]}"},
            timeout=120,
        )
        assert response.status_code == 201, response.text
    foreign: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(accept_downloads=True, locale="zh-CN")
            page = context.new_page()

            def route(request: Any) -> None:
                if request.request.url.startswith(url):
                    request.continue_()
                else:
                    foreign.append(request.request.url)
                    request.abort()

            page.route("**/*", route)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{url}/reports/market")
            assert page.locator("h1").inner_text() == "人力资源市场供求报告"
            page.fill("#key", "tm_wrongwrongwr_notakeyatallnotakeyatall")
            page.click("#signin-form button")
            sync_api.expect(page.locator("#error")).not_to_be_empty()
            assert "密钥无效" in page.locator("#error").inner_text()
            page.fill("#key", admin)
            page.click("#signin-form button")
            page.fill("#period", "2026-Q4")
            page.click("#controls button[type=submit]")
            page.wait_for_selector("#supply-demand svg rect[data-series=demand]")
            demand_cells = page.locator("#supply-demand tbody tr").first.locator("td")
            assert demand_cells.nth(1).inner_text() == "12"  # 6 postings × headcount 2
            assert page.locator("#wages svg rect[data-series=p50]").count() >= 1
            assert page.locator("#indicators tbody tr").count() == 4
            assert page.locator("#trend tbody tr").count() == 6
            heading = page.locator("#supply-demand th").first.inner_text()
            page.select_option("#language", "en")
            expect = sync_api.expect
            expect(page.locator("#supply-demand th").first).to_have_text("Occupation")
            assert heading == "职业"
            assert page.locator("h1").inner_text() == "Labour-market supply and demand"
            expect(page.locator("#indicators tbody td").first).to_have_text(re.compile("[a-z]"))
            with page.expect_download() as download_info:
                page.click("#supply-demand button[data-csv=market]")
            download = download_info.value
            text = Path(download.path()).read_text(encoding="utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(text)))
            assert download.suggested_filename == "market.csv"
            assert rows and rows[0]["demand"] == "12"
            with page.expect_download() as trend_info:
                page.click("#trend button[data-csv=trend]")
            trend = Path(trend_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
            assert trend[0] == "period,demand,seekers,ratio" and len(trend) == 7
            assert not errors, errors
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert foreign == []
