"""Matches in both directions, with the factors and evidence that explain them."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    Field,
)

from api.schemas.candidates import CandidateRead
from api.schemas.jobs import JobRead


class FactorRead(BaseModel):
    score: float | None
    weight: float
    contribution: float
    detail: str
    hard_mismatch: bool = False


class SkillEvidenceRead(BaseModel):
    skill: str
    source: str = Field(description="experience[i], summary, resume_text, or skills (listed only)")
    text: str


class MatchFields(BaseModel):
    id: int
    score: float
    breakdown: dict[str, FactorRead]
    hard_mismatches: list[str]
    matched_skills: list[str]
    missing_skills: list[str] = Field(
        description="missing required skills (as in missing_required_skills)"
    )
    missing_required_skills: list[str]
    skill_evidence: list[SkillEvidenceRead]
    reasons: list[str] = Field(
        description="one line each, in the Accept-Language language (zh or en)"
    )
    missing_preferred_skills: list[str]


class CandidateMatch(MatchFields):
    candidate: CandidateRead


class JobMatch(MatchFields):
    job: JobRead


class CandidateMatches(BaseModel):
    job_id: int
    model_version: str
    blind: bool = False
    matches: list[CandidateMatch]


class JobMatches(BaseModel):
    candidate_id: int
    model_version: str
    blind: bool = False
    matches: list[JobMatch]
