"""The health report."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
)


class Health(BaseModel):
    status: Literal["ok"]
    # "catching_up" after a start while the index applies the backlog (searches answer
    # from what is indexed so far), then "ready".
    index: Literal["ready", "catching_up"]
    jobs_indexed: int
    candidates_indexed: int
    outbox_backlog: int
    embedding_model: str


class Liveness(BaseModel):
    status: Literal["alive"]


class ReadinessCheck(BaseModel):
    ok: bool
    # Why it failed, or what was seen: never a stack trace or stored data.
    detail: str


class Readiness(BaseModel):
    """Each check by name: ``database``, ``index.job``, ``index.candidate``,
    ``index_caught_up``, ``outbox_backlog`` and, when Redis is configured, ``redis``."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, ReadinessCheck]
    # None while the database does not answer.
    outbox_backlog: int | None
