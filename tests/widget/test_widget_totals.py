"""The widget states the total as the API does: "共 N 个职位" when exact, "N+ 个职位" /
"N+ jobs" when the API says it counted a lower bound (``total_relation: "gte"``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.encoder import Encoder
from tests.widget import test_widget_browser as shared
from tests.widget.test_widget_browser import Site, open_widget

# The browser fixtures of the widget's main suite.
browser = shared.browser
page = shared.page

QUERY = "工程师 engineer"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, use_encoder: Encoder) -> Iterator[Site]:
    """A fair whose searches look only 20 deep, so a common word's total is a lower bound."""
    yield from shared.serve_demo_fair(
        tmp_path_factory,
        use_encoder,
        candidates=0,
        langs=("zh", "en"),
        search={"candidate_depth": 20},
    )


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
