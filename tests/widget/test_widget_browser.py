"""The career-fair widget in a real browser (Debian's Chromium through Playwright) against a
real API server with the sample data, embedded in a host page served from another origin.

Screenshots land in ``$TALENTMATCH_WIDGET_SCREENSHOTS`` (``docs/`` keeps the README's copies)
or in pytest's temporary directory."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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
from tests.widget.chromium import CHROMIUM, sync_api

HOSTILE_CSS = "* { color: red !important; font-size: 40px; }  .btn, h3 { border-radius: 0; }"
RED = "rgb(255, 0, 0)"


@dataclass
class Site:
    api: str  # the TalentMatch server
    page: str  # the host page, on an origin the fair's key allows
    foreign_page: str  # the same page on an origin it does not
    key: str
    apply_url: str


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def _host_page(api: str, key: str, lang: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{HOSTILE_CSS}</style>
<script src="{api}/widget/v1/talentmatch.js" defer></script></head>
<body><h3 class="card" id="outside">The university's own heading</h3>
<button class="btn" id="host-button">Host button</button>
<talentmatch-search api="{api}" key="{key}" fair="{DEMO_FAIR}"{f' lang="{lang}"' if lang else ""}>
</talentmatch-search>
</body></html>"""


def serve_demo_fair(
    tmp_path_factory: pytest.TempPathFactory,
    encoder: Encoder,
    *,
    candidates: int,
    langs: tuple[str, ...],
    search: dict[str, Any] | None = None,
) -> Iterator[Site]:
    """The demo fair (150 sample postings) on a real server, and host pages on another
    origin embedding the widget, one per language ("": no lang attribute)."""
    data_dir = tmp_path_factory.mktemp("widget")
    settings = Settings(
        environment="test", data_dir=data_dir, auth={"rate_limits_per_minute": {}},
        search={"embedded": {"checkpoint_interval_s": 0.0}, **(search or {})},
    )  # fmt: skip
    runtime = Runtime(settings, encoder=encoder)
    runtime.start(background=False)
    load_demo(runtime.db, runtime.sync, jobs=150, candidates=candidates)
    load_demo_fair(runtime.db)
    host_port = free_port()
    with runtime.db.session() as session:
        key = create_key(session, tenant_id=FAIR_TENANT, role="public",
                         pepper=settings.auth.key_pepper.get_secret_value(), fair_id=DEMO_FAIR,
                         origins=[f"http://127.0.0.1:{host_port}"])  # fmt: skip
    runtime.close()

    api, server, _ = start_server(create_app(settings, encoder=encoder))

    pages = tmp_path_factory.mktemp("host-pages")
    for lang in langs:
        (pages / f"{lang or 'auto'}.html").write_text(_host_page(api, key, lang), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(pages))
    host = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    fair = httpx.get(f"{api}/v1/fairs/{DEMO_FAIR}", headers={
        "Authorization": f"Bearer {key}", "Origin": f"http://127.0.0.1:{host_port}"}).json()  # fmt: skip
    yield Site(api=api, page=f"http://127.0.0.1:{host_port}", key=key,
               foreign_page=f"http://localhost:{host_port}", apply_url=fair["apply_url"])  # fmt: skip
    host.shutdown()
    host.server_close()
    server.should_exit = True


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, use_encoder: Encoder) -> Iterator[Site]:
    yield from serve_demo_fair(tmp_path_factory, use_encoder, candidates=5, langs=("zh", "en", ""))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def api_titles(site: Site, query: str, *, lang: str = "zh", **filters: Any) -> list[str]:
    """What the API itself returns for the fair (the widget must show exactly this)."""
    response = httpx.post(
        f"{site.api}/v1/search/jobs",
        json={"query": query, "filters": filters, "page_size": 10},
        headers={"Authorization": f"Bearer {site.key}", "Origin": site.page, "Accept-Language": lang},
    )  # fmt: skip
    response.raise_for_status()
    return [hit["job"]["title"] for hit in response.json()["hits"]]


def open_widget(page: Any, url: str) -> Any:
    page.goto(url)
    widget = page.locator("talentmatch-search")
    widget.locator(".card").first.wait_for()
    return widget


def card_titles(widget: Any) -> list[str]:
    return [t.strip() for t in widget.locator(".card .open").all_inner_texts()]


def search(page: Any, widget: Any, query: str) -> list[str]:
    """Type like a person (the widget searches after a pause) and wait for the new results."""
    status = widget.locator("[role=status]")
    widget.locator("input[type=search]").fill("")
    widget.locator("input[type=search]").press_sequentially(query, delay=30)
    page.wait_for_function(
        """([el, q]) => el.shadowRoot.querySelector('[role=status]').textContent.match(/\\d/)
               && !el.shadowRoot.querySelector('.list').hasAttribute('aria-busy')
               && el._query === q""",
        arg=[widget.element_handle(), query.strip()],
    )
    assert status.inner_text()
    return card_titles(widget)


