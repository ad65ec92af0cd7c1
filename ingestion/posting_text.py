"""Extracts posting fields from free text (Chinese, English or mixed): title, company, place,
salary, required vs preferred skills, years, education, employment type, benefits. Only what
the text states is returned, with the span it came from and a confidence."""

from __future__ import annotations

import re

from ingestion.resume_text import EDUCATION_PATTERNS, Extracted, ResumeExtraction, _number
from ingestion.salary import parse_salary
from store.normalize import normalize_place_text
from taxonomy.skills import skill_vocabulary

BENEFITS = (
    "五险一金", "六险一金", "五险", "双休", "年终奖", "带薪年假", "包吃住", "包住", "餐补", "交通补贴",
    "定期体检", "股票期权", "节日福利", "弹性工作", "免费班车", "住房补贴",
    "social insurance", "housing fund", "annual bonus", "paid leave", "stock options", "free meals",
    "flexible hours", "health check", "weekends off",
)  # fmt: skip

_LABEL = r"\s*[:：]\s*([^\n]{1,80})"
_TITLE_RE = re.compile(
    r"(?:职位名称|职位|岗位名称|岗位|招聘职位|job title|position|title|role)" + _LABEL, re.I
)
_COMPANY_RE = re.compile(r"(?:公司名称|公司|企业名称|招聘单位|company|employer)" + _LABEL, re.I)
_PLACE_RE = re.compile(
    r"(?:工作地点|工作地址|上班地点|地点|地址|location|based in|office)" + _LABEL, re.I
)
_SALARY_LABEL_RE = re.compile(
    r"(?:薪资待遇|薪资|薪酬|月薪|年薪|待遇|工资|salary|compensation|pay)" + _LABEL, re.I
)
_SALARY_INLINE_RE = re.compile(
    r"(?:\$|HK\$|€|£)?\d+(?:\.\d+)?\s*[kK千万wW]?\s*[-~～—–至到]\s*(?:\$|HK\$)?\d+(?:\.\d+)?\s*[kK千万wW]"
    r"(?:[^\n，,；;]{0,12})"
)
_YEARS_RE = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:年以上|年及以上|年或以上|年\+|年)(?:[^\n，,；;]{0,10})?经验"
    r"|(\d{1,2})\+?\s*(?:years?|yrs?)(?:'|’)?(?:\s+of)?(?:\s+[\w-]+){0,3}?\s+experience",
    re.I,
)
_EDUCATION_CONTEXT = re.compile(r"学历|及以上|以上学历|degree|diploma|education", re.I)
_NO_EDUCATION = re.compile(r"学历不限|不限学历|no degree required", re.I)
_PREFERRED = re.compile(r"优先|加分|者佳|preferred|is a plus|a plus|nice to have|bonus", re.I)
_EMPLOYMENT = [
    ("internship", re.compile(r"实习|intern(ship)?\b", re.I)),
    ("part_time", re.compile(r"兼职|part[- ]time", re.I)),
    ("dispatch", re.compile(r"劳务派遣|派遣|dispatch", re.I)),
    ("flexible", re.compile(r"灵活用工|临时工|日结|gig|flexible work|freelance", re.I)),
    ("full_time", re.compile(r"全职|full[- ]time", re.I)),
]


def _first(pattern: re.Pattern[str], text: str, confidence: float) -> Extracted | None:
    match = pattern.search(text)
    if not match:
        return None
    return Extracted(match.group(1).strip(), match.start(1), match.end(1), confidence)


# Where a long first line's leading clause ends: a title is followed by its qualifier or a
# sentence ("高级Java开发工程师（跨境电商）招聘启事，……").
_CLAUSE_END = re.compile(r"[，,。；;：:（(【\[|｜!！?？]")


