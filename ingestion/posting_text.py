"""Extracts posting fields from free text (Chinese, English or mixed): title, company, place,
salary, required vs preferred skills, years, education, employment type, benefits. Only what
the text states is returned, with the span it came from and a confidence."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import Any

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
_SENTENCE_END = re.compile(r"[\n。；;]|(?<=[A-Za-z0-9)])[.!?]\s+")
_TITLE_RE = re.compile(
    r"(?:职位名称|职位|岗位名称|岗位|招聘职位|job title|position|title|role)" + _LABEL, re.I
)
_COMPANY_RE = re.compile(r"(?:公司名称|公司|企业名称|招聘单位|company|employer)" + _LABEL, re.I)
# A place or a salary ends at the end of its sentence: in a one-line description
# ("工作地点：深圳南山区。薪资：15-25K·13薪。") the span must cover the value only.
_PLACE_RE = re.compile(
    r"(?:工作地点|工作地址|上班地点|地点|地址|location|based in|office)\s*[:：]\s*"
    r"((?:[^\n。；;，.]|\.(?!\s|$)){1,80})",
    re.I,
)
_SALARY_LABEL_RE = re.compile(
    r"(?:薪资待遇|薪资|薪酬|月薪|年薪|待遇|工资|salary|compensation|pay)\s*[:：]\s*([^\n。；;]{1,80})",
    re.I,
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
# A bare Chinese degree word ending its clause is the posting's bar ("……开发经验，本科").
_BARE_DEGREE = re.compile(r"(?:本科|硕士|博士|大专|专科)(?=$|[\s。；;，,、.!！)）])")
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
    text: str,
    *,
    rates_to_cny: dict[str, float] | None = None,
    places: bool = True,
    skills: bool = True,
) -> ResumeExtraction:
    """Every posting field the text reveals (see the module docstring). ``places`` and
    ``skills`` False skip the two costliest searches (when the caller gave those fields)."""
    result = ResumeExtraction()
    title = _first(_TITLE_RE, text, 0.9)
    if title is None:
        title = _title_from_first_line(text)
    if title:
        result.fields["title"] = title
    company = _first(_COMPANY_RE, text, 0.9)
    if company:
        result.fields["company"] = company
    place_source = _first(_PLACE_RE, text, 0.9) if places else None
    place = normalize_place_text(
        str(place_source.value) if place_source else text if places else ""
    )
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
    required: list[tuple[str, int, int]] = []
    preferred: list[tuple[str, int, int]] = []
    # Sentences: Chinese punctuation, line breaks, and English full stops; a skill is
    # preferred when the sentence of its first mention says so.
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    for skill, start, end in skill_vocabulary().find_in_text(text) if skills else []:
        at = bisect.bisect_right(ends, start)
        sentence = text[ends[at - 1] if at else 0 : ends[at] if at < len(ends) else len(text)]
        (preferred if _PREFERRED.search(sentence) else required).append((skill.id, start, end))
    vocabulary = skill_vocabulary()
    for name, found, confidence in (("required_skills", required, 0.75),
                                    ("preferred_skills", preferred, 0.7)):  # fmt: skip
        if found:
            # The span runs from the first mention to the last.
            result.fields[name] = Extracted(
                [vocabulary.display_name(s) for s, _, _ in found],
                min(start for _, start, _ in found),
                max(end for _, _, end in found),
                confidence,
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
        if "education" not in result.fields:
            bare = _BARE_DEGREE.search(text)
            if bare:
                level = next(lvl for lvl, p in EDUCATION_PATTERNS if p.search(bare.group(0)))
                result.fields["education"] = Extracted(level.value, bare.start(), bare.end(), 0.7)
    for employment, pattern in _EMPLOYMENT:
        match = pattern.search(text)
        if match:
            result.fields["employment_type"] = Extracted(
                employment, match.start(), match.end(), 0.8
            )
            break
    lowered = text.lower()
    stated_benefits = [b for b in BENEFITS if b.lower() in lowered]
    benefits = [b for b in stated_benefits if not any(b != o and b in o for o in stated_benefits)]
    if benefits:
        starts = [lowered.find(b.lower()) for b in benefits]
        end = max(start + len(b) for start, b in zip(starts, benefits, strict=True))
        result.fields["benefits"] = Extracted(benefits, min(starts), end, 0.9)
    language = detect_language(text)
    if language is not None:
        result.fields["language"] = Extracted(language, 0, len(text), 0.9)
    return result


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str) -> str | None:
    """``zh`` or ``en`` for a posting's text, None for one with too little text to tell.
    Chinese postings name their skills in English ("Java开发"), so a handful of Chinese
    characters make a text Chinese."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if han >= 4 and han >= latin:
        return "zh"
    if latin >= 3:
        return "en"
    if han >= 2:
        return "zh"
    return None


