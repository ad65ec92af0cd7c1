"""Domain views of postings and candidates for matching and indexing (frozen dataclasses),
built from ORM rows, plus the texts that represent them to encoders and keyword search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.domain import EducationLevel
from representation.fairness import neutralize, person_names, strip_contacts
from store.models import Candidate, Job
from taxonomy.skills import skill_vocabulary

_EMBED_CHARS = 1200  # long tails add noise to an averaged sentence embedding
# Bumped whenever the texts below change (2: protected attributes and contacts removed;
# 3: every contact shape of core.contacts, and names however the résumé writes them, removed;
# no name in candidate keyword texts; 4: candidates' section texts; 5: table cells, family and
# childbearing prose removed): an index built from older texts is then rebuilt at start-up,
# not mixed with new vectors.
PROFILE_TEXT_VERSION = 5
# A candidate's section texts (``CandidateProfile.section_texts``): at most this many, each
# at most this long, so the index's memory per candidate stays bounded and each text stays
# as short as the recruiter queries it is compared with.
MAX_SECTIONS = 8
_SECTION_CHARS = 160
# The columns ``from_row`` reads with ``with_texts=False``, and ``updated_at`` (the version a
# cached profile is kept by): what matching loads for the rows it retrieves.
JOB_PROFILE_COLUMNS = (
    "id", "tenant_id", "title", "company", "city", "city_code", "district_code", "remote",
    "salary_min", "salary_max", "employment_type", "required_skills", "preferred_skills",
    "min_years_experience", "education", "private", "posted_at", "occupation_code",
    "updated_at",
)  # fmt: skip
CANDIDATE_PROFILE_COLUMNS = (
    "id", "tenant_id", "name", "desired_titles", "experience", "city", "city_code",
    "desired_salary_min", "years_experience", "education", "skills", "updated_at",
    "occupation_code",
)  # fmt: skip


def compose_embedding_text(
    title: str, body: list[str], skill_ids: tuple[str, ...] | list[str]
) -> str:
    """What an encoder sees: title, skills (canonical English names, which pulls both
    languages towards one vocabulary) and the start of the body."""
    vocabulary = skill_vocabulary()
    skills = ", ".join(vocabulary.display_name(s) for s in skill_ids)
    text = " ".join(b for b in body if b)
    return f"{title}. {skills}. {text}"[:_EMBED_CHARS]


def job_embedding_text(fields: dict[str, Any]) -> str:
    """The embedding text of a posting given as API fields (used by evaluations)."""
    vocabulary = skill_vocabulary()
    skill_ids = vocabulary.canonical_ids(
        list(fields.get("required_skills") or []) + list(fields.get("preferred_skills") or [])
    )
    return compose_embedding_text(fields["title"], [fields.get("description") or ""], skill_ids)


def _rank(level: str | None) -> int | None:
    return EducationLevel(level).rank if level else None


@dataclass(frozen=True)
class JobProfile:
    id: int
    tenant_id: str
    title: str
    description: str
    company: str | None
    city: str | None
    city_code: int | None
    district_code: int | None
    remote: bool
    salary_min: float | None
    salary_max: float | None
    employment_type: str
    required_skills: tuple[str, ...]  # canonical ids
    preferred_skills: tuple[str, ...]
    min_years: float | None
    education_rank: int | None
    private: bool
    timestamp: float
    occupation_code: str | None = None

    @classmethod
    def from_row(cls, job: Job, *, with_texts: bool = True) -> JobProfile:
        """The profile of a row. ``with_texts=False`` leaves out the description, which only
        indexing and embedding read: scoring then neither loads nor cleans it."""
        vocabulary = skill_vocabulary()
        return cls(
            id=job.id,
            tenant_id=job.tenant_id,
            # A recruiter's phone or WeChat in a posting is no evidence of fit, and a search
            # for it must not find the posting.
            title=strip_contacts(job.title),
            description=strip_contacts(job.description or "") if with_texts else "",
            company=job.company,
            city=job.city,
            city_code=job.city_code,
            district_code=job.district_code,
            remote=bool(job.remote),
            salary_min=job.salary_min,
            salary_max=job.salary_max if job.salary_max is not None else job.salary_min,
            employment_type=job.employment_type,
            required_skills=tuple(vocabulary.canonical_ids(job.required_skills)),
            preferred_skills=tuple(vocabulary.canonical_ids(job.preferred_skills)),
            min_years=job.min_years_experience,
            education_rank=_rank(job.education),
            private=bool(job.private),
            timestamp=job.posted_at.timestamp(),
            occupation_code=job.occupation_code,
        )

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.required_skills + self.preferred_skills))

    def title_text(self) -> str:
        return self.title

    def embedding_text(self) -> str:
        return compose_embedding_text(self.title, [self.description], self.skills)

    def keyword_text(self, raw_skills: list[str]) -> str:
        return "\n".join(
            filter(
                None,
                [
                    strip_contacts(self.company or ""),
                    self.city,
                    " ".join(raw_skills),
                    self.description,
                ],
            )
        )


@dataclass(frozen=True)
class CandidateProfile:
    id: int
    tenant_id: str
    name: str | None
    titles: tuple[str, ...]  # desired titles first, then recent job titles
    city: str | None
    city_code: int | None
    desired_salary_min: float | None
    years: float | None
    education_rank: int | None
    skills: tuple[str, ...]  # canonical ids
    raw_skills: tuple[str, ...]
    experience_text: str
    summary: str
    resume_text: str
    timestamp: float
    occupation_code: str | None = None

    @classmethod
    def from_row(cls, candidate: Candidate, *, with_texts: bool = True) -> CandidateProfile:
        """The profile of a row. ``with_texts=False`` leaves out the texts (summary,
        experience, résumé), which only indexing and embedding read: scoring a retrieved
        candidate then neither decrypts its résumé nor cleans its texts."""
        experience = candidate.experience or []
        titles = list(candidate.desired_titles or [])
        titles += [e.get("title") for e in experience[:3] if e.get("title")]
        # Titles feed the title factor and its vector, and explanations quote them.
        titles = [t for t in (neutralize(strip_contacts(t)).strip() for t in titles) if t]
        # Protected attributes, contacts and the name (the field, and however the texts write
        # it) never reach a vector, the keyword index or a ranking signal.
        experience_text = summary = resume_text = ""
        if with_texts:
            name = person_names(candidate.name, candidate.resume_text, candidate.summary)
            experience_text = "\n".join(
                " ".join(filter(None, [e.get("title"), e.get("company"), e.get("description")]))
                for e in experience
            )
            experience_text = strip_contacts(neutralize(experience_text, name))
            summary = strip_contacts(neutralize(candidate.summary or "", name))
            resume_text = strip_contacts(neutralize(candidate.resume_text or "", name))
        return cls(
            id=candidate.id,
            tenant_id=candidate.tenant_id,
            name=candidate.name,
            titles=tuple(dict.fromkeys(titles)),
            city=candidate.city,
            city_code=candidate.city_code,
            desired_salary_min=candidate.desired_salary_min,
            years=candidate.years_experience,
            education_rank=_rank((candidate.education or {}).get("level")),
            skills=tuple(skill_vocabulary().canonical_ids(candidate.skills)),
            raw_skills=tuple(candidate.skills or []),
            experience_text=experience_text,
            summary=summary,
            resume_text=resume_text,
            timestamp=candidate.updated_at.timestamp(),
            occupation_code=candidate.occupation_code,
        )

    def title_text(self) -> str:
        return " / ".join(self.titles) if self.titles else self.summary[:200]

    def embedding_text(self) -> str:
        body = self.summary or self.experience_text or self.resume_text
        return compose_embedding_text(self.title_text(), [body], self.skills)

    def section_texts(self) -> list[str]:
        """Short texts embedded one by one, so a short query ("DevOps Engineer") meets a
        text as short as itself rather than a whole averaged résumé: the résumé's opening
        lines (its headline), each experience entry (title, company, its line), and the
        skills; at most ``MAX_SECTIONS``, duplicates and the title text left out (that has
        its own vector)."""
        vocabulary = skill_vocabulary()
        opening = [line.strip() for line in self.resume_text.splitlines() if line.strip()]
        headline = " ".join(opening[:2]) or self.summary
        entries = [line.strip() for line in self.experience_text.splitlines() if line.strip()]
        skills = ", ".join(
            dict.fromkeys([vocabulary.display_name(s) for s in self.skills] + list(self.raw_skills))
        )
        texts = [headline, *entries[: MAX_SECTIONS - 2], skills]
        seen = {self.title_text()}
        sections = []
        for text in (" ".join(t.split())[:_SECTION_CHARS] for t in texts):
            if text and text not in seen:
                seen.add(text)
                sections.append(text)
        return sections[:MAX_SECTIONS]

    def embedded_texts(self) -> list[str]:
        """Every text of the profile that is embedded (and so cached with its vector)."""
        return [self.embedding_text(), self.title_text(), *self.section_texts()]

    def keyword_text(self) -> str:
        return "\n".join(
            filter(
                None,
                [
                    # No name: a search for it would find a person blind screening hides.
                    self.city,
                    " ".join(self.raw_skills),
                    self.summary,
                    self.experience_text,
                    self.resume_text,
                ],
            )
        )
