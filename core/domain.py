"""Enumerations shared by the API, the store and matching."""

from __future__ import annotations

from enum import StrEnum


class EmploymentType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    INTERNSHIP = "internship"
    FLEXIBLE = "flexible"
    DISPATCH = "dispatch"


class EducationLevel(StrEnum):
    NONE = "none"
    HIGH_SCHOOL = "high_school"
    ASSOCIATE = "associate"  # 大专
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"

    @property
    def rank(self) -> int:
        return EDUCATION_ORDER.index(self)


EDUCATION_ORDER: list[EducationLevel] = list(EducationLevel)

# Chinese names accepted on input wherever an education level is expected.
EDUCATION_ALIASES: dict[str, EducationLevel] = {
    "不限": EducationLevel.NONE,
    "无": EducationLevel.NONE,
    "高中": EducationLevel.HIGH_SCHOOL,
    "中专": EducationLevel.HIGH_SCHOOL,
    "大专": EducationLevel.ASSOCIATE,
    "专科": EducationLevel.ASSOCIATE,
    "本科": EducationLevel.BACHELOR,
    "学士": EducationLevel.BACHELOR,
    "硕士": EducationLevel.MASTER,
    "研究生": EducationLevel.MASTER,
    "博士": EducationLevel.DOCTORATE,
}


def parse_education_level(value: str) -> EducationLevel:
    """Accept the enum value or a Chinese name (大专, 本科 …)."""
    text = value.strip()
    if text in EDUCATION_ALIASES:
        return EDUCATION_ALIASES[text]
    return EducationLevel(text.lower())


class EntityKind(StrEnum):
    JOB = "job"
    CANDIDATE = "candidate"
