"""One log line per request, and the request id that every response carries.

A line holds the request id, method, route template (``/v1/jobs/{job_id}``, never the raw
path), status, latency and, once authenticated, the tenant and key id: never the query
string, headers or body, which is where personal data would be."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

REQUEST_LOGGER = "talentmatch.requests"
log = logging.getLogger(REQUEST_LOGGER)
# A client's id is kept only when it is a plain token: anything else could forge log lines
# or smuggle data into them.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
UNMATCHED_ROUTE = "unmatched"


@dataclass(frozen=True)
class FinishedRequest:
    """What is known about a request once its response has started."""

    request_id: str
    method: str
    route: str
    status: int
    seconds: float
    tenant_id: str | None
    key_id: str | None


def request_id_of(scope: Scope) -> str | None:
    """The id ``RequestLog`` gave this request (None outside it)."""
    state = scope.get("state")
    return state.get("request_id") if isinstance(state, dict) else None


def route_template(scope: Scope) -> str:
    """The matched route's path template; one label for every path no route matched, so
    scanners probing random URLs cannot grow the metrics' label set."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_REQUEST_ID.fullmatch(text) else None
    return None


class RequestLog:
    """Pure ASGI middleware (``BaseHTTPMiddleware`` would cost a task and a queue per
    request): assigns the request id, echoes it as ``X-Request-ID``, and when the response
    starts logs one line and hands the outcome to each observer (the metrics)."""

    def __init__(
        self, app: ASGIApp, observers: Sequence[Callable[[FinishedRequest], None]] = ()
    ) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                self._finish(scope, request_id, int(message["status"]), began)
            await send(message)

        await self.app(scope, receive, send_with_id)

    def _finish(self, scope: Scope, request_id: str, status: int, began: float) -> None:
        principal = scope.get("state", {}).get("principal")
        finished = FinishedRequest(
            request_id=request_id,
            method=str(scope.get("method", "")),
            route=route_template(scope),
            status=status,
            seconds=time.perf_counter() - began,
            tenant_id=getattr(principal, "tenant_id", None),
            key_id=getattr(principal, "key_id", None),
        )
        for observe in self.observers:
            observe(finished)
        log.info(
            "%s %s %d %.1f ms request_id=%s tenant=%s key=%s",
            finished.method,
            finished.route,
            finished.status,
            finished.seconds * 1000,
            finished.request_id,
            finished.tenant_id or "-",
            finished.key_id or "-",
            extra={"request": finished},
        )


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and for request lines the
    request's fields at the top level (``request_id``, ``route``, ``latency_ms``...)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        finished = getattr(record, "request", None)
        if isinstance(finished, FinishedRequest):
            line.update(
                message="request",
                request_id=finished.request_id,
                method=finished.method,
                route=finished.route,
                status=finished.status,
                latency_ms=round(finished.seconds * 1000, 2),
            )
            if finished.tenant_id is not None:
                line.update(tenant_id=finished.tenant_id, key_id=finished.key_id)
        else:
            line["message"] = record.getMessage()
            if record.exc_info:
                # Exception types only: messages and tracebacks carry the failing data.
                line["exception"] = getattr(record.exc_info[0], "__name__", "exception")
        return json.dumps(line, ensure_ascii=False)


def logging_config(settings: Settings) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` that ``talentmatch serve`` hands uvicorn (which
    applies it in every worker process): request lines at INFO, everything else from
    WARNING, as JSON or text by ``settings.request_log_format``. uvicorn's access log is
    left out: it prints raw paths with their query strings."""
    text = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLogFormatter"}
        if settings.request_log_format == "json"
        else {"format": text}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            REQUEST_LOGGER: {"level": "INFO"},
            "uvicorn": {"level": "INFO"},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }
