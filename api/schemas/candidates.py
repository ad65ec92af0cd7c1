"""Candidate profiles as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from api.schemas.occupations import OccupationGroupRead


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    external_id: str | None
    matched_on: str | None
    received_at: datetime


class CandidateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: str
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    city: str | None
    city_code: int | None
    desired_titles: list[str]
    desired_salary_min: float | None
    desired_salary_max: float | None
    desired_salary_months: int | None
    years_experience: float | None
    education: dict[str, Any] | None
    experience: list[dict[str, Any]]
    skills: list[str]
    languages: list[str]
    certificates: list[str]
    summary: str | None
    resume_text: str | None
    extracted_fields: list[str]
    extraction: dict[str, Any] | None
    occupation_code: str | None
    occupation_name: str | None = Field(
        None,
        description="the code's name: CSCO names are Chinese and ISCO-08 names English whatever "
        "Accept-Language asks (occupation_name_language says which); the major group of the "
        "hierarchy is named in the asked language",
    )
    occupation_name_language: str | None = None
    occupation_hierarchy: list[OccupationGroupRead] = []
    sources: list[SourceRead]
    created_at: datetime
    updated_at: datetime


class CandidatePage(BaseModel):
    items: list[CandidateRead]
    total: int
    page: int
    page_size: int
