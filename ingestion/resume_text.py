"""Extracts profile fields from free résumé text (Chinese, English or mixed).

Only what the text states is returned: a field the text does not reveal stays None, never a
guess. Each field carries the span it came from and a confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.contacts import EMAIL, FIRST_LINE_NAME, NAME_LABEL, find_phone
from core.domain import EducationLevel
from ingestion.salary import parse_salary
from store.normalize import years_from_experience
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary


@dataclass(frozen=True)
class Extracted:
    value: object
    start: int
    end: int
    confidence: float


@dataclass
class ResumeExtraction:
    fields: dict[str, Extracted] = field(default_factory=dict)

    def value(self, name: str) -> object | None:
        found = self.fields.get(name)
        return found.value if found else None

    def as_json(self) -> dict[str, dict[str, object]]:
        """Per field: value, confidence and source span, for storing next to the profile."""
        out: dict[str, dict[str, object]] = {}
        for name, found in self.fields.items():
            value = found.value
            if hasattr(value, "__dataclass_fields__"):
                value = {k: getattr(value, k) for k in value.__dataclass_fields__}
            out[name] = {
                "value": value,
                "confidence": found.confidence,
                "span": [found.start, found.end],
            }
        return out


_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_NUM = r"(\d{1,2}(?:\.\d)?|[一二两三四五六七八九十]{1,2})"
_YEARS_PATTERNS = [
    re.compile(
        rf"{_NUM}\s*\+?\s*年(?:以上)?(?:的)?[\u4e00-\u9fffA-Za-z/]{{0,8}}?(?:工作|开发|从业|相关|行业)?经[验历]"
    ),
    re.compile(rf"(?:工作经验|工作年限|从业年限|经验)\s*[:：]?\s*{_NUM}\s*\+?\s*年"),
    re.compile(
        rf"{_NUM}\s*\+?\s*(?:years?|yrs?)(?:'|’)?(?:\s+of)?(?:\s+[\w/+#.-]+){{0,4}}?\s+experience",
        re.I,
    ),
    re.compile(rf"experience\s*[:：]\s*{_NUM}\s*\+?\s*(?:years?|yrs?)", re.I),
]

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_DATE = r"(?:(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*月?|([A-Za-z]{3})[a-z]*\.?\s+(\d{4})|(\d{4}))"
_END = rf"(?:{_DATE}|(至今|今|现在|present|now|current))"
_RANGE_RE = re.compile(rf"{_DATE}\s*(?:-|–|—|~|～|至|到|to)\s*{_END}", re.I)
_SCHOOL_WORDS = re.compile(
    r"大学|学院|学校|中学|本科|硕士|博士|大专|university|college|school|institute|bachelor|master|ph\.?d",
    re.I,
)
_SENTENCE_END = re.compile(r"[。；;|]|\.\s")
_EDUCATION_HEADINGS = re.compile(r"教育(?:背景|经历)|学历|education", re.I)
_WORK_HEADINGS = re.compile(
    r"工作经[历验]|项目经[历验]|实习经历|work experience|experience|employment", re.I
)

EDUCATION_PATTERNS: list[tuple[EducationLevel, re.Pattern[str]]] = [
    (EducationLevel.DOCTORATE, re.compile(r"博士|ph\.?\s?d\b|doctorate|doctor of", re.I)),
    (
        EducationLevel.MASTER,
        re.compile(
            r"硕士|研究生|master'?s|masters|master of|master degree|\bm\.?sc\b|\bm\.s\.|\bmba\b|\bm\.?eng\b",
            re.I,
        ),
    ),
    (
        EducationLevel.BACHELOR,
        re.compile(
            r"本科|学士|统招本|bachelor'?s?|\bb\.?sc\b|\bb\.s\.|\bb\.?eng\b|\bb\.a\.|undergraduate",
            re.I,
        ),
    ),
    (
        EducationLevel.ASSOCIATE,
        re.compile(r"大专|专科|associate degree|associate'?s|higher diploma|college diploma", re.I),
    ),
    (
        EducationLevel.HIGH_SCHOOL,
        re.compile(r"高中|中专|职高|技校|high school|secondary school", re.I),
    ),
]

_CITY_LABEL_RE = re.compile(
    r"(?:现居(?:住)?地?|居住地|所在地|所在城市|期望城市|工作地点|城市|location|based in|address|地址)\s*[:：]?\s*([^\n;；|]{1,40})",
    re.I,
)
_DESIRED_RE = re.compile(
    r"(?:求职意向|期望职位|意向职位|应聘职位|objective|target role|desired position)\s*[:：]\s*([^\n|;；]{2,60})",
    re.I,
)


def _number(text: str) -> float:
    if text[0].isdigit():
        return float(text)
    if text == "十":
        return 10.0
    if text.startswith("十"):
        return 10.0 + _CN_DIGITS[text[1]]
    if len(text) == 2 and text[1] == "十":
        return _CN_DIGITS[text[0]] * 10.0
    return float(_CN_DIGITS.get(text[0], 0))


def _stated_years(text: str) -> Extracted | None:
    for pattern in _YEARS_PATTERNS:
        match = pattern.search(text)
        if match:
            years = _number(match.group(1))
            if 0 < years <= 50:
                return Extracted(years, match.start(), match.end(), 0.9)
    return None


def _month(match: re.Match[str], offset: int) -> tuple[int, int] | None:
    year, month, month_name, year2, year_only = (match.group(offset + i) for i in range(5))
    if year and month:
        return int(year), int(month)
    if month_name and year2 and month_name.lower()[:3] in _MONTHS:
        return int(year2), _MONTHS[month_name.lower()[:3]]
    if year_only:
        return int(year_only), 1
    return None


def _work_sections(text: str) -> list[str]:
    """Lines that belong to work history: education sections and school lines are left out."""
    lines = text.splitlines()
    kept: list[str] = []
    in_education = False
    for line in lines:
        stripped = line.strip()
        if len(stripped) <= 30 and _EDUCATION_HEADINGS.search(stripped):
            in_education = True
            continue
        if len(stripped) <= 30 and _WORK_HEADINGS.search(stripped):
            in_education = False
            continue
        if not in_education:
            kept.append(line)
    return kept


def _near_school(line: str, match: re.Match[str]) -> bool:
    """A date range followed (or preceded) closely by a school or degree is education."""
    before = _SENTENCE_END.split(line[max(0, match.start() - 20) : match.start()])[-1]
    after = _SENTENCE_END.split(line[match.end() : match.end() + 40])[0]
    return bool(_SCHOOL_WORDS.search(before) or _SCHOOL_WORDS.search(after))


def _years_from_dates(text: str, today: date) -> Extracted | None:
    entries: list[dict[str, str | None]] = []
    first: tuple[int, int] | None = None
    for line in _work_sections(text):
        for match in _RANGE_RE.finditer(line):
            if _near_school(line, match):
                continue
            start = _month(match, 1)
            present = match.group(11)
            end = None if present else _month(match, 6)
            if start is None or (end is None and not present):
                continue
            if not 1950 <= start[0] <= today.year or not 1 <= start[1] <= 12:
                continue
            if end is not None and (end < start or not 1 <= end[1] <= 12):
                continue
            entries.append(
                {
                    "start": f"{start[0]:04d}-{start[1]:02d}",
                    "end": f"{end[0]:04d}-{end[1]:02d}" if end else None,
                }
            )
            first = first or start
    years = years_from_experience(entries, today=today)
    if years is None or years <= 0:
        return None
    return Extracted(years, 0, 0, 0.75)


def _education(text: str) -> Extracted | None:
    for level, pattern in EDUCATION_PATTERNS:
        match = pattern.search(text)
        if match:
            return Extracted(level.value, match.start(), match.end(), 0.85)
    return None


def _city(text: str) -> Extracted | None:
    regions = region_directory()
    for match in _CITY_LABEL_RE.finditer(text):
        region = regions.city(match.group(1))
        if region is not None:
            return Extracted(region.short_name, match.start(1), match.end(1), 0.9)
    region = regions.find_city_in_text(text)
    if region is None:
        return None
    for name in (region.short_name, region.pinyin):
        position = text.find(name)
        if position >= 0:
            return Extracted(region.short_name, position, position + len(name), 0.6)
    return None


_SKILLS_HEADING = re.compile(
    r"^\s*(?:专业技能|技能特长|技能清单|技能|skills|technical skills|core skills)\s*[:：]?\s*", re.I
)
_ANY_HEADING = re.compile(
    r"^\s*(?:教育背景|教育经历|工作经[历验]|项目经[历验]|实习经历|自我评价|求职意向|个人信息|基本信息|证书|语言"
    r"|education|experience|work experience|projects|summary|objective|certificates|languages)\s*[:：]?\s*$",
    re.I,
)
_NO_EXPERIENCE = re.compile(
    r"应届(?:毕业)?生|无(?:全职)?工作经[验历]|无相关经验|recent graduate|fresh graduate"
    r"|no (?:full-time |work )?experience",
    re.I,
)


def _listed_skills(text: str) -> list[tuple[str, str]]:
    """(item, display name) for every item of a skills section or "技能：" line that the
    vocabulary knows, ambiguous short names included: a list is not prose."""
    vocabulary = skill_vocabulary()
    lines = text.splitlines()
    items: list[str] = []
    for index, line in enumerate(lines):
        heading = _SKILLS_HEADING.match(line)
        if not heading:
            continue
        rest = line[heading.end() :]
        block = [rest] if rest.strip() else []
        for following in lines[index + 1 : index + 8]:
            if not following.strip():
                if block:
                    break
                continue
            if _ANY_HEADING.match(following) or _SKILLS_HEADING.match(following):
                break
            block.append(following)
            if not re.search(r"[,，、;；/]\s*$", following):
                break
        items += [i.strip() for i in re.split(r"[,，、;；/|]", " ".join(block)) if i.strip()]
    found = []
    for item in items:
        skill = vocabulary.lookup(item)
        if skill is not None:
            found.append((item, skill.label("zh" if not item.isascii() else "en")))
    return found


def _skills(text: str) -> Extracted | None:
    vocabulary = skill_vocabulary()
    labels: dict[str, str] = {}
    for item, label in _listed_skills(text):
        labels.setdefault(vocabulary.canonical_id(item), label)
    prose = vocabulary.find_in_text(text)
    for skill, start, end in prose:
        labels.setdefault(skill.id, skill.label("zh" if not text[start:end].isascii() else "en"))
    if not labels:
        return None
    return Extracted(list(labels.values()), prose[0][1] if prose else 0, len(text), 0.8)


_CERTIFICATES = [
    ("CET-6", re.compile(r"CET[-\s]?6|英语六级|大学英语六级|六级", re.I)),
    ("CET-4", re.compile(r"CET[-\s]?4|英语四级|大学英语四级|四级", re.I)),
    ("TEM-8", re.compile(r"TEM[-\s]?8|专业八级|专八", re.I)),
    ("IELTS", re.compile(r"IELTS|雅思", re.I)),
    ("TOEFL", re.compile(r"TOEFL|托福", re.I)),
    ("PMP", re.compile(r"\bPMP\b", re.I)),
    ("CPA", re.compile(r"\bCPA\b|注册会计师", re.I)),
    ("ACCA", re.compile(r"\bACCA\b", re.I)),
    ("CFA", re.compile(r"\bCFA\b", re.I)),
    ("初级会计师", re.compile(r"初级会计(?:师|职称)")),
    ("中级会计师", re.compile(r"中级会计(?:师|职称)")),
    ("教师资格证", re.compile(r"教师资格证")),
    ("护士执业证", re.compile(r"护士执业(?:资格)?证")),
    ("法律职业资格证", re.compile(r"法律职业资格|司法考试")),
    ("驾驶证", re.compile(r"(?:C1|C2|B2|A1)驾照|驾驶证|driver'?s licen[cs]e", re.I)),
    ("叉车证", re.compile(r"叉车证")),
    ("电工证", re.compile(r"电工证")),
]
_LANGUAGES = [
    ("普通话", re.compile(r"普通话|mandarin", re.I)),
    ("粤语", re.compile(r"粤语|广东话|cantonese", re.I)),
    ("英语", re.compile(r"英语|英文|english|CET|IELTS|TOEFL|雅思|托福", re.I)),
    ("日语", re.compile(r"日语|日文|japanese|JLPT", re.I)),
    ("韩语", re.compile(r"韩语|korean", re.I)),
    ("德语", re.compile(r"德语|german", re.I)),
    ("法语", re.compile(r"法语|french", re.I)),
]
_SALARY_EXPECTATION = re.compile(
    r"(?:期望薪资|期望月薪|期望薪酬|薪资要求|期望工资|expected salary|salary expectation|desired salary)"
    r"\s*[:：]?\s*([^\n|;；]{1,40})",
    re.I,
)
_FULL_TIME_STUDY = re.compile(r"非统招|非全日制|自考|成人教育|函授|网络教育|统招|全日制", re.I)
_DEGREE_WORDS = re.compile(
    r"博士|硕士|研究生|本科|学士|大专|专科|高中|中专|ph\.?d|master|bachelor|associate|diploma|b\.?sc|m\.?sc|mba",
    re.I,
)
_SCHOOL_NAME = re.compile(
    r"([\u4e00-\u9fff（）()]{2,20}(?:大学|学院|学校|中学)(?:（[\u4e00-\u9fff]+）)?"
    r"|(?:[A-Z][\w'.-]*\s+){0,5}(?:University|College|Institute|School)(?:\s+of(?:\s+[A-Z][\w'.-]*)+)?)"
)
_TITLE_COMPANY_ZH = re.compile(r"^\s*(\S+(?:公司|集团|银行|医院|学校|事务所|工作室))\s+(\S{2,20})")
_TITLE_COMPANY_EN = re.compile(r"^\s*([^,]{2,60}),\s*([^:]{2,80})")


def _as_year_month(match: re.Match[str], offset: int) -> str | None:
    month = _month(match, offset)
    return f"{month[0]:04d}-{month[1]:02d}" if month else None


def _education_entries(text: str) -> list[dict[str, object]]:
    """Degree, school, major and dates of each education line (highest first as written)."""
    entries = []
    for line in text.splitlines():
        degree = _DEGREE_WORDS.search(line)
        school = _SCHOOL_NAME.search(line)
        if not degree or not school:
            continue
        level = next((lvl.value for lvl, p in EDUCATION_PATTERNS if p.search(line)), None)
        dates = _RANGE_RE.search(line)
        study = _FULL_TIME_STUDY.search(line)
        rest = line[school.end() :]
        major_match = re.search(
            r"([\u4e00-\u9fff]{2,12}(?:专业|学|工程|技术|管理))", rest
        ) or re.search(r"\b(?:in|of)\s+([A-Z][\w ]{2,40})", rest)
        entries.append({
            "level": level,
            "school": school.group(1).strip(),
            "major": major_match.group(1).strip() if major_match else None,
            "start": _as_year_month(dates, 1) if dates else None,
            "end": _as_year_month(dates, 6) if dates and not dates.group(11) else None,
            "full_time": None if not study else not re.match(r"非|自考|成人|函授|网络", study.group(0)),
        })  # fmt: skip
    return entries


def _experience_entries(text: str, today: date) -> list[dict[str, object]]:
    """Title, company, start and end (None = present) of each dated work line."""
    entries: list[dict[str, object]] = []
    for line in _work_sections(text):
        match = _RANGE_RE.search(line)
        if not match or _near_school(line, match):
            continue
        start = _as_year_month(match, 1)
        if start is None:
            continue
        end = None if match.group(11) else _as_year_month(match, 6)
        rest = line[match.end() :].strip()
        title = company = None
        zh = _TITLE_COMPANY_ZH.match(rest)
        en = _TITLE_COMPANY_EN.match(rest)
        if zh:
            company, title = zh.group(1), zh.group(2)
        elif en:
            title, company = en.group(1).strip(), en.group(2).strip()
        elif rest:
            title = rest[:60]
        entries.append(
            {"title": title, "company": company, "start": start, "end": end or "present"}
        )
    return entries


def extract_from_resume(text: str, *, today: date | None = None) -> ResumeExtraction:
    """Every field the text reveals (see the module docstring)."""
    today = today or date.today()
    result = ResumeExtraction()
    skills = _skills(text)
    if skills:
        result.fields["skills"] = skills
    years = _stated_years(text) or _years_from_dates(text, today)
    if years is None:
        graduate = _NO_EXPERIENCE.search(text)
        if graduate:
            years = Extracted(0.0, graduate.start(), graduate.end(), 0.7)
    if years:
        result.fields["years_experience"] = years
    education = _education(text)
    if education:
        result.fields["education_level"] = education
    city = _city(text)
    if city:
        result.fields["city"] = city
    email = EMAIL.search(text)
    if email:
        result.fields["email"] = Extracted(email.group(0), email.start(), email.end(), 0.99)
    phone = find_phone(text)
    if phone:
        result.fields["phone"] = Extracted(
            re.sub(r"[^\d+]", "", phone.group(0)), phone.start(), phone.end(), 0.95
        )
    name = NAME_LABEL.search(text)
    if name:
        result.fields["name"] = Extracted(name.group(1).strip(), name.start(1), name.end(1), 0.9)
    else:
        first_line = FIRST_LINE_NAME.match(text)
        if first_line:
            result.fields["name"] = Extracted(
                first_line.group(1), first_line.start(1), first_line.end(1), 0.7
            )
    education_entries = _education_entries(text)
    if education_entries:
        result.fields["education_entries"] = Extracted(education_entries, 0, 0, 0.75)
        best = education_entries[0]
        if best.get("school") and best.get("level") == result.value("education_level"):
            result.fields["school"] = Extracted(best["school"], 0, 0, 0.75)
        if best.get("major"):
            result.fields["major"] = Extracted(best["major"], 0, 0, 0.6)
    experience_entries = _experience_entries(text, today)
    if experience_entries:
        result.fields["experience"] = Extracted(experience_entries, 0, 0, 0.7)
    certificates = [(name, m) for name, p in _CERTIFICATES if (m := p.search(text))]
    if certificates:
        names = [
            n
            for n, _ in certificates
            if not (n == "CET-4" and any(c == "CET-6" for c, _ in certificates))
        ]
        result.fields["certificates"] = Extracted(
            names, certificates[0][1].start(), certificates[0][1].end(), 0.85
        )
    languages = [(name, m) for name, p in _LANGUAGES if (m := p.search(text))]
    if languages:
        result.fields["languages"] = Extracted(
            [n for n, _ in languages], languages[0][1].start(), languages[0][1].end(), 0.7
        )
    salary_match = _SALARY_EXPECTATION.search(text)
    if salary_match:
        salary = parse_salary(salary_match.group(1))
        if salary is not None and (salary.monthly_min or salary.monthly_max):
            result.fields["desired_salary_min"] = Extracted(
                salary.monthly_min or salary.monthly_max,
                salary_match.start(1),
                salary_match.end(1),
                0.85,
            )
    desired = _DESIRED_RE.search(text)
    if desired:
        titles = [t.strip() for t in re.split(r"[/、,，]", desired.group(1)) if t.strip()]
        result.fields["desired_titles"] = Extracted(titles, desired.start(1), desired.end(1), 0.8)
    return result


def with_resume_extraction(fields: dict[str, Any]) -> dict[str, Any]:
    """Candidate fields with the ``extraction`` of their ``resume_text`` added, as the store
    expects before it fills empty fields from it (every intake path runs this first)."""
    text = fields.get("resume_text")
    if not isinstance(text, str) or not text.strip():
        return fields
    return {**fields, "extraction": extract_from_resume(text).as_json()}
