"""Postings as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from api.schemas.compliance import ComplianceRead
from api.schemas.occupations import OccupationGroupRead


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: str
    external_id: str | None
    title: str
    description: str
    company: str | None
    city: str | None
    city_code: int | None
    district: str | None
    district_code: int | None
    remote: bool
    salary_min: float | None
    salary_max: float | None
    employment_type: str
    required_skills: list[str]
    preferred_skills: list[str]
    min_years_experience: float | None
    education: str | None
    language: str | None
    private: bool
    occupation_code: str | None
    occupation_confidence: float | None
    occupation_name: str | None = Field(
        None,
        description="the code's name: CSCO names are Chinese and ISCO-08 names English whatever "
        "Accept-Language asks (occupation_name_language says which); the major group of the "
        "hierarchy is named in the asked language",
    )
    occupation_name_language: str | None = None
    occupation_hierarchy: list[OccupationGroupRead] = []
    duplicate_of: int | None
    salary_months: int | None
    benefits: list[str]
    extraction: dict[str, Any] | None
    compliance: ComplianceRead | None = Field(
        None, description="discriminatory requirements found in the posting (None: not checked)"
    )
    posted_at: datetime
    headcount: int
    valid_through: datetime | None
    created_at: datetime
    updated_at: datetime


class JobPage(BaseModel):
    items: list[JobRead]
    total: int
    page: int
    page_size: int
