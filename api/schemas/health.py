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