# Extractable posting fields (API names) and the extraction entry each comes from.
_FILLED_FROM = {
    "city": "city", "district": "district", "required_skills": "required_skills",
    "preferred_skills": "preferred_skills", "min_years_experience": "min_years_experience",
    "education": "education", "employment_type": "employment_type", "benefits": "benefits",
    "language": "language", "salary_min": "salary", "salary_max": "salary",
    "salary_months": "salary",
}  # fmt: skip
_DEFAULTS: dict[str, Any] = {
    "required_skills": [], "preferred_skills": [], "benefits": [], "employment_type": "full_time",
}  # fmt: skip


def _extracted_value(extraction: ResumeExtraction, name: str) -> Any:
    if _FILLED_FROM[name] != "salary":
        return extraction.value(name)
    salary = extraction.value("salary")
    if (
        salary is None
        or getattr(salary, "negotiable", False)
        and (getattr(salary, "monthly_min", None) is None)
    ):
        return None
    attribute = {"salary_min": "monthly_min", "salary_max": "monthly_max",
                 "salary_months": "months_per_year"}[name]  # fmt: skip
    return getattr(salary, attribute)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def with_posting_extraction(
    fields: dict[str, Any],
    *,
    given: set[str],
    current: Mapping[str, Any] | None = None,
    rates_to_cny: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Posting fields with what the description states filled in where the caller gave
    nothing (every intake path runs this: the API, bulk loads, file uploads). Structured
    fields win: a field in ``given`` is never replaced. ``extraction`` holds, per filled
    field, its value, confidence and span into the description. ``current``: the stored
    posting's fields for a partial update; a field filled from its old description is
    filled again (or cleared) from a new one, an empty one is filled."""
    out = dict(fields)
    previous: dict[str, Any] = dict((current or {}).get("extraction") or {})
    if "description" not in fields:
        # Fields now given explicitly no longer come from the description.
        kept = {k: v for k, v in previous.items() if not _given_entry(k, given)}
        if kept != previous:
            out["extraction"] = kept or None
        return out
    description = fields.get("description") or ""
    stated_by_caller = {n for n in given if not _empty(fields.get(n))}
    extraction = extract_from_posting(
        description,
        rates_to_cny=rates_to_cny,
        places=current is not None or not {"city", "district"} <= stated_by_caller,
        skills=current is not None
        or not {"required_skills", "preferred_skills"} <= stated_by_caller,
    )
    if "language" not in extraction.fields and fields.get("title"):
        language = detect_language(str(fields["title"]))
        if language is not None:
            extraction.fields["language"] = Extracted(language, 0, 0, 0.6)
    stated = extraction.as_json()
    entries: dict[str, Any] = {}
    city_given = "city" in given and not _empty(fields.get("city"))
    for name, source in _FILLED_FROM.items():
        # An empty list is no statement (as for candidates); a type always is one.
        if name in given and (not _empty(fields.get(name)) or name == "employment_type"):
            continue
        if current is not None and name not in given:
            stored = current.get(name)
            from_description = source in previous
            if not from_description and not (_empty(stored) and name not in _DEFAULTS):
                continue  # a structured value of the stored posting
        if source == "salary" and any(
            s in given and not _empty(fields.get(s)) for s in ("salary_min", "salary_max")
        ):
            continue  # a structured salary range: its months stay the caller's too
        if name == "district" and city_given:
            stated_city = extraction.value("city")
            if stated_city is None or stated_city != fields.get("city"):
                continue  # a district of another city than the one given
        value = _extracted_value(extraction, name)
        if value is None:
            if current is not None and source in previous:
                out[name] = _DEFAULTS.get(name)  # filled from the old text, absent now
            continue
        out[name] = value
        entries[source] = stated[source]
    out["extraction"] = entries or None
    return out


def _given_entry(entry: str, given: set[str]) -> bool:
    names = [n for n, source in _FILLED_FROM.items() if source == entry]
    return bool(names) and all(n in given for n in names) or entry in given


def posting_fields(text: str, *, rates_to_cny: dict[str, float] | None = None) -> dict[str, Any]:
    """API fields for a posting given only as text (the text becomes its description)."""
    extraction = extract_from_posting(text, rates_to_cny=rates_to_cny)
    fields: dict[str, Any] = {"description": text[:50_000]}
    for name in ("title", "company"):
        value = extraction.value(name)
        if value is not None:
            fields[name] = value
    filled = with_posting_extraction(fields, given=set(), rates_to_cny=rates_to_cny)
    # The title and company came from the text too: their spans go with the rest.
    stated = extraction.as_json()
    filled["extraction"] = {
        **{k: stated[k] for k in ("title", "company") if k in stated},
        **(filled["extraction"] or {}),
    }
    return filled
