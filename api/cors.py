"""CORS for browser keys: a page may call the API only from an origin that a public key
lists. Preflights carry no key, so they are answered for any origin some active public
key allows; the request itself is then checked against its own key's origins (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.errors import error_body
from api.request_log import request_id_of

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Accept-Language, X-Request-ID"


async def cors_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    origin = request.headers.get("origin")
    if not origin or not request.url.path.startswith("/v1/"):
        return await call_next(request)
    runtime = getattr(request.app.state, "runtime", None)
    allowed = runtime is not None and origin.rstrip("/").lower() in await run_in_threadpool(
        runtime.browser_origins
    )
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        if not allowed:
            return JSONResponse(
                error_body("origin_not_allowed", f"no key allows origin {origin}",
                           request_id=request_id_of(request.scope)), 403,
                headers={"Vary": "Origin"},
            )  # fmt: skip
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
    response = await call_next(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, X-Request-ID"
    response.headers["Vary"] = "Origin"
    return response
