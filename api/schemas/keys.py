"""API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from ingestion.records import CleanStr, NoControlCharacters, StoredDatetime, StrictModel


class KeyCreate(StrictModel):
    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64), NoControlCharacters]
    role: Literal["admin", "agency", "fair", "partner", "public"]
    scopes: list[CleanStr] | None = None
    origins: list[CleanStr] | None = None
    fair: CleanStr | None = None
    expires_at: StoredDatetime | None = None


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    role: str
    scopes: list[str]
    origins: list[str]
    fair_id: str | None
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    replaced_by: str | None


class KeyCreated(KeyRead):
    key: str = Field(description="the full key: shown only now")
