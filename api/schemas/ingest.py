"""File intake results and bulk ingest jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
)


class FileError(BaseModel):
    code: str
    message: str


class FileResultRead(BaseModel):
    filename: str
    status: Literal["created", "updated", "error"]
    id: int | None = None
    error: FileError | None = None


class FileResults(BaseModel):
    results: list[FileResultRead]


class IngestJobRead(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    entity: str
    format: str
    filename: str
    total: int
    done: int
    succeeded: int
    failed: int
    rate_per_s: float | None
    eta_s: float | None
    errors: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
