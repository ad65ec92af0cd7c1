"""Posting compliance as the API shows it, the operator's review queue and tenant policy."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ingestion.records import ShortText, StrictModel

ComplianceStatus = Literal["ok", "advisory", "unlawful"]
ComplianceLevel = Literal["unlawful", "advisory"]
ComplianceCategory = Literal[
    "sex", "marital_childbearing", "pregnancy_test", "age", "ethnicity_religion",
    "hukou_origin", "health", "disability", "school_tier", "appearance",
]  # fmt: skip


class LegalBasis(BaseModel):
    law: str
    article: str = Field(description="the article number, or — for a notice")


class FlagReview(BaseModel):
    decision: Literal["confirmed", "false_positive"]
    note: str | None = None
    reviewed_at: datetime


class ComplianceFlagRead(BaseModel):
    category: ComplianceCategory
    level: ComplianceLevel
    field: str = Field(description="the posting field it is in: title, description, ...")
    text: str = Field(description="the phrase, as written in the posting")
    span: list[int] = Field(description="[start, end) of text in that field")
    basis: list[LegalBasis]
    explanation: str = Field(description="in the Accept-Language language (zh or en)")
    suggestion: str = Field(description="a neutral rewrite of the sentence")
    review: FlagReview | None = Field(None, description="the operator's review (admin keys)")


class ComplianceRead(BaseModel):
    status: ComplianceStatus = Field(
        description="unlawful when any flag is (a fair never shows the posting), else "
        "advisory when any flag is, else ok; a flag reviewed as a false positive counts for "
        "nothing"
    )
    flags: list[ComplianceFlagRead]


class QueueItem(BaseModel):
    job_id: int
    tenant_id: str = Field(description="the agency that posted it")
    tenant_name: str
    title: str
    status: ComplianceStatus
    flags: list[ComplianceFlagRead]
    updated_at: datetime


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int
    page: int
    page_size: int


class ReviewCreate(StrictModel):
    decision: Literal["confirmed", "false_positive"]
    note: ShortText | None = None


class TenantUpdate(StrictModel):
    compliance_policy: Literal["warn", "block"]


class TenantRead(BaseModel):
    id: str
    name: str
    compliance_policy: Literal["warn", "block"]
