"""The widget's apply link in a real browser: both placeholders the fair's ``apply_url``
promises, ``{job_id}`` and ``{external_id}``, are filled in, URL-encoded."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from api.app import create_app
from api.runtime import Runtime
from core.encoder import Encoder
from core.settings import Settings
from store.fairs import publish, upsert_fair
from store.jobs import upsert_job
from store.keys import create_key, get_or_create_tenant
from tests.conftest import free_port, start_server
from tests.widget.test_widget_browser import QuietHandler, browser, open_widget, page

__all__ = ["browser", "page"]  # the browser fixtures, shared with the widget's main tests

TEMPLATE = "https://career.szu.edu.cn/apply?job={job_id}&ref={external_id}&again={job_id}"
EXTERNAL_ID = "szu/2026 #7&x=1"


@pytest.fixture(scope="module")
def fair_page(tmp_path_factory: pytest.TempPathFactory, use_encoder: Encoder) -> Iterator[str]:
    """A host page embedding a fair that shows one posting with an awkward external id;
    yields the page's URL with the posting's id as its fragment."""
    data_dir = tmp_path_factory.mktemp("apply-link")
    settings = Settings(environment="test", data_dir=data_dir,
                        auth={"rate_limits_per_minute": {}},
                        search={"embedded": {"checkpoint_interval_s": 0.0}})  # fmt: skip
    runtime = Runtime(settings, encoder=use_encoder)
    runtime.start(background=False)
    host_port = free_port()
    with runtime.db.session() as session:
        get_or_create_tenant(session, "szu-career")
        job, _ = upsert_job(session, tenant_id="szu-career", fields={
            "title": "就业指导中心学生助理", "description": "协助组织校园招聘会。",
            "city": "深圳", "external_id": EXTERNAL_ID})  # fmt: skip
        job_id = job.id
        upsert_fair(session, tenant_id="szu-career", fair_id="szu-apply", name="深大招聘会",
                    apply_url=TEMPLATE)  # fmt: skip
        publish(session, fair_id="szu-apply", job_id=job_id, tenant_id="szu-career")
        key = create_key(session, tenant_id="szu-career", role="public", fair_id="szu-apply",
                         pepper=settings.auth.key_pepper.get_secret_value(),
                         origins=[f"http://127.0.0.1:{host_port}"])  # fmt: skip
    runtime.sync.drain()
    runtime.close()
    api, server, _ = start_server(create_app(settings, encoder=use_encoder))
    pages = Path(tmp_path_factory.mktemp("apply-pages"))
    (pages / "index.html").write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<script src="{api}/widget/v1/talentmatch.js" defer></script></head><body>
<talentmatch-search api="{api}" key="{key}" fair="szu-apply" lang="zh"></talentmatch-search>
</body></html>""", encoding="utf-8")  # fmt: skip
    handler = functools.partial(QuietHandler, directory=str(pages))
    host = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{host_port}/index.html#{job_id}"
    host.shutdown()
    host.server_close()
    server.should_exit = True


def test_the_apply_link_carries_the_job_id_and_the_external_id(page: object,
                                                                fair_page: str) -> None:  # fmt: skip
    url, _, job_id = fair_page.partition("#")
    widget = open_widget(page, url)
    widget.locator(".card .open").first.click()
    href = (
        widget.locator("dialog[open]").get_by_role("link", name="申请该职位").get_attribute("href")
    )
    assert href == (
        f"https://career.szu.edu.cn/apply?job={job_id}&ref={quote(EXTERNAL_ID, safe='')}"
        f"&again={job_id}"
    )
