"""The career-fair widget: its script (cached by browsers and proxies, gzip when asked) and
a demo page embedding it against the sample data's fair."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep
from ingestion.demo import WIDGET_DEMO_FILE

router = APIRouter(tags=["widget"], include_in_schema=False)

# Browsers revalidate after an hour (a 304 when unchanged): a new release reaches every
# embedding page within the hour without the page changing its script tag.
CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str


@cache
def widget_script() -> Asset:
    body = resources.files("widget").joinpath("talentmatch.js").read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(body=body, gzipped=gzip.compress(body, 9, mtime=0), etag=f'"{digest}"')


@router.get("/widget/v1/talentmatch.js")
def script(request: Request) -> Response:
    asset = widget_script()
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        # Loaded by other sites' pages, including ones that isolate themselves (COEP).
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/widget/demo", response_class=HTMLResponse)
def demo(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """The widget on a stand-in university page, with the demo fair's browser key
    (``talentmatch serve --demo`` creates both)."""
    saved = runtime.settings.data_dir / WIDGET_DEMO_FILE
    if not saved.exists():
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>No demo fair</title>"
            "<p>No demo career fair here: start the server with <code>talentmatch serve "
            "--demo</code>.</p>",
            status_code=404,
        )
    demo = json.loads(saved.read_text())
    api = str(request.base_url).rstrip("/")
    values = {"api": api, "script_url": f"{api}/widget/v1/talentmatch.js",
              "key": demo["key"], "fair": demo["fair"]}  # fmt: skip
    page = resources.files("widget").joinpath("demo.html").read_text(encoding="utf-8")
    for name, value in values.items():
        page = page.replace("{" + name + "}", html.escape(value))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
