"""Extracts profile fields from free résumé text (Chinese, English or mixed).

Only what the text states is returned: a field the text does not reveal stays None, never a
guess. Each field carries the span of the text it came from and a confidence that says how
it was found (a labelled value or an explicit list scores higher than a mention in prose).

The layouts recruiters receive are read alike: Word table templates (rows such as
``2017/07—2020/03 | 公司 | 职位``), job-board exports (基本信息/求职意向/工作经历 blocks,
``2020.04-至今``), plain-text and PDF CVs with month names (``Jul 2019 – Present``),
bilingual CVs. Contacts are found first and blanked out before dates are looked for, so a
phone number never becomes a job's dates; school periods stay apart from work periods, and
years of experience count work only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.contacts import CONTACT, EMAIL, find_name, find_phone
from core.domain import EducationLevel
from ingestion.salary import _MONTHS as _MONTHS_PAID
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

EDUCATION_PATTERNS: list[tuple[EducationLevel, re.Pattern[str]]] = [
    (EducationLevel.DOCTORATE, re.compile(r"博士|ph\.?\s?d\b|doctorate|doctor of", re.I)),
    (
        EducationLevel.MASTER,
        re.compile(
            r"硕士|研究生|master'?s|masters|master (?:of|in)\b|master degree|\bm\.?sc\b|\bm\.s\.|\bmba\b"
            r"|\bm\.?eng\b|\bm\.?a\.? in\b",
            re.I,
        ),
    ),
    (
        EducationLevel.BACHELOR,
        re.compile(
            r"本科|学士|统招本|bachelor'?s?|\bb\.?sc\b|\bb\.s\.|\bb\.?eng\b|\bb\.a\.|\bba in\b"
            r"|\bb\.?tech\b|\bb\.?\s?comp\b|undergraduate",
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


# -- lines and sections -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    start: int  # offset of the line in the text
    text: str  # as written
    masked: str  # contacts and links blanked, same length
    section: str  # work, education, skills, languages, salary, other

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_LINK = re.compile(r"(?:https?://|www\.|linkedin\.com/|github\.com/)\S+", re.I)
_HEADINGS = {
    "work": r"工作经[历验]|主要工作经历|工作履历|实习经[历验]|职业经历|工作背景"
    r"|(?:work|professional|employment|career)\s*(?:experience|history)|experience|employment"
    r"|work history",
    "education": r"教育(?:背景|经历|情况)|学习经历|学历背景|education(?:al background)?",
    "skills": r"专业技能|技能特长|技能清单|技能证书|技能|个人技能|(?:technical|core|key)?\s*skills",
    "languages": r"语言能力|语言|languages?",
    "salary": r"期望薪资|期望月薪|期望薪酬|expected salary",
    # Projects carry dates too, but a project is neither a job nor a school.
    "projects": r"项目经[历验]|项目介绍|主要项目|(?:key |selected )?projects|project experience",
    "other": r"求职意向|个人信息|基本信息|自我评价|个人评价|证书|资格证书|荣誉奖项|获奖情况|兴趣爱好"
    r"|summary|objective|profile|certificates?|certifications|awards|interests"
    r"|references|contact",
}
_HEADING_LINE = {
    name: re.compile(rf"^[【\[]?\s*(?:{words})\s*[】\]]?\s*[:：]?$", re.I)
    for name, words in _HEADINGS.items()
}


# Markdown or plain-text emphasis around a heading: "## 工作经历", "**Skills**".
_MARKUP = re.compile(r"^[\s#>*]+|[\s*]+$")


def _heading(line: str) -> str | None:
    """The section a short line opens ("工作经历", "【教育经历】", "Experience 工作经历",
    "## 技能")."""
    stripped = _MARKUP.sub("", line).strip()
    if not stripped or len(stripped) > 40:
        return None
    # A bilingual heading is two headings of one section: "工作经历 Work Experience".
    halves = re.findall(r"[\u4e00-\u9fff【】\[\]]+|[A-Za-z][A-Za-z ]*[A-Za-z]", stripped)
    for name, pattern in _HEADING_LINE.items():
        if pattern.match(stripped) or (
            len(halves) == 2 and all(pattern.match(h.strip()) for h in halves)
        ):
            return name
    return None


def _blank(text: str) -> str:
    """The text with contacts and links replaced by spaces (offsets unchanged)."""
    masked = CONTACT.sub(lambda m: " " * len(m.group(0)), text)
    return _LINK.sub(lambda m: " " * len(m.group(0)), masked)


def _lines(text: str) -> list[_Line]:
    masked = _blank(text)
    lines: list[_Line] = []
    offset, section = 0, "other"
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        opened = _heading(body)
        if opened:
            section = opened
        lines.append(_Line(offset, body, masked[offset : offset + len(body)], section))
        offset += len(raw)
    return lines


# -- dates ------------------------------------------------------------------------------------

_MONTH_NAMES = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# One point in time: 2019.07 / 2019/07 / 2019-07 / 2019年7月 / 07/2019 / Jul 2019 / 2019.
_POINT = (
    rf"(?:(?P<{{p}}y>(?:19|20)\d\d)\s*(?:[./\-]|年)\s*(?P<{{p}}m>\d{{1,2}})(?!\d)\s*月?"
    rf"|(?P<{{p}}m2>\d{{1,2}})\s*/\s*(?P<{{p}}y2>(?:19|20)\d\d)"
    rf"|(?P<{{p}}mn>{_MONTH_WORD})\s*,?\s*(?P<{{p}}y3>(?:19|20)\d\d)"
    rf"|(?P<{{p}}y4>(?:19|20)\d\d)(?:\s*年)?(?![\d./年-]*\d))"
)
_PRESENT = r"(?P<now>至今|今|现在|目前|present|now|current|today)"
_RANGE_RE = re.compile(
    rf"(?<![\d.])(?:{_POINT.replace('{p}', 's')})\s*(?:--|-|–|—|~|～|至|到|\bto\b|\buntil\b)\s*"
    rf"(?:{_PRESENT}|{_POINT.replace('{p}', 'e')})(?![\d])",
    re.I,
)


def _point(match: re.Match[str], prefix: str) -> tuple[int, int] | None:
    groups = match.groupdict()
    if groups[f"{prefix}y"]:
        year, month = int(groups[f"{prefix}y"]), int(groups[f"{prefix}m"])
    elif groups[f"{prefix}y2"]:
        year, month = int(groups[f"{prefix}y2"]), int(groups[f"{prefix}m2"])
    elif groups[f"{prefix}y3"]:
        name = groups[f"{prefix}mn"].lower()[:3]
        year, month = int(groups[f"{prefix}y3"]), _MONTH_NAMES.get(name, 0)
    elif groups[f"{prefix}y4"]:
        year, month = int(groups[f"{prefix}y4"]), 1
    else:
        return None
    return (year, month) if 1 <= month <= 12 else None


@dataclass(frozen=True)
class _Period:
    start: tuple[int, int]
    end: tuple[int, int] | None  # None: to the present
    span: tuple[int, int]  # in the line
    month_known: bool  # "2015 - 2019" gives years only

    def as_dates(self) -> tuple[str, str]:
        start = f"{self.start[0]:04d}-{self.start[1]:02d}"
        end = "present" if self.end is None else f"{self.end[0]:04d}-{self.end[1]:02d}"
        return start, end


def _periods(masked: str, today: date) -> list[_Period]:
    found = []
    for match in _RANGE_RE.finditer(masked):
        start = _point(match, "s")
        end = None if match.group("now") else _point(match, "e")
        if start is None or (end is None and not match.group("now")):
            continue
        if not 1950 <= start[0] <= today.year or (end is not None and end < start):
            continue
        month_known = not match.group("sy4")
        found.append(_Period(start, end, match.span(), month_known))
    return found


# -- experience and education -----------------------------------------------------------------

_SCHOOL_WORDS = re.compile(
    r"大学|学院|学校|中学|小学(?!.*(?:教师|老师))|本科|硕士|博士|大专|专科|university|college|school(?! of)|"
    r"institute of|academy|bachelor|master|ph\.?d|\bmba\b|\bb\.?sc\b|\bm\.?sc\b|\bb\.?eng\b|\bb\.?tech\b",
    re.I,
)
_COMPANY_WORDS = re.compile(
    r"(?:公司|集团|银行|医院|学校|小学|中学|学院|事务所|分所|工作室|研究院|研究所|中心|工厂|厂|商行|门店|酒店)"
    r"(?:（[^）]*）|\([^)]*\))?$"
    r"|\b(?:ltd|limited|inc|corp|corporation|co|company|group|bank|hospital|holdings|gmbh|llc"
    r"|technologies|technology|software|games|consulting|partners|university)\.?$",
    re.I,
)
_TITLE_WORDS = re.compile(
    r"工程师|经理|专员|主管|总监|设计师|护士|教师|讲师|老师|会计|出纳|助理|顾问|销售|代表|实习生|技术员|电工"
    r"|分析师|审计师|架构师|开发|运维|测试|文员|店长|司机|厨师|HRBP|SRE|柜员|主任|组长"
    r"|\b(?:engineer|manager|developer|nurse|analyst|designer|consultant|director|lead|specialist"
    r"|officer|accountant|teacher|intern|scientist|architect|administrator|coordinator"
    r"|assistant|representative|executive|researcher|associate|teller|head|programmer"
    r"|technician|auditor|supervisor|tester|clerk|partner|founder|sre)s?\b",
    re.I,
)
_DESCRIPTION = re.compile(
    r"^\s*(?:[-•*·●▪]|工作描述|工作内容|职责|负责|主要|描述|description)|[。.;；]\s*$", re.I
)
_PART_SPLIT = re.compile(r"\s*(?:[|｜·•]|\s--?\s|\s[—–]\s|[ \t]{2,}|\t)\s*")
_LABELLED_PART = re.compile(r"^(?:职\s*位|职\s*务|岗\s*位|title|position)\s*[:：|｜]\s*(.+)$", re.I)
_COMPANY_LABEL = re.compile(
    r"^(?:公\s*司(?:名称)?|单\s*位|工作单位|company|employer)\s*[:：|｜]\s*(.+)$", re.I
)
# What job boards add to a company or a period: "(1000-5000人)", "（20000人以上）",
# "[ 3 年9个月]".
_SIZE_NOTE = re.compile(r"\s*[（(][^）)]*\d+\s*人[^）)]*[）)]")
_DURATION_NOTE = re.compile(r"\s*[\[【（(]\s*(?:\d+\s*年)?\s*(?:\d+\s*个?月)?\s*[\]】）)]")
_DATE_LABEL = re.compile(r"(?:工作时间|时间|起止时间|在职时间|任职时间|period|dates?)", re.I)


def _tidy_part(part: str) -> str:
    part = _DURATION_NOTE.sub("", _SIZE_NOTE.sub("", re.sub(r"\(\s*\)|（\s*）", "", part)))
    part = part.strip(" \t,，:：;；-–—|｜·#*")
    # A period written in parentheses leaves its brackets behind: "Hospital (" … ")".
    return re.sub(r"\s*[（(]$|^[)）]\s*", "", part).strip(" \t,，:：;；-–—|｜·#*")


def _parts(texts: list[str]) -> list[str]:
    """The pieces a title and a company hide in: separated by bars, dashes, dots or wide
    spaces; on one plain line "Title at Company", "Title, Company" or, in Chinese,
    "公司 职位" with one space."""
    if len(texts) > 1:
        pieces = [p for t in texts for p in _PART_SPLIT.split(t)]
    else:
        pieces = _PART_SPLIT.split(texts[0]) if texts else []
    pieces = [_tidy_part(p) for p in pieces]
    pieces = [
        p for p in pieces if len(p) >= 2 and not _is_place(p) and not _DATE_LABEL.fullmatch(p)
    ]
    if len(pieces) == 1:
        one = pieces[0]
        for splitter in (r"\s+at\s+", r"\s+@\s+", r",\s+"):
            split = [_tidy_part(p) for p in re.split(splitter, one, maxsplit=1)]
            if len(split) == 2 and all(split):
                return split
        # "深圳市某某有限公司 后端开发 负责微服务架构": one space between Chinese words.
        split = [_tidy_part(p) for p in re.split(r"(?<=[\u4e00-\u9fff）)])\s(?=\S)", one)]
        split = [p for p in split if p and not _DESCRIPTION.search(p)]
        if len(split) >= 2:
            return split
    return pieces


def _is_place(text: str) -> bool:
    return bool(
        re.fullmatch(r"[\u4e00-\u9fff]{2,3}(?:市|区)?|[A-Z][a-z]+(?:,\s*[A-Z][a-z]+)?", text)
        and region_directory().city(text) is not None
    )


def _role(texts: list[str]) -> tuple[str | None, str | None]:
    """(title, company) from the text next to a work period."""
    title = company = None
    plain = []
    for text in texts:
        labelled = _LABELLED_PART.match(text.strip())
        employer = _COMPANY_LABEL.match(text.strip())
        if labelled:
            title = _tidy_part(labelled.group(1))
        elif employer:
            company = _tidy_part(employer.group(1))
        else:
            plain.append(text)
    parts = _parts(plain) if plain else []
    if title and not company and parts:
        company = parts[0]
    elif company and not title and parts:
        title = parts[0]
    elif not title and not company and parts:
        if len(parts) == 1:
            lone = parts[0]
            return (None, lone) if _company_score(lone) > _title_score(lone) else (lone, None)
        scored = sorted(
            range(len(parts)), key=lambda i: _company_score(parts[i]) - _title_score(parts[i])
        )
        a, b = parts[0], parts[1]
        score_a = _company_score(a) - _title_score(a)
        score_b = _company_score(b) - _title_score(b)
        if len(parts) > 2:
            company, title = parts[scored[-1]], parts[scored[0]]
        elif score_a > score_b:
            company, title = a, b
        elif score_b > score_a:
            company, title = b, a
        elif re.search(r"[\u4e00-\u9fff]", a):  # Chinese résumés write the employer first
            company, title = a, b
        else:
            title, company = a, b
    return title, company


def _company_score(text: str) -> int:
    return 2 * bool(_COMPANY_WORDS.search(text)) + bool(re.search(r"有限|股份|科技|网络", text))


def _title_score(text: str) -> int:
    return bool(_TITLE_WORDS.search(text)) + bool(_TITLE_WORDS.search(text[-6:]))


def _is_education(line: _Line, period: _Period) -> bool:
    """A school period: in an education section, or with a school or degree on its line."""
    if line.section == "education":
        return True
    rest = line.text[: period.span[0]] + line.text[period.span[1] :]
    return bool(_SCHOOL_WORDS.search(rest)) and not _TITLE_WORDS.search(rest)


def _context(lines: list[_Line], index: int, used: set[int]) -> list[int]:
    """Lines next to a period alone on its line that name its role: up to two lines before
    it (neither dated, nor a heading, nor a description), else up to two after it."""

    def usable(i: int) -> bool:
        line = lines[i]
        text = line.text.strip()
        return (
            i not in used
            and bool(text)
            and _heading(text) is None
            and not _RANGE_RE.search(line.masked)
            and not _DESCRIPTION.search(text)
            and len(text) <= 80
        )

    before: list[int] = []
    for i in (index - 1, index - 2):
        if i < 0 or not usable(i):
            break
        before.insert(0, i)
    if before:
        return before
    after: list[int] = []
    for i in (index + 1, index + 2):
        if i >= len(lines) or not usable(i):
            break
        after.append(i)
    return after


@dataclass
class _Entry:
    title: str | None
    company: str | None
    period: _Period
    start: int  # text offsets of the entry (period and role lines)
    end: int


def _work_entries(lines: list[_Line], today: date) -> tuple[list[_Entry], list[_Entry]]:
    """(work entries, education entries), each with its role and span."""
    work: list[_Entry] = []
    schooling: list[_Entry] = []
    used: set[int] = set()
    for index, line in enumerate(lines):
        periods = _periods(line.masked, today)
        if not periods:
            continue
        period = periods[0]
        if line.section == "projects":
            continue
        before = line.text[: period.span[0]]
        after = line.text[period.span[1] :]
        rest = [
            t for t in (before, after) if _tidy_part(t) and not _DATE_LABEL.fullmatch(_tidy_part(t))
        ]
        start, end = line.start, line.end
        if _is_education(line, period):
            schooling.append(_Entry(None, None, period, start, end))
            continue
        role_lines = [] if rest else _context(lines, index, used)
        texts = rest or [lines[i].text for i in role_lines]
        if role_lines and any(_SCHOOL_WORDS.search(lines[i].text) for i in role_lines):
            schooling.append(_Entry(None, None, period, start, end))
            continue
        used.update(role_lines)
        for i in role_lines:
            start, end = min(start, lines[i].start), max(end, lines[i].end)
        title, company = _role(texts)
        if company and not title:
            found = _title_below(lines, index, used)
            if found is not None:
                title, below = found
                used.add(below)
                end = max(end, lines[below].end)
        elif title and not company:
            company = _company_above(lines, index)
        work.append(_Entry(title, company, period, start, end))
    return work, schooling


def _title_below(lines: list[_Line], index: int, used: set[int]) -> tuple[str, int] | None:
    """A board export's title on a line of its own under the company line ("所属行业：…"
    lines in between skipped): the title and its line."""
    for i in range(index + 1, min(index + 4, len(lines))):
        text = lines[i].text.strip()
        if not text or _heading(text) or _RANGE_RE.search(lines[i].masked):
            return None
        if i in used or _FIELD_LABEL.match(text) or _DESCRIPTION.search(text):
            continue
        parts = [_tidy_part(p) for p in _PART_SPLIT.split(text)]
        titled = [p for p in parts if _title_score(p) > _company_score(p)]
        return (titled[0], i) if titled else None
    return None


def _company_above(lines: list[_Line], index: int) -> str | None:
    """The employer heading several roles ("Microsoft Research Asia" over "Software
    Engineer II, Jan 2022 – Present" and "Software Engineer, Sept 2019 – Dec 2021")."""
    for i in range(index - 1, max(index - 5, -1), -1):
        text = lines[i].text.strip()
        if not text or _heading(text):
            return None
        if _RANGE_RE.search(lines[i].masked) or _DESCRIPTION.search(text):
            continue
        part = _tidy_part(text)
        if (
            2 <= len(part) <= 60
            and _company_score(part) >= _title_score(part)
            and not _is_place(part)
        ):
            return part
        return None
    return None


def _experience(work: list[_Entry]) -> Extracted | None:
    if not work:
        return None
    entries = []
    for entry in work:
        start, end = entry.period.as_dates()
        entries.append({"title": entry.title, "company": entry.company, "start": start, "end": end})
    found = sum(bool(e.title) + bool(e.company) for e in work) / (2 * len(work))
    return Extracted(entries, work[0].start, work[-1].end, round(0.5 + 0.4 * found, 2))


def _years_from_work(work: list[_Entry], today: date) -> Extracted | None:
    # Year-only periods ("2014 - 2018") count from January to January: a coarse reading,
    # hence the lower confidence.
    dated = work
    if not dated:
        return None
    periods = [dict(zip(("start", "end"), e.period.as_dates(), strict=True)) for e in dated]
    for period in periods:
        if period["end"] == "present":
            period["end"] = None  # type: ignore[assignment]
    years = years_from_experience(periods, today=today)  # type: ignore[arg-type]
    if years is None or years <= 0:
        return None
    confidence = 0.85 if all(e.period.month_known for e in dated) else 0.7
    return Extracted(years, min(e.start for e in dated), max(e.end for e in dated), confidence)


def _stated_years(text: str) -> Extracted | None:
    for pattern in _YEARS_PATTERNS:
        match = pattern.search(text)
        if match:
            years = _number(match.group(1))
            if 0 < years <= 50:
                return Extracted(years, match.start(), match.end(), 0.7)
    return None


def _education(text: str) -> Extracted | None:
    """The highest degree the text names."""
    for level, pattern in EDUCATION_PATTERNS:
        match = pattern.search(text)
        if match:
            return Extracted(level.value, match.start(), match.end(), 0.85)
    return None


_FULL_TIME_STUDY = re.compile(r"非统招|非全日制|自考|成人教育|函授|网络教育|统招|全日制", re.I)
_SCHOOL_NAME = re.compile(
    r"([\u4e00-\u9fff（）()]{2,20}(?:大学|学院|学校|中学)(?:（[\u4e00-\u9fff]+）)?"
    r"|(?:[A-Z][\w'.-]*\s+){0,5}(?:University|College|Institute|School)(?:\s+of(?:\s+[A-Z][\w'.-]*)+)?)"
)


def _education_entries(
    lines: list[_Line], schooling: list[_Entry]
) -> tuple[list[dict[str, object]], list[tuple[int, int]]]:
    """Degree, school, major and dates of each education line (as written, in order), and
    the span of each."""
    periods = {e.start: e.period for e in schooling}
    entries: list[dict[str, object]] = []
    spans: list[tuple[int, int]] = []
    for line in lines:
        school = _SCHOOL_NAME.search(line.text)
        level = next((lvl.value for lvl, p in EDUCATION_PATTERNS if p.search(line.text)), None)
        if not school or not (level or line.start in periods):
            continue
        period = periods.get(line.start)
        study = _FULL_TIME_STUDY.search(line.text)
        rest = line.text[school.end() :]
        major_match = re.search(
            r"([\u4e00-\u9fff]{2,12}(?:专业|学|工程|技术|管理|设计|自动化))", rest
        ) or re.search(r"\b(?:in|of)\s+([A-Z][\w ]{2,40})", line.text)
        dates = period.as_dates() if period else (None, None)
        entries.append({
            "level": level,
            "school": school.group(1).strip(),
            "major": major_match.group(1).strip() if major_match else None,
            "start": dates[0],
            "end": dates[1] if dates[1] != "present" else None,
            "full_time": None if not study else not re.match(r"非|自考|成人|函授|网络", study.group(0)),
        })  # fmt: skip
        spans.append((line.start, line.end))
    return entries, spans


# -- city -------------------------------------------------------------------------------------

# Where the person lives first; an expected place after; a household registration never.
_CITY_LABELS = [
    (
        re.compile(
            r"(?<!户口)(?<!户籍)(?:现居(?:住)?(?:地|城市)?|目前居住地|居住地|所在地|所在城市|现居城市|城市|location|based in|address|city|地址)"
            r"(?:\s+(?:城市|city|现居|location))?\s*[:：|｜]?\s*([^\n;；|｜·•]{1,40})",
            re.I,
        ),
        0.9,
    ),
    (
        re.compile(
            r"(?:期望(?:工作)?(?:城市|地点|地区)|工作地点)\s*[:：|｜]?\s*([^\n;；|｜]{1,40})", re.I
        ),
        0.75,
    ),
]


def _city(text: str) -> Extracted | None:
    regions = region_directory()
    for pattern, confidence in _CITY_LABELS:
        for match in pattern.finditer(text):
            value = match.group(1).strip()
            region = regions.city(value) or regions.find_city_in_text(value)
            if region is not None:
                return Extracted(region.short_name, match.start(1), match.end(1), confidence)
    region = regions.find_city_in_text(_blank(text))
    if region is None:
        return None
    for name in (region.short_name, region.pinyin):
        position = text.find(name)
        if position >= 0:
            return Extracted(region.short_name, position, position + len(name), 0.6)
    return Extracted(region.short_name, 0, 0, 0.5)


# -- skills and languages ---------------------------------------------------------------------

_SKILLS_LABEL = re.compile(
    r"^[\s#>*]*[【\[]?(?:专业技能|技能特长|技能清单|个人技能|技能|(?:technical |core |key )?skills)"
    r"(?:\s*/?\s*(?:专业技能|技能|(?:technical )?skills))?[】\]]?[\s*]*[:：]?\s*",
    re.I,
)
_LANGUAGES_LABEL = re.compile(
    r"^[\s#>*]*[【\[]?(?:语言能力|外语能力|语言|languages?)(?:\s*/?\s*(?:语言|languages?))?[】\]]?"
    r"[\s*]*[:：]?\s*",
    re.I,
)
_FIELD_LABEL = re.compile(r"^\s*[\u4e00-\u9fffA-Za-z ]{1,12}\s*[:：]")
_ITEM_SPLIT = re.compile(r"[,，、;；|｜]|\s+/\s+")
_SKILL_VERBS = re.compile(
    r"^(?:熟练掌握|熟练使用|熟练|精通|熟悉|掌握|了解|擅长|会使用|能使用|proficient (?:in|with)|"
    r"familiar with|experienced (?:in|with)|expert in|strong)\s*",
    re.I,
)
_LANGUAGES = [
    ("普通话", re.compile(r"普通话|国语|mandarin|putonghua", re.I)),
    ("粤语", re.compile(r"粤语|广东话|cantonese", re.I)),
    (
        "英语",
        re.compile(r"英语|英文|english|\bCET[-\s]?[46]|IELTS|TOEFL|TEM[-\s]?[48]|雅思|托福", re.I),
    ),
    ("日语", re.compile(r"日语|日文|japanese|JLPT", re.I)),
    ("韩语", re.compile(r"韩语|朝鲜语|korean", re.I)),
    ("德语", re.compile(r"德语|german", re.I)),
    ("法语", re.compile(r"法语|french", re.I)),
    ("西班牙语", re.compile(r"西班牙语|spanish", re.I)),
    ("葡萄牙语", re.compile(r"葡萄牙语|portuguese", re.I)),
    ("俄语", re.compile(r"俄语|russian", re.I)),
    ("意大利语", re.compile(r"意大利语|italian", re.I)),
    ("阿拉伯语", re.compile(r"阿拉伯语|arabic", re.I)),
    ("印地语", re.compile(r"印地语|hindi", re.I)),
    ("泰米尔语", re.compile(r"泰米尔语|tamil", re.I)),
    ("波兰语", re.compile(r"波兰语|polish", re.I)),
    ("泰语", re.compile(r"泰语|\bthai\b", re.I)),
    ("越南语", re.compile(r"越南语|vietnamese", re.I)),
    ("马来语", re.compile(r"马来语|malay\b", re.I)),
]
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


def _language_of(item: str) -> str | None:
    return next((name for name, pattern in _LANGUAGES if pattern.search(item)), None)


_PROFICIENCY = re.compile(
    r"[（(][^）)]*[）)]|CET[-\s]?[46]|TEM[-\s]?[48]|HSK\s*\d|IELTS\s*[\d.]*|TOEFL\s*\d*|[四六八]级"
    r"|专业|熟练|精通|良好|流利|一般|母语|基础|读写|听说|native|fluent|basic|intermediate|advanced"
    r"|business|working|proficiency|[-–:：\s]",
    re.I,
)


def _is_language_item(item: str) -> bool:
    """ "英语CET-6", "English (fluent)", "粤语" name a language; "少儿英语" (a subject
    taught) and "English teaching" do not."""
    name = _language_of(item)
    if name is None:
        return False
    pattern = dict(_LANGUAGES)[name]
    return len(_PROFICIENCY.sub("", pattern.sub("", item, count=1))) <= 1


def _listed(lines: list[_Line], label: re.Pattern[str]) -> list[tuple[str, int]]:
    """(item, offset) of every item of an explicit list: a labelled line ("技能：A、B",
    "Skills 技能: A, B") with its continuation lines, or the lines under a heading."""
    items: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        opened = label.match(line.text)
        if not opened:
            continue
        rest = line.text[opened.end() :]
        if rest.strip() and not re.search(r"[:：]", opened.group(0)):
            continue  # "技能培训负责人" is prose, not a list
        block = [(rest, line.start + opened.end())] if rest.strip() else []
        # A heading alone takes the lines under it; a labelled line goes on only while it
        # ends in a separator ("A、B、" then "C").
        follows = not rest.strip() or bool(re.search(r"[,，、;；]\s*$", rest))
        for following in lines[index + 1 : index + 9]:
            text = following.text
            if not follows:
                break
            if not text.strip():
                if block:
                    break
                continue
            if _heading(text) or _FIELD_LABEL.match(text) or _RANGE_RE.search(following.masked):
                break
            block.append((text, following.start))
            follows = not rest.strip() or bool(re.search(r"[,，、;；]\s*$", text))
        for text, offset in block:
            position = 0
            for piece in _ITEM_SPLIT.split(text):
                position = text.find(piece, position)
                item = _SKILL_VERBS.sub("", piece.strip()).rstrip("等 .。")
                if item and len(item) <= 40 and not re.search(r"[。！？]", item):
                    items.append((item, offset + position + piece.find(item[:1])))
                position += len(piece)
    return items


def _skills(lines: list[_Line], text: str) -> tuple[Extracted | None, Extracted | None]:
    """(skills, free skills): an explicit list's items, those the vocabulary does not know
    kept as written (the free skills); mentions in prose only when there is no list.
    Languages and certificates are never skills."""
    vocabulary = skill_vocabulary()
    listed = [
        (item, offset)
        for item, offset in _listed(lines, _SKILLS_LABEL)
        if not _is_language_item(item)
        and not any(p.search(item) for _, p in _CERTIFICATES)
        and not re.match(r"^(?:证书|certificates?)\b", item, re.I)
    ]
    if listed:
        names: dict[str, str] = {}
        free: list[str] = []
        for item, _ in listed:
            skill = vocabulary.lookup(item)
            key = skill.id if skill else vocabulary.canonical_id(item)
            if key in names:
                continue
            names[key] = skill.label("en" if item.isascii() else "zh") if skill else item
            if skill is None:
                free.append(item)
        start = min(o for _, o in listed)
        end = max(o + len(i) for i, o in listed)
        skills = Extracted(list(names.values()), start, end, 0.9)
        return skills, (Extracted(free, start, end, 0.8) if free else None)
    prose = [
        (skill, s, e)
        for skill, s, e in vocabulary.find_in_text(_blank(text))
        if not _language_of(skill.en) and not _language_of(skill.zh)
    ]
    if not prose:
        return None, None
    labels = [skill.label("en" if text[s:e].isascii() else "zh") for skill, s, e in prose]
    return Extracted(labels, min(s for _, s, _ in prose), max(e for *_, e in prose), 0.6), None


def _languages(lines: list[_Line], text: str) -> Extracted | None:
    """Languages from a languages line or section; without one, languages the text names
    (a CET or IELTS score names English)."""
    listed = _listed(lines, _LANGUAGES_LABEL)
    found: dict[str, tuple[int, int]] = {}
    for item, offset in listed:
        for name, pattern in _LANGUAGES:
            if pattern.search(item):
                found.setdefault(name, (offset, offset + len(item)))
    confidence = 0.9
    if not found:
        confidence = 0.6
        for name, pattern in _LANGUAGES:
            match = pattern.search(text)
            if match and not (name == "英语" and _looks_like_subject(text, match)):
                found[name] = match.span()
    if not found:
        return None
    spans = list(found.values())
    return Extracted(list(found), min(s for s, _ in spans), max(e for _, e in spans), confidence)


def _looks_like_subject(text: str, match: re.Match[str]) -> bool:
    """ "英文名", "English Literature": the word names something other than a language."""
    after = text[match.end() : match.end() + 3]
    return after.startswith(("名", " Literature", " literature"))


# -- desired pay and titles -------------------------------------------------------------------

_SALARY_LABEL = re.compile(
    r"(?:期望(?:薪资|月薪|薪酬|工资|待遇)|薪资要求|要求薪资|expected salary|salary expectation|desired salary"
    r"|expected(?=\s*[:：]))"
    r"(?:\s+(?:expected salary|expected|salary))?\s*[:：|｜]?\s*([^\n|｜;；]{0,50})",
    re.I,
)
# A board's one-line expectation: "期望：Android开发 · 深圳 · 20-28K·13薪".
_EXPECTATION_LINE = re.compile(r"^\s*(?:期望|求职意向)\s*[:：](.+)$", re.M)
_PAY = re.compile(
    r"\d+(?:\.\d+)?\s*[kK千万wW]?\s*(?:[-~～—–至到]|to)\s*\d+(?:\.\d+)?\s*[kK千万wW]"
    r"(?:[^,，\n]{0,20}?(?:[·*xX×]\s*1[2-8]\s*薪?|\d{2}\s*(?:薪|months)))?"
    r"|\d{4,6}\s*(?:[-~～—–至到]|to)\s*\d{4,6}(?:\s*元(?:/月)?)?",
)


def _salary_fields(text: str) -> dict[str, Extracted]:
    """desired_salary_min / _max (monthly CNY) and _months (only when stated)."""
    candidates: list[tuple[str, int, float]] = []
    for match in _SALARY_LABEL.finditer(text):
        value, start = match.group(1), match.start(1)
        if not value.strip():  # the value on the next line, as in a side column
            following = text[match.end() :].lstrip("\n")
            value = following.split("\n", 1)[0]
            start = match.end() + (len(text[match.end() :]) - len(following))
        candidates.append((value, start, 0.9))
    for match in _EXPECTATION_LINE.finditer(text):
        pay = _PAY.search(match.group(1))
        if pay:
            candidates.append((pay.group(0), match.start(1) + pay.start(), 0.8))
    for value, start, confidence in candidates:
        salary = parse_salary(value)
        if salary is None or not (salary.monthly_min or salary.monthly_max):
            continue
        end = start + len(value.rstrip())
        out = {}
        if salary.monthly_min is not None:
            out["desired_salary_min"] = Extracted(salary.monthly_min, start, end, confidence)
        if salary.monthly_max is not None:
            out["desired_salary_max"] = Extracted(salary.monthly_max, start, end, confidence)
        months = _MONTHS_PAID.search(value)
        if months:
            out["desired_salary_months"] = Extracted(
                salary.months_per_year, start + months.start(), start + months.end(), confidence
            )
        return out
    return {}


_DESIRED_RE = re.compile(
    r"(?:求职意向|期望职位|意向职位|应聘职位|求职岗位|期望从事职业|objective|target role|desired position)"
    r"\s*[:：|｜]\s*([^\n|｜;；]{2,60})",
    re.I,
)


def _desired_titles(text: str) -> Extracted | None:
    desired = _DESIRED_RE.search(text)
    if not desired:
        return None
    value = re.split(r"[，,]\s*期望|\s+期望|[·•]", desired.group(1))[0]
    titles = [t.strip() for t in re.split(r"[/、,，]", value) if t.strip()]
    if not titles:
        return None
    return Extracted(titles, desired.start(1), desired.start(1) + len(value), 0.8)


_NO_EXPERIENCE = re.compile(
    r"应届(?:毕业)?生|无(?:全职)?工作经[验历]|无相关经验|recent graduate|fresh graduate"
    r"|no (?:full-time |work )?experience",
    re.I,
)


def extract_from_resume(text: str, *, today: date | None = None) -> ResumeExtraction:
    """Every field the text reveals (see the module docstring)."""
    today = today or date.today()
    result = ResumeExtraction()
    fields = result.fields
    lines = _lines(text)
    work, schooling = _work_entries(lines, today)

    skills, free_skills = _skills(lines, text)
    if skills:
        fields["skills"] = skills
    if free_skills:
        fields["free_skills"] = free_skills
    # Dated work periods say more than a stated total, which a board export freezes.
    years = _years_from_work(work, today) or _stated_years(text)
    if years is None:
        graduate = _NO_EXPERIENCE.search(text)
        if graduate:
            years = Extracted(0.0, graduate.start(), graduate.end(), 0.7)
    if years:
        fields["years_experience"] = years
    education = _education(text)
    education_level = education.value if education else None
    if education:
        fields["education_level"] = education
    city = _city(text)
    if city:
        fields["city"] = city
    email = EMAIL.search(text)
    if email:
        fields["email"] = Extracted(email.group(0), email.start(), email.end(), 0.99)
    phone = find_phone(text)
    if phone:
        fields["phone"] = Extracted(
            re.sub(r"[^\d+]", "", phone.group(0)), phone.start(), phone.end(), 0.95
        )
    name = find_name(text)
    if name:
        fields["name"] = Extracted(name[0], name[1], name[2], name[3])
    education_entries, spans = _education_entries(lines, schooling)
    if education_entries:
        fields["education_entries"] = Extracted(education_entries, spans[0][0], spans[-1][1], 0.75)
        best = next(
            (i for i, e in enumerate(education_entries) if e["level"] == education_level),
            None,
        )
        if best is not None and education_entries[best].get("school"):
            start, end = spans[best]
            fields["school"] = Extracted(education_entries[best]["school"], start, end, 0.75)
            if education_entries[best].get("major"):
                fields["major"] = Extracted(education_entries[best]["major"], start, end, 0.6)
    experience = _experience(work)
    if experience:
        fields["experience"] = experience
    certificates = [(name, m) for name, p in _CERTIFICATES if (m := p.search(text))]
    if certificates:
        names = [
            n
            for n, _ in certificates
            if not (n == "CET-4" and any(c == "CET-6" for c, _ in certificates))
        ]
        fields["certificates"] = Extracted(
            names, certificates[0][1].start(), certificates[0][1].end(), 0.85
        )
    languages = _languages(lines, text)
    if languages:
        fields["languages"] = languages
    fields.update(_salary_fields(text))
    desired = _desired_titles(text)
    if desired:
        fields["desired_titles"] = desired
    return result


def with_resume_extraction(fields: dict[str, Any]) -> dict[str, Any]:
    """Candidate fields with the ``extraction`` of their ``resume_text`` added, as the store
    expects before it fills empty fields from it (every intake path runs this first)."""
    text = fields.get("resume_text")
    if not isinstance(text, str) or not text.strip():
        return fields
    return {**fields, "extraction": extract_from_resume(text).as_json()}
