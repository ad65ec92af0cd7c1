"""What ``/readyz`` checks: each dependency the service needs to answer requests."""

from __future__ import annotations

import logging

from api.runtime import Runtime
from api.schemas.health import Readiness, ReadinessCheck
from core.errors import TalentMatchError
from core.log_safety import describe_failure
from store.operations import database_answers, outbox_state

log = logging.getLogger(__name__)
# A probe must answer quickly even while Redis hangs: the orchestrator's own timeout is
# typically 1 s.
REDIS_TIMEOUT_S = 0.5


def _failure(what: str, exc: Exception) -> ReadinessCheck:
    """A failed check: our own errors say why in words; others by type only (their messages
    can carry connection strings or stored data), with the raise sites in the log."""
    log.warning("readiness: %s failed: %s", what, describe_failure(exc))
    if isinstance(exc, TalentMatchError):
        return ReadinessCheck(ok=False, detail=exc.message)
    return ReadinessCheck(ok=False, detail=f"{type(exc).__name__}")


def _ping_redis(url: str) -> None:
    import redis  # only where Redis is configured

    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()


def check_readiness(runtime: Runtime) -> Readiness:
    """Run every check; the service is ready when all pass."""
    checks: dict[str, ReadinessCheck] = {}
    pending: int | None = None
    try:
        with runtime.db.session() as session:
            database_answers(session)
            pending = outbox_state(session).pending
        checks["database"] = ReadinessCheck(ok=True, detail="answers")
    except Exception as exc:
        checks["database"] = _failure("database", exc)
    for kind, index in runtime.indexes.items():
        try:
            checks[f"index.{kind.value}"] = ReadinessCheck(
                ok=True, detail=f"{index.count()} documents"
            )
        except Exception as exc:
            checks[f"index.{kind.value}"] = _failure(f"index {kind.value}", exc)
    caught_up = runtime.index_state == "ready"
    checks["index_caught_up"] = ReadinessCheck(
        ok=caught_up,
        detail="caught up with the database" if caught_up else "catching up after the start",
    )
    limit = runtime.settings.readiness_max_backlog
    checks["outbox_backlog"] = (
        ReadinessCheck(ok=False, detail="unknown: the database does not answer")
        if pending is None
        else ReadinessCheck(
            ok=pending <= limit, detail=f"{pending} events waiting (not ready above {limit})"
        )
    )
    if runtime.settings.redis_url:
        try:
            _ping_redis(runtime.settings.redis_url)
            checks["redis"] = ReadinessCheck(ok=True, detail="answers")
        except Exception as exc:
            checks["redis"] = _failure("redis", exc)
    ready = all(check.ok for check in checks.values())
    return Readiness(
        status="ready" if ready else "not_ready", checks=checks, outbox_backlog=pending
    )
