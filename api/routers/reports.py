"""/reports/market: the operator's labour-market report page (zh and en).

The page and its script are static: they hold no data. The operator signs in with an admin
key in the page, which then reads /v1/stats/* with it, so the report shows exactly what the
statistics API shows, under the same scope and suppression.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["reports"], include_in_schema=False)

# The page runs only its own script: no inline code, nothing from another origin.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def _asset(name: str) -> bytes:
    return resources.files("api").joinpath("static", name).read_bytes()


@router.get("/reports/market", response_class=HTMLResponse)
def market_report() -> HTMLResponse:
    return HTMLResponse(
        _asset("market.html"),
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"},
    )  # fmt: skip


@router.get("/reports/market.js")
def market_report_script() -> Response:
    return Response(
        _asset("market.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
