"""CORS for browser keys: a page may call the API only from an origin that a public key
lists. Preflights carry no key, so they are answered for any origin some active public
key allows; the request itself is then checked against its own key's origins (403)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.request_log import request_id_of

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Accept-Language, X-Request-ID"


class Cors:
    """Pure ASGI middleware (``BaseHTTPMiddleware`` would cost a task and a queue per
    request): answers preflights and marks the responses to allowed origins."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        allowed = await _allowed(scope, origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(origin, allowed, scope)(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                marked = MutableHeaders(scope=message)
                if allowed:
                    marked["Access-Control-Allow-Origin"] = origin
                    marked["Access-Control-Expose-Headers"] = "Retry-After, X-Request-ID"
                marked["Vary"] = "Origin"
            await send(message)

        await self.app(scope, receive, send_marked)


async def _allowed(scope: Scope, origin: str) -> bool:
    runtime = getattr(scope["app"].state, "runtime", None)
    if runtime is None:
        return False
    origins = runtime.cached_browser_origins()
    if origins is None:  # stale: re-read from the database, off the event loop
        origins = await run_in_threadpool(runtime.browser_origins)
    return origin.rstrip("/").lower() in origins


def _preflight(origin: str, allowed: bool, scope: Scope) -> Response:
    if not allowed:
        return JSONResponse(
            error_body("origin_not_allowed", f"no key allows origin {origin}",
                       request_id=request_id_of(scope)), 403,
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