def _title_from_first_line(text: str) -> Extracted | None:
    """The first non-empty line as the title (a short one), or its leading clause (a long
    one, with less confidence); None when neither is a plausible title."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    stripped = first_line.strip()
    start = text.find(stripped)
    if 2 <= len(stripped) <= 60:
        return Extracted(stripped, start, start + len(stripped), 0.6)
    clause = _CLAUSE_END.split(stripped, maxsplit=1)[0].strip()
    if 2 <= len(clause) <= 60:
        return Extracted(clause, start, start + len(clause), 0.4)
    return None


def extract_from_posting(
    text: str, *, rates_to_cny: dict[str, float] | None = None
) -> ResumeExtraction:
    """Every posting field the text reveals (see the module docstring)."""
    result = ResumeExtraction()
    title = _first(_TITLE_RE, text, 0.9)
    if title is None:
        title = _title_from_first_line(text)
    if title:
        result.fields["title"] = title
    company = _first(_COMPANY_RE, text, 0.9)
    if company:
        result.fields["company"] = company
    place_source = _first(_PLACE_RE, text, 0.9)
    place = normalize_place_text(str(place_source.value) if place_source else text)
    if place.city_code is not None:
        span = (place_source.start, place_source.end) if place_source else (0, 0)
        confidence = 0.9 if place_source else 0.6
        result.fields["city"] = Extracted(place.city, span[0], span[1], confidence)
        if place.district:
            result.fields["district"] = Extracted(place.district, span[0], span[1], confidence)
    salary_match = _SALARY_LABEL_RE.search(text) or _SALARY_INLINE_RE.search(text)
    if salary_match:
        raw = salary_match.group(1) if salary_match.groups() else salary_match.group(0)
        salary = parse_salary(raw, rates_to_cny=rates_to_cny)
        if salary is not None:
            result.fields["salary"] = Extracted(
                salary, salary_match.start(), salary_match.end(), 0.85
            )
    required: list[str] = []
    preferred: list[str] = []
    # Sentences: Chinese punctuation, line breaks, and English full stops.
    for sentence in re.split(r"[\n。；;]|(?<=[A-Za-z0-9)])[.!?]\s+", text):
        target = preferred if _PREFERRED.search(sentence) else required
        for skill, _, _ in skill_vocabulary().find_in_text(sentence):
            if skill.id not in required and skill.id not in preferred:
                target.append(skill.id)
    vocabulary = skill_vocabulary()
    if required:
        result.fields["required_skills"] = Extracted(
            [vocabulary.display_name(s) for s in required], 0, 0, 0.75
        )
    if preferred:
        result.fields["preferred_skills"] = Extracted(
            [vocabulary.display_name(s) for s in preferred], 0, 0, 0.7
        )
    years = _YEARS_RE.search(text)
    if years:
        value = _number(years.group(1) or years.group(2))
        result.fields["min_years_experience"] = Extracted(value, years.start(), years.end(), 0.85)
    if _NO_EDUCATION.search(text):
        result.fields["education"] = Extracted("none", 0, 0, 0.8)
    else:
        # The résumé degree patterns; the lowest level a posting states is its bar.
        for level, pattern in reversed(EDUCATION_PATTERNS):
            match = pattern.search(text)
            if match and _EDUCATION_CONTEXT.search(
                text[max(0, match.start() - 10) : match.end() + 10]
            ):
                result.fields["education"] = Extracted(level.value, match.start(), match.end(), 0.8)
                break
    for employment, pattern in _EMPLOYMENT:
        match = pattern.search(text)
        if match:
            result.fields["employment_type"] = Extracted(
                employment, match.start(), match.end(), 0.8
            )
            break
    found = [b for b in BENEFITS if b.lower() in text.lower()]
    benefits = [b for b in found if not any(b != other and b in other for other in found)]
    if benefits:
        result.fields["benefits"] = Extracted(benefits, 0, 0, 0.9)
    return result


def posting_fields(text: str, *, rates_to_cny: dict[str, float] | None = None) -> dict[str, object]:
    """API fields for a posting given only as text (the text becomes its description)."""
    extraction = extract_from_posting(text, rates_to_cny=rates_to_cny)
    fields: dict[str, object] = {"description": text[:50_000]}
    for name in ("title", "company", "city", "district", "required_skills", "preferred_skills",
                 "min_years_experience", "education", "employment_type", "benefits"):  # fmt: skip
        value = extraction.value(name)
        if value is not None:
            fields[name] = value
    salary = extraction.value("salary")
    if salary is not None:
        fields["salary_min"] = getattr(salary, "monthly_min", None)
        fields["salary_max"] = getattr(salary, "monthly_max", None)
        fields["salary_months"] = getattr(salary, "months_per_year", 12)
    fields["extraction"] = extraction.as_json()
    return fields
