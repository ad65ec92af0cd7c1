"""The widget's script and demo page as the API serves them (the browser tests are in
tests/widget)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ingestion.demo import DEMO_FAIR, demo_widget_key, load_demo_fair
from tests.conftest import Api

pytestmark = pytest.mark.anyio

SCRIPT = Path(__file__).parents[2] / "widget" / "talentmatch.js"


async def test_the_script_is_small_cached_and_compressed(api: Api) -> None:
    assert len(gzip.compress(SCRIPT.read_bytes(), 9)) <= 30 * 1024  # the budget
    plain = await api.client.get(
        "/widget/v1/talentmatch.js", headers={"Accept-Encoding": "identity"}
    )
    assert plain.status_code == 200 and plain.content == SCRIPT.read_bytes()
    assert plain.headers["content-type"].startswith("text/javascript")
    assert "max-age=3600" in plain.headers["cache-control"] and plain.headers["etag"]
    assert plain.headers["cross-origin-resource-policy"] == "cross-origin"
    packed = await api.client.get("/widget/v1/talentmatch.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.content == plain.content
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    again = await api.client.get(
        "/widget/v1/talentmatch.js", headers={"If-None-Match": plain.headers["etag"]}
    )
    assert again.status_code == 304 and not again.content
    # No cookies, no third-party hosts in the widget.
    source = SCRIPT.read_text()
    assert "document.cookie" not in source and "localStorage" not in source
    assert "http://" not in source.replace("http://www.w3.org", "")
    assert "https://" not in source.replace("https://HOST", "")


async def test_demo_page_needs_the_demo_fair_and_embeds_its_key(api: Api) -> None:
    missing = await api.client.get("/widget/demo")
    assert missing.status_code == 404 and "serve --demo" in missing.text
    runtime = api.runtime
    await api.create_job("acme", title="Python 工程师")
    assert load_demo_fair(runtime.db) == 1
    pepper = runtime.settings.auth.key_pepper.get_secret_value()
    data_dir = runtime.settings.data_dir
    key = demo_widget_key(runtime.db, data_dir, ["http://testserver"], pepper=pepper)
    # The same origins reuse the saved key; other origins get a new one.
    assert demo_widget_key(runtime.db, data_dir, ["http://testserver/"], pepper=pepper) == key
    assert demo_widget_key(runtime.db, data_dir, ["http://other"], pepper=pepper) != key
    key = demo_widget_key(runtime.db, data_dir, ["http://testserver"], pepper=pepper)
    page = await api.client.get("/widget/demo")
    assert page.status_code == 200
    assert f'key="{key}"' in page.text and f'fair="{DEMO_FAIR}"' in page.text
    assert 'src="http://testserver/widget/v1/talentmatch.js"' in page.text
    # The page's own same-origin requests carry a Referer, not an Origin, on GETs.
    fair = await api.client.get(f"/v1/fairs/{DEMO_FAIR}", headers={
        "Authorization": f"Bearer {key}", "Referer": "http://testserver/widget/demo"})  # fmt: skip
    assert fair.status_code == 200 and fair.json()["postings"] == 1
