"""Request and response schemas. ``*Create``/``*Update`` reject unknown fields;
only ``*Read`` models are built from ORM attributes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
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


# Ids are 32-bit on every database (PostgreSQL INTEGER): larger numbers are refused as
# input instead of overflowing in a query.
MAX_ID = 2_147_483_647
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _education(value: Any) -> Any:
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


# -- postings ---------------------------------------------------------------------------------


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

    _education = field_validator("education", mode="before")(_education)

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
    duplicate_of: int | None
    salary_months: int | None
    benefits: list[str]
    extraction: dict[str, Any] | None
    posted_at: datetime
    created_at: datetime
    updated_at: datetime


# -- candidates -------------------------------------------------------------------------------


class EducationEntry(StrictModel):
    level: EducationName | None = None
    school: ShortText | None = None
    major: ShortText | None = None

    _level = field_validator("level", mode="before")(_education)


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
    sources: list[SourceRead]
    created_at: datetime
    updated_at: datetime


# -- lists, search, matches ------------------------------------------------------------------


class JobPage(BaseModel):
    items: list[JobRead]
    total: int
    page: int
    page_size: int


class CandidatePage(BaseModel):
    items: list[CandidateRead]
    total: int
    page: int
    page_size: int


class EducationRange(StrictModel):
    at_least: EducationName | None = None
    at_most: EducationName | None = None

    _levels = field_validator("at_least", "at_most", mode="before")(_education)


class NumberRange(StrictModel):
    min: Annotated[float, Field(ge=0)] | None = None
    max: Annotated[float, Field(ge=0)] | None = None


class SearchFiltersIn(StrictModel):
    city: ShortText | list[ShortText] | None = None
    district: ShortText | list[ShortText] | None = None
    salary_min: Money | None = None
    salary_max: Money | None = None
    employment_type: EmploymentType | list[EmploymentType] | None = None
    education: EducationRange | None = None
    years_experience: NumberRange | None = None
    skills_all: Annotated[list[SkillName], Field(max_length=20)] = []
    skills_any: Annotated[list[SkillName], Field(max_length=20)] = []
    # Exact company names, as the company facet lists them.
    company: ShortText | Annotated[list[ShortText], Field(max_length=20)] | None = None


FacetName = Literal["city", "district", "employment_type", "education", "salary", "company"]


class SearchRequest(StrictModel):
    query: Annotated[str, StringConstraints(max_length=500), NoControlCharacters] = ""
    filters: SearchFiltersIn = Field(default_factory=SearchFiltersIn)
    page: Annotated[int, Field(ge=1, le=1000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 20
    mode: Literal["hybrid", "keyword", "semantic"] = "hybrid"
    # Read city names out of the query as a city filter ("Python 后端 深圳"), unless
    # filters.city is given.
    interpret_places: bool = True
    # Near-duplicate postings show once (the best-ranked), with the others counted on it.
    include_duplicates: bool = False
    # Count the whole result by these fields (posting search only), each under every filter
    # but its own; labels follow Accept-Language.
    facets: Annotated[list[FacetName], Field(max_length=6)] = []


class Retrieval(BaseModel):
    keyword_rank: int | None
    keyword_score: float | None
    semantic_rank: int | None
    semantic_score: float | None


class JobHit(BaseModel):
    id: int
    score: float
    duplicates: int = 0
    highlights: dict[str, list[str]]
    retrieval: Retrieval
    job: JobRead


class CandidateHit(BaseModel):
    id: int
    score: float
    highlights: dict[str, list[str]]
    retrieval: Retrieval
    candidate: CandidateRead


class FacetValue(BaseModel):
    value: str  # what to send back in the filter of the same name
    label: str  # in the caller's language
    count: int
    # salary bands: the filters.salary_min / salary_max that select the band
    min: float | None = None
    max: float | None = None
    # districts: their city (a district name is unambiguous only with its city)
    city: str | None = None


class JobSearchResponse(BaseModel):
    total: int
    # "eq": total is the number of results; "gte": at least that many (hybrid and semantic
    # results beyond each retriever's depth are not counted).
    total_relation: Literal["eq", "gte"] = "eq"
    page: int
    page_size: int
    interpreted: dict[str, list[str]] = {}
    hits: list[JobHit]
    facets: dict[str, list[FacetValue]] = {}


class CandidateSearchResponse(BaseModel):
    total: int
    # "eq": total is the number of results; "gte": at least that many (hybrid and semantic
    # results beyond each retriever's depth are not counted).
    total_relation: Literal["eq", "gte"] = "eq"
    page: int
    page_size: int
    interpreted: dict[str, list[str]] = {}
    hits: list[CandidateHit]


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


class Health(BaseModel):
    status: Literal["ok"]
    # "catching_up" after a start while the index applies the backlog (searches answer
    # from what is indexed so far), then "ready".
    index: Literal["ready", "catching_up"]
    jobs_indexed: int
    candidates_indexed: int
    outbox_backlog: int
    embedding_model: str


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


# -- feedback ---------------------------------------------------------------------------------

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


# -- fairs and keys ----------------------------------------------------------------------------


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
