"""Refuses URLs whose path or query holds control characters (``%00`` and the like) before a
route sees them: PostgreSQL cannot store or even compare text with NUL, so an id or a
``purpose`` carrying one would otherwise reach the database and fail there."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body
from api.request_log import request_id_of

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ControlCharactersInUrl:
    """Pure ASGI middleware: 422 ``invalid_input`` naming ``path`` or ``query``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
            for field, value in (("path", scope.get("path", "")), ("query", query)):
                if _CONTROL.search(value):
                    message = f"the URL's {field} contains control characters"
                    body = error_body("invalid_input", message, [{"field": field,
                                      "message": message}], request_id=request_id_of(scope))  # fmt: skip
                    await JSONResponse(body, 422)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
