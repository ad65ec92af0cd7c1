"""The one place that turns domain errors into HTTP responses:
``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.request_log import request_id_of
from core.compliance import render_flag
from core.errors import (
    Conflict,
    Forbidden,
    IndexUnavailable,
    InvalidInput,
    NoncompliantPosting,
    NotFound,
    RateLimited,
    TalentMatchError,
    Unauthorized,
)
from core.log_safety import describe_failure
from matching.explain import preferred_language

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[TalentMatchError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unauthorized: 401,
    Forbidden: 403,
    IndexUnavailable: 503,
    RateLimited: 429,
}


def error_body(
    code: str, message: str, details: Any = None, *, request_id: str | None = None
) -> dict[str, Any]:
    """The error envelope; ``request_id`` lets a caller's report be found in the logs."""
    error: dict[str, Any] = {"code": code, "message": message, "details": details}
    if request_id is not None:
        error["request_id"] = request_id
    return {"error": error}


def _status_for(exc: TalentMatchError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TalentMatchError)
    async def _domain_error(request: Request, exc: TalentMatchError) -> JSONResponse:
        status = _status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "1"}
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_s)}
        details = exc.details
        if isinstance(exc, NoncompliantPosting):  # flags explained in the caller's language
            language = preferred_language(request.headers.get("accept-language"))
            rendered = [render_flag(flag, language) for flag in exc.flags]
            details = [{"field": f["field"], "message": f["explanation"], **f} for f in rendered]
        body = error_body(exc.code, exc.message, details, request_id=request_id_of(request.scope))
        return JSONResponse(body, status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for error in exc.errors():
            message = str(error.get("msg", "invalid value"))
            if error.get("type") == "extra_forbidden":
                message = "unknown field"
            details.append(
                {
                    "field": _field_path(tuple(error.get("loc", ()))),
                    "message": message,
                    "type": error.get("type"),
                }
            )
        fields = ", ".join(dict.fromkeys(d["field"] for d in details))
        return JSONResponse(
            error_body(
                "validation_error",
                f"invalid request: {fields}",
                details,
                request_id=request_id_of(request.scope),
            ),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail), request_id=request_id_of(request.scope)),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )


class UnhandledErrors:
    """Outermost guard: an exception no handler took becomes a JSON 500, and the log gets its
    types and raise sites only. Re-raising (Starlette's default) would have the server print
    the full traceback, messages included, and those carry SQL parameters and résumé text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            log.error("unhandled error on %s %s: %s", scope.get("method"), scope.get("path"),
                      describe_failure(exc))  # fmt: skip
            if started:  # too late for a response of our own; the connection just ends
                return
            response = JSONResponse(
                error_body(
                    "internal_error",
                    "an internal error occurred; it has been logged",
                    request_id=request_id_of(scope),
                ),
                500,
            )
            await response(scope, receive, send)
