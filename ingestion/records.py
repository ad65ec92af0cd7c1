"""Input records of postings and candidates, validated alike for the API and for bulk
loads: the field models, their validators and the constrained text, number and date types
every input schema builds on. ``*Create``/``*Update`` reject unknown fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.domain import EmploymentType, parse_education_level

# C0 control characters other than tab, newline and CR, and lone surrogates (JSON's "\ud800"):
# never text, and PostgreSQL refuses NUL in any text column.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _no_control_characters(value: str) -> str:
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError(
            "must not contain NUL, other control characters (tab, newline and carriage return "
            "are fine) or unpaired surrogates"
        )
    return value


# The earliest and latest instants any stored date may be (a year-1 date with a positive
# offset is before year 1 in UTC: no database or datetime can hold it).
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


_LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)


def _datetime_in_range(value: datetime) -> datetime:
    try:
        instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        instant = None
    if instant is None or not _EARLIEST <= instant <= _LATEST:
        raise ValueError(
            "must be between 1970-01-01 and 2200-12-31 (UTC; a time without offset is UTC)"
        )
    return value


NoControlCharacters = AfterValidator(_no_control_characters)


# Any text a client sends that may be stored; add length limits with StringConstraints.
CleanStr = Annotated[str, NoControlCharacters]


# A date and time that every database stores and every conversion to UTC survives.
StoredDatetime = Annotated[datetime, AfterValidator(_datetime_in_range)]


YearMonth = Annotated[str, StringConstraints(pattern=r"^(19|20)\d\d-(0[1-9]|1[0-2])$")]


ShortText = Annotated[str, StringConstraints(max_length=300), NoControlCharacters]


SkillName = Annotated[str, StringConstraints(min_length=1, max_length=100), NoControlCharacters]


# As long as the database's column: a longer one would pass here and fail on PostgreSQL.
ExternalId = Annotated[str, StringConstraints(max_length=200), NoControlCharacters]


Money = Annotated[float, Field(ge=0, le=10_000_000)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def education_name(value: Any) -> Any:
    """An education level in any accepted spelling (本科, Bachelor) as its canonical name."""
    if isinstance(value, str) and value.strip():
        try:
            return parse_education_level(value).value
        except ValueError as exc:
            raise ValueError(
                "unknown education level; use none, high_school, associate, bachelor, master, "
                "doctorate (or 不限/高中/大专/本科/硕士/博士)"
            ) from exc
    return value


EducationName = Literal["none", "high_school", "associate", "bachelor", "master", "doctorate"]


class JobFields(StrictModel):
    external_id: ExternalId | None = None
    description: Annotated[str, StringConstraints(max_length=50_000), NoControlCharacters] = ""
    company: ShortText | None = None
    city: Annotated[str, StringConstraints(max_length=100), NoControlCharacters] | None = None
    district: Annotated[str, StringConstraints(max_length=100), NoControlCharacters] | None = None
    remote: bool = False
    # salary_max is declared first so that salary_min's validator can compare against it.
    salary_max: Money | None = Field(None, description="monthly CNY")
    salary_min: Money | None = Field(None, description="monthly CNY")
    employment_type: EmploymentType = EmploymentType.FULL_TIME
    required_skills: Annotated[list[SkillName], Field(max_length=100)] = []
    preferred_skills: Annotated[list[SkillName], Field(max_length=100)] = []
    min_years_experience: Annotated[float, Field(ge=0, le=60)] | None = None
    education: EducationName | None = None
    language: Annotated[str, StringConstraints(max_length=16), NoControlCharacters] | None = None
    private: bool = False
    posted_at: StoredDatetime | None = None
    salary_months: Annotated[int, Field(ge=1, le=24)] | None = Field(
        None, description="months paid per year (13薪 → 13)"
    )
    benefits: Annotated[list[ShortText], Field(max_length=50)] = []
    headcount: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1, description="positions to fill (招聘人数)"
    )
    valid_through: StoredDatetime | None = Field(
        None, description="when applications close; by default 90 days after posted_at"
    )

    _education = field_validator("education", mode="before")(education_name)

    @field_validator("salary_min")
    @classmethod
    def _salary_order(cls, value: float | None, info: ValidationInfo) -> float | None:
        high = info.data.get("salary_max")
        if value is not None and high is not None and value > high:
            raise ValueError("salary_min must not exceed salary_max")
        return value


class JobCreate(JobFields):
    title: Annotated[str, StringConstraints(min_length=1, max_length=300), NoControlCharacters]


class JobUpdate(JobFields):
    """Every field optional; only the fields sent change."""

    title: (
        Annotated[str, StringConstraints(min_length=1, max_length=300), NoControlCharacters] | None
    ) = None
    description: (
        Annotated[str, StringConstraints(max_length=50_000), NoControlCharacters] | None
    ) = None  # type: ignore[assignment]
    remote: bool | None = None  # type: ignore[assignment]
    employment_type: EmploymentType | None = None  # type: ignore[assignment]
    required_skills: Annotated[list[SkillName], Field(max_length=100)] | None = None  # type: ignore[assignment]
    preferred_skills: Annotated[list[SkillName], Field(max_length=100)] | None = None  # type: ignore[assignment]
    private: bool | None = None  # type: ignore[assignment]
    benefits: Annotated[list[ShortText], Field(max_length=50)] | None = None  # type: ignore[assignment]
    headcount: Annotated[int, Field(ge=1, le=100_000)] | None = None  # type: ignore[assignment]

    @field_validator(
        "title",
        "employment_type",
        "remote",
        "private",
        "description",
        "required_skills",
        "preferred_skills",
        "benefits",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class EducationEntry(StrictModel):
    level: EducationName | None = None
    school: ShortText | None = None
    major: ShortText | None = None

    _level = field_validator("level", mode="before")(education_name)


class ExperienceEntry(StrictModel):
    title: ShortText | None = None
    company: ShortText | None = None
    start: YearMonth | None = None
    end: YearMonth | Literal["present"] | None = None
    description: (
        Annotated[str, StringConstraints(max_length=10_000), NoControlCharacters] | None
    ) = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ExperienceEntry:
        if self.end and self.end != "present" and self.start and self.end < self.start:
            raise ValueError("end must not be before start")
        if self.end and not self.start:
            raise ValueError("an end date needs a start date")
        return self


class CandidateFields(StrictModel):
    external_id: ExternalId | None = None
    name: Annotated[str, StringConstraints(max_length=200), NoControlCharacters] | None = None
    email: (
        Annotated[
            str,
            StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
            NoControlCharacters,
        ]
        | None
    ) = None
    phone: (
        Annotated[str, StringConstraints(max_length=40, pattern=r"^\+?[0-9 ()-]{5,40}$")] | None
    ) = None
    city: Annotated[str, StringConstraints(max_length=100), NoControlCharacters] | None = None
    desired_titles: Annotated[list[ShortText], Field(max_length=20)] | None = None
    desired_salary_min: Money | None = None
    desired_salary_max: Money | None = None
    desired_salary_months: Annotated[int, Field(ge=1, le=24)] | None = None
    years_experience: Annotated[float, Field(ge=0, le=60)] | None = None
    education: EducationEntry | None = None
    experience: Annotated[list[ExperienceEntry], Field(max_length=50)] | None = None
    skills: Annotated[list[SkillName], Field(max_length=200)] | None = None
    languages: Annotated[list[ShortText], Field(max_length=20)] | None = None
    certificates: Annotated[list[ShortText], Field(max_length=50)] | None = None
    summary: Annotated[str, StringConstraints(max_length=10_000), NoControlCharacters] | None = None
    resume_text: (
        Annotated[str, StringConstraints(max_length=200_000), NoControlCharacters] | None
    ) = None

    @field_validator("desired_salary_max")
    @classmethod
    def _desired_salary_order(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("desired_salary_min")
        if value is not None and low is not None and value < low:
            raise ValueError("desired_salary_max must not be below desired_salary_min")
        return value


class ConsentIn(StrictModel):
    """The person's consent as the partner app recorded it."""

    purpose: Annotated[str, StringConstraints(min_length=1, max_length=200), NoControlCharacters]
    granted_at: StoredDatetime
    text_version: Annotated[
        str, StringConstraints(min_length=1, max_length=64), NoControlCharacters
    ]


class CandidateCreate(CandidateFields):
    consent: ConsentIn | None = Field(
        None, description="required from partner apps: the person's recorded consent"
    )

    @model_validator(mode="after")
    def _has_substance(self) -> CandidateCreate:
        if not any(
            [
                self.name,
                self.resume_text,
                self.skills,
                self.experience,
                self.desired_titles,
                self.summary,
            ]
        ):
            raise ValueError(
                "a candidate needs at least one of name, resume_text, skills, experience, desired_titles, summary"
            )
        return self


class CandidateUpdate(CandidateFields):
    pass