def test_chinese_and_english_queries_show_the_right_jobs(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    assert card_titles(widget) == api_titles(site, "")  # newest first before any query
    chinese = search(page, widget, "算法工程师")
    assert chinese == api_titles(site, "算法工程师") and chinese
    assert "算法" in chinese[0] or "Algorithm" in chinese[0]
    english = search(page, widget, "chef")
    assert english == api_titles(site, "chef") and english
    assert re.search(r"chef|cook|厨", english[0], re.IGNORECASE)
    # Matched terms are marked in the cards.
    assert widget.locator(".card mark").count() > 0
    mixed = search(page, widget, "Java 后端")
    assert mixed == api_titles(site, "Java 后端")


def test_a_filter_narrows_results_to_its_facet_count(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    city = widget.locator("select").nth(0)
    option = city.locator("option", has_text="广州")
    label = option.inner_text()
    expected = int(re.search(r"\((\d+)\)", label).group(1))  # type: ignore[union-attr]
    city.select_option(label=label)
    page.wait_for_function(
        "([el, n]) => el.shadowRoot.querySelector('[role=status]').textContent === `共 ${n} 个职位`",
        arg=[widget.element_handle(), expected],
    )
    metas = widget.locator(".card .meta").all_inner_texts()
    assert metas and all("广州" in m for m in metas)
    assert card_titles(widget) == api_titles(site, "", city="广州")
    # The district filter opens once a city is chosen; clearing restores everything.
    assert widget.locator("select").nth(1).is_enabled()
    widget.get_by_role("button", name="清除筛选").click()
    page.wait_for_function(
        "el => el.shadowRoot.querySelector('select').value === '' "
        "&& el.shadowRoot.querySelectorAll('select')[1].disabled",
        arg=widget.element_handle(),
    )
    assert widget.locator("select").nth(1).is_disabled()


def test_detail_view_with_the_fairs_apply_link(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    first = widget.locator(".card .open").first
    title = first.inner_text().strip()
    first.click()
    dialog = widget.locator("dialog[open]")
    assert dialog.get_by_role("heading", level=2).inner_text() == title
    assert dialog.locator(".desc").inner_text().strip()
    href = dialog.get_by_role("link", name="申请该职位").get_attribute("href")
    assert href and href.startswith(site.apply_url.split("{job_id}")[0])
    assert re.search(r"job=\d+$", href)
    page.keyboard.press("Escape")
    assert widget.locator("dialog[open]").count() == 0


def test_switching_language(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    search_box = widget.locator("input[type=search]")
    assert "职位" in (search_box.get_attribute("placeholder") or "")
    widget.get_by_role("button", name="Switch to English").click()
    page.wait_for_function(
        "el => /^\\d+ jobs?$/.test(el.shadowRoot.querySelector('[role=status]').textContent)",
        arg=widget.element_handle(),
    )
    assert "Job title" in (search_box.get_attribute("placeholder") or "")
    cities = widget.locator("select").nth(0).locator("option").all_inner_texts()
    assert any(c.startswith("Shenzhen (") for c in cities)
    assert widget.locator(".card .posted").first.inner_text().startswith("Posted")
    widget.get_by_role("button", name="切换到中文").click()
    page.wait_for_function(
        "el => el.shadowRoot.querySelector('[role=status]').textContent.startsWith('共')",
        arg=widget.element_handle(),
    )


@pytest.mark.parametrize(("locale", "placeholder"), [("en-US", "Job title"), ("zh-CN", "职位")])
def test_language_defaults_to_the_browsers(
    browser: Any, site: Site, locale: str, placeholder: str
) -> None:
    context = browser.new_context(locale=locale)
    widget = open_widget(context.new_page(), f"{site.page}/auto.html")
    assert placeholder in (widget.locator("input[type=search]").get_attribute("placeholder") or "")
    context.close()


def test_empty_state_and_a_city_read_from_the_query(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    search(page, widget, "zzqxj")
    assert widget.locator(".card").count() == 0
    assert "没有找到匹配的职位" in widget.locator(".list").inner_text()
    search(page, widget, "工程师 广州")
    assert "已按城市“广州”筛选" in widget.locator("[role=status]").inner_text()
    metas = widget.locator(".card .meta").all_inner_texts()
    assert metas and all("广州" in m for m in metas)


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
        const host = document.activeElement;
        const el = host && host.shadowRoot ? host.shadowRoot.activeElement : host;
        if (!el) return {};
        const style = getComputedStyle(el);
        return {tag: el.tagName, cls: el.className, type: el.type || '',
                outline: style.outlineStyle, width: style.outlineWidth,
                inDialog: !!el.closest('dialog'), text: el.textContent};
    }"""
        )
    )


def test_keyboard_only(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/en.html")
    for _ in range(10):  # from the top of the page to the search box
        page.keyboard.press("Tab")
        if _focused(page).get("type") == "search":
            break
    focused = _focused(page)
    assert focused["type"] == "search" and focused["outline"] == "solid"
    page.keyboard.type("engineer")
    page.keyboard.press("Enter")
    page.wait_for_function("el => el._query === 'engineer'", arg=widget.element_handle())
    widget.locator(".card").first.wait_for()
    for _ in range(20):  # past the button and the filters to the first job
        page.keyboard.press("Tab")
        if "open" in _focused(page).get("cls", ""):
            break
    focused = _focused(page)
    assert "open" in focused["cls"] and focused["outline"] == "solid" and focused["width"] == "3px"
    page.keyboard.press("Enter")
    assert widget.locator("dialog[open]").count() == 1
    assert _focused(page)["inDialog"]
    page.keyboard.press("Escape")
    assert widget.locator("dialog[open]").count() == 0
    assert _focused(page)["text"] == focused["text"]  # back on the job it opened
    # A filter by keyboard: focus the job-type select and pick with arrows (once its options
    # are there: the facet counts that fill it arrive after the results).
    page.wait_for_function(
        "el => el.shadowRoot.querySelectorAll('select')[2].options.length > 1",
        arg=widget.element_handle(),
    )
    widget.locator("select").nth(2).focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        "el => el.shadowRoot.querySelectorAll('select')[2].value !== ''",
        arg=widget.element_handle(),
    )


def test_host_page_css_does_not_leak_in_and_widget_css_does_not_leak_out(
    page: Any, site: Site
) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    inside = widget.locator(".card .open").first.evaluate(
        "el => ({color: getComputedStyle(el).color, size: getComputedStyle(el).fontSize})"
    )
    meta = widget.locator(".card .meta").first.evaluate("el => getComputedStyle(el).fontSize")
    assert inside["color"] != RED and inside["size"] == "16px" and meta == "14px"
    assert widget.locator("input[type=search]").evaluate("el => getComputedStyle(el).color") != RED
    outside = page.locator("#outside").evaluate(
        "el => ({color: getComputedStyle(el).color, size: getComputedStyle(el).fontSize})"
    )
    assert outside == {"color": RED, "size": "40px"}  # the host's own rules still rule there
    host_button = page.locator("#host-button").evaluate(
        "el => ({bg: getComputedStyle(el).backgroundColor, weight: getComputedStyle(el).fontWeight})"
    )
    assert host_button["bg"] != "rgb(11, 87, 208)" and host_button["weight"] != "600"


def test_a_page_on_another_origin_is_refused(page: Any, site: Site) -> None:
    page.goto(f"{site.foreign_page}/zh.html")
    alert = page.locator("talentmatch-search").get_by_role("alert")
    alert.wait_for()
    assert "未获授权" in alert.inner_text()
    assert page.locator("talentmatch-search .card").count() == 0
    # What the browser was refused: the preflight for that origin.
    preflight = httpx.options(
        f"{site.api}/v1/search/jobs",
        headers={"Origin": site.foreign_page, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403


def _contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_contrast_meets_wcag_aa(page: Any, site: Site) -> None:
    widget = open_widget(page, f"{site.page}/zh.html")
    search(page, widget, "工程师")
    pairs = widget.evaluate(
        """el => {
        const root = el.shadowRoot, out = [];
        const bg = (n) => { for (; n; n = n.parentElement) { const c = getComputedStyle(n).backgroundColor;
            if (c !== 'rgba(0, 0, 0, 0)') return c; } return 'rgb(255, 255, 255)'; };
        for (const sel of ['.open', '.meta', '.snippet', '.posted', 'mark', '.chips li',
                           '[role=status]', 'label span', 'select', '.btn', '.lang', 'input']) {
            const n = root.querySelector(sel);
            if (n) out.push([sel, getComputedStyle(n).color, bg(n)]);
        }
        return out;
    }"""
    )
    assert len(pairs) >= 10
    for selector, foreground, background in pairs:
        assert _contrast(foreground, background) >= 4.5, (selector, foreground, background)


def test_phone_width_and_screenshots(
    browser: Any, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = Path(
        os.environ.get("TALENTMATCH_WIDGET_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots")
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, viewport in [("desktop", (1200, 900)), ("phone", (390, 844))]:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN",
            device_scale_factor=1, is_mobile=name == "phone", has_touch=name == "phone",
        )  # fmt: skip
        tab = context.new_page()
        widget = open_widget(tab, f"{site.page}/zh.html")
        search(tab, widget, "工程师 深圳")
        overflow = tab.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px wider than the screen"
        widget.screenshot(path=str(out / f"widget-{name}.png"))
        widget.locator(".card .open").first.click()
        tab.screenshot(path=str(out / f"widget-{name}-detail.png"))
        context.close()
    assert (out / "widget-phone.png").stat().st_size > 10_000
    if os.environ.get("TALENTMATCH_WIDGET_SCREENSHOTS") is None:
        shutil.rmtree(out, ignore_errors=True)
