"""The widget states the total as the API does: "共 N 个职位" when exact, "N+ 个职位" /
"N+ jobs" when the API says it counted a lower bound (``total_relation: "gte"``)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.runtime import Runtime
from core.encoder import Encoder
from core.settings import Settings
from ingestion.demo import DEMO_FAIR, FAIR_TENANT, load_demo, load_demo_fair
from store.keys import create_key
from tests.conftest import free_port, start_server
from tests.widget import test_widget_browser as shared
from tests.widget.test_widget_browser import QuietHandler, Site, _host_page, open_widget

# The browser fixtures of the widget's main suite.
browser = shared.browser
page = shared.page

QUERY = "工程师 engineer"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, use_encoder: Encoder) -> Iterator[Site]:
    """A fair whose searches look only 20 deep, so a common word's total is a lower bound."""
    data_dir = tmp_path_factory.mktemp("widget-totals")
    settings = Settings(
        environment="test", data_dir=data_dir, auth={"rate_limits_per_minute": {}},
        search={"checkpoint_interval_s": 0.0, "candidate_depth": 20},
    )  # fmt: skip
    runtime = Runtime(settings, encoder=use_encoder)
    runtime.start(background=False)
    load_demo(runtime.db, runtime.sync, jobs=150, candidates=0)
    load_demo_fair(runtime.db)
    host_port = free_port()
    with runtime.db.session() as session:
        key = create_key(session, tenant_id=FAIR_TENANT, role="public",
                         pepper=settings.auth.key_pepper.get_secret_value(), fair_id=DEMO_FAIR,
                         origins=[f"http://127.0.0.1:{host_port}"])  # fmt: skip
    runtime.close()
    api, server, _ = start_server(create_app(settings, encoder=use_encoder))
    pages = tmp_path_factory.mktemp("totals-pages")
    for lang in ("zh", "en"):
        (pages / f"{lang}.html").write_text(_host_page(api, key, lang), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(pages))
    host = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    yield Site(api=api, page=f"http://127.0.0.1:{host_port}", key=key,
               foreign_page=f"http://localhost:{host_port}", apply_url="")  # fmt: skip
    host.shutdown()
    host.server_close()
    server.should_exit = True


def api_total(site: Site, query: str) -> tuple[int, str]:
    response = httpx.post(
        f"{site.api}/v1/search/jobs", json={"query": query, "page_size": 10},
        headers={"Authorization": f"Bearer {site.key}", "Origin": site.page},
    )  # fmt: skip
    response.raise_for_status()
    body = response.json()
    return body["total"], body["total_relation"]


def status_becomes(tab: Any, widget: Any, text: str) -> None:
    tab.wait_for_function(
        "([el, t]) => el.shadowRoot.querySelector('[role=status]').textContent === t",
        arg=[widget.element_handle(), text],
    )


@pytest.mark.parametrize(("lang", "at_least", "exact"), [
    ("zh", "{n}+ 个职位", "共 {n} 个职位"), ("en", "{n}+ jobs", "{n} jobs"),
])  # fmt: skip
def test_the_widget_says_when_a_total_is_a_lower_bound(
    site: Site, page: Any, lang: str, at_least: str, exact: str
) -> None:
    total, relation = api_total(site, QUERY)
    assert relation == "gte"  # depth 20 is less than what the word matches
    listed, listed_relation = api_total(site, "")
    assert listed_relation == "eq"
    widget = open_widget(page, f"{site.page}/{lang}.html")
    status_becomes(page, widget, exact.format(n=listed))
    widget.locator("input[type=search]").fill(QUERY)
    status_becomes(page, widget, at_least.format(n=total))
