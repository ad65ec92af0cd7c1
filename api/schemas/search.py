"""Search requests, filters, hits and facets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
)

from api.schemas.candidates import CandidateRead
from api.schemas.jobs import JobRead
from core.domain import EmploymentType
from ingestion.records import (
    EducationName,
    Money,
    NoControlCharacters,
    ShortText,
    SkillName,
    StrictModel,
    education_name,
)


class EducationRange(StrictModel):
    at_least: EducationName | None = None
    at_most: EducationName | None = None

    _levels = field_validator("at_least", "at_most", mode="before")(education_name)


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
    query: Annotated[str, StringConstraints(max_length=500), NoControlCharacters] = Field(
        "",
        description="words (any of them match); in keyword and hybrid modes also AND, OR, NOT, "
        '-term, ( ), "exact phrase", title:, skill:, company: (UPPERCASE operators only)',
    )
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


class IgnoredTerm(BaseModel):
    """A term of a candidate query that no search selects people on."""

    term: str
    reason: str = Field(
        description="sex, age, marital_status, childbearing, ethnicity, religion, "
        "hukou_or_origin or health"
    )


class SearchPage(BaseModel):
    """What every search answers besides its hits."""

    total: int
    # "eq": total is the number of results; "gte": at least that many (hybrid and semantic
    # results beyond each retriever's depth are not counted).
    total_relation: Literal["eq", "gte"] = "eq"
    page: int
    page_size: int
    # What was read out of the query: "city" (names), and for candidates "ignored_terms",
    # the protected terms dropped from it.
    interpreted: dict[str, list[str] | list[IgnoredTerm]] = {}


class JobSearchResponse(SearchPage):
    hits: list[JobHit]
    facets: dict[str, list[FacetValue]] = {}


class CandidateSearchResponse(SearchPage):
    hits: list[CandidateHit]
