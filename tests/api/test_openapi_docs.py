"""The OpenAPI document declares the bearer scheme on every operation that needs a key, and
/docs and /redoc load every script, style and icon from this server (no CDN)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio
BEARER = [{"bearerAuth": []}]


class AssetLinks(HTMLParser):
    """Every ``<script src>`` and ``<link href>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, url in attrs:
            if name == wanted and url:
                self.urls.append(url)


async def test_protected_operations_reference_the_bearer_scheme(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    paths = spec["paths"]
    for path, method in (
        ("/v1/jobs", "post"),
        ("/v1/jobs/{job_id}", "get"),
        ("/v1/search/candidates", "post"),
        ("/v1/candidates/{candidate_id}/matches", "get"),
        ("/v1/admin/keys", "post"),
        ("/metrics", "get"),
    ):
        assert paths[path][method].get("security") == BEARER, (path, method)
    for path in ("/livez", "/readyz", "/healthz"):
        assert "security" not in paths[path]["get"], path
    # The scheme only documents the header: a request without it is still a JSON 401.
    refused = await api.client.post("/v1/jobs", json={"title": "会计"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_every_asset_from_this_server(api: Api, page: str) -> None:
    response = await api.client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = AssetLinks()
    links.feed(response.text)
    assert any(url.endswith(".js") for url in links.urls), links.urls
    for url in links.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await api.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
    assert "cdn.jsdelivr" not in response.text and "fonts.googleapis" not in response.text
    assert "/openapi.json" in response.text
    if page == "/docs":
        assert any(url.endswith("swagger-ui.css") for url in links.urls)
        assert "validator.swagger.io" not in response.text
