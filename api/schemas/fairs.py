"""Career fairs, their postings and publishing requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from api.schemas.jobs import JobRead
from ingestion.records import NoControlCharacters, StrictModel

TenantName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class FairCreate(StrictModel):
    id: Annotated[str, StringConstraints(min_length=2, max_length=64), NoControlCharacters]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), NoControlCharacters]
    apply_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None,
        description="the widget's apply link (http or https); {job_id} and {external_id} "
        "are filled in",
    )
    publishers: list[TenantName] = Field(
        default_factory=list,
        max_length=1000,
        description="agency tenants whose postings the fair shows as soon as they publish them",
    )
    approval: Literal["review", "allow_list_only"] = Field(
        "review",
        description="other agencies' requests: wait for the fair's approval (review), or are "
        "refused (allow_list_only); the fair itself shows any public posting",
    )

    @field_validator("apply_url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        # The widget puts this link in front of students: a javascript: or data: URL there
        # would run in the career office's page.
        if value is None:
            return None
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
            raise ValueError("must be an http:// or https:// link")
        if any(ch.isspace() or ord(ch) < 32 for ch in value):
            raise ValueError("must not contain spaces or control characters")
        return value


class FairRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    name: str
    apply_url: str | None
    publishers: list[str] | None = Field(
        None, description="agencies that publish directly (shown to the fair's own keys only)"
    )
    approval: Literal["review", "allow_list_only"] | None = Field(
        None, description="what happens to other agencies' requests (the fair's own keys only)"
    )
    postings: int = Field(0, description="postings shown at the fair that the caller can see")


FairPostingStatus = Literal["pending", "approved", "rejected", "withdrawn"]


class FairPostingRead(BaseModel):
    """A posting's standing at a fair: shown (approved), waiting for the fair (pending), or
    kept off it by the fair (rejected, withdrawn)."""

    model_config = ConfigDict(from_attributes=True)

    fair_id: str
    job_id: int
    status: FairPostingStatus
    published: bool = Field(description="whether the fair shows it (status approved)")
    published_by: str = Field(description="the tenant that published it or asked to")
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class FairRequestRead(FairPostingRead):
    job: JobRead


class FairRequestPage(BaseModel):
    items: list[FairRequestRead]
    page: int
    page_size: int
