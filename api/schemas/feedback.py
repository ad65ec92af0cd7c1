"""Feedback on matches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from api.schemas.common import BodyId
from ingestion.records import NoControlCharacters, StrictModel

FeedbackAction = Literal[
    "viewed", "shortlisted", "contacted", "interviewed", "hired", "rejected", "applied", "saved"
]


class FeedbackCreate(StrictModel):
    job_id: BodyId
    candidate_id: BodyId
    action: FeedbackAction
    actor: Literal["recruiter", "seeker"] = "recruiter"
    reason: Annotated[str, StringConstraints(max_length=500), NoControlCharacters] | None = None
    model_version: Annotated[str, StringConstraints(max_length=64), NoControlCharacters] | None = (
        Field(None, description="the model_version of the match response the actor acted on")
    )


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    candidate_id: int
    action: str
    actor: str
    reason: str | None
    model_version: str | None
    created_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackRead]
    page: int
    page_size: int
