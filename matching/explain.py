"""What a recruiter or job seeker reads next to a score: one-line reasons in their language,
and for each matched skill the line of the résumé that shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from matching.scoring import MatchScore
from representation.profiles import CandidateProfile, JobProfile
from store.models import Candidate
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary

LANGUAGES = ("en", "zh")
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])|\n|(?<=\.)\s+")
_MAX_EVIDENCE_CHARS = 160
_EDUCATION_NAMES = {
    "en": {0: "no degree", 1: "high school", 2: "associate degree", 3: "bachelor's degree",
           4: "master's degree", 5: "doctorate"},
    "zh": {0: "不限", 1: "高中", 2: "大专", 3: "本科", 4: "硕士", 5: "博士"},
}  # fmt: skip


def preferred_language(accept_language: str | None) -> str:
    """``zh`` or ``en`` from an Accept-Language header (highest q first); English by default."""
    if not accept_language:
        return "en"
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        for language in LANGUAGES:
            if tag == language or tag.startswith(language + "-"):
                return language
    return "en"


@dataclass(frozen=True)
class SkillEvidence:
    skill: str
    source: str  # "experience[0]", "summary", "resume_text" or "skills" (listed only)
    text: str


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or line) of ``text`` that holds the span."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    following = _SENTENCE_END.search(text, end)
    right = following.start() if following else len(text)
    return text[left:right].strip()


def _clip(sentence: str) -> str:
    return (
        sentence
        if len(sentence) <= _MAX_EVIDENCE_CHARS
        else sentence[: _MAX_EVIDENCE_CHARS - 1] + "…"
    )


def skill_evidence(
    candidate: Candidate, skill_ids: list[str], language: str = "en"
) -> list[SkillEvidence]:
    """For each matched skill, the first place in the candidate's own words that mentions it:
    a past job, then the summary, then the résumé text; else the skills list."""
    vocabulary = skill_vocabulary()
    sources: list[tuple[str, str]] = []
    for i, entry in enumerate(candidate.experience or []):
        text = " ".join(filter(None, [entry.get("title"), entry.get("description")]))
        sources.append((f"experience[{i}]", text))
    sources += [("summary", candidate.summary or ""), ("resume_text", candidate.resume_text or "")]
    wanted = set(skill_ids)
    found: dict[str, SkillEvidence] = {}
    for source, text in sources:
        if len(found) == len(wanted):
            break
        for skill_id in sorted(wanted - set(found)) if text else ():
            span = vocabulary.first_mention(text, skill_id)
            if span is not None:
                label = vocabulary.display_name(skill_id, language)
                found[skill_id] = SkillEvidence(label, source, _clip(_sentence_around(text, *span)))
    return [
        found.get(s) or SkillEvidence(vocabulary.display_name(s, language), "skills", "")
        for s in skill_ids
    ]


def _years(value: float) -> str:
    return f"{value:g}"


def _join(names: list[str], language: str) -> str:
    return ("、" if language == "zh" else ", ").join(names)


def _place(city: str | None, language: str) -> str | None:
    """A city as the reader writes it: 深圳 in Chinese, Shenzhen in English."""
    region = region_directory().city(city)
    if region is None:
        return city
    return region.short_name if language == "zh" else region.pinyin or region.short_name


def reasons(
    job: JobProfile, candidate: CandidateProfile, match: MatchScore, language: str
) -> list[str]:
    """One line per factor that has something to say, hard mismatches first, then the rest by
    their contribution to the score."""
    zh = language == "zh"
    vocabulary = skill_vocabulary()
    lines: list[tuple[float, str]] = []  # (sort key, line)
    contribution = match.contributions
    factors = match.factors

    location = factors["location"]
    job_city, candidate_city = _place(job.city, language), _place(candidate.city, language)
    if location.hard_mismatch:
        lines.append((-2.0, f"职位需在{job_city}到岗，候选人在{candidate_city}" if zh
                      else f"On-site in {job_city}; the candidate is in {candidate_city}"))  # fmt: skip
    elif job.remote:
        lines.append(
            (-contribution.get("location", 0.0), "可远程办公" if zh else "Remote position")
        )
    elif location.score == 1.0:
        lines.append((-contribution.get("location", 0.0),
                      f"同在{job_city}" if zh else f"Both in {job_city}"))  # fmt: skip

    salary = factors["salary"]
    top = job.salary_max if job.salary_max is not None else job.salary_min
    if salary.hard_mismatch and candidate.desired_salary_min is not None and top is not None:
        lines.append((-2.0, f"期望月薪不低于 {candidate.desired_salary_min:g} 元，职位最高 {top:g} 元" if zh
                      else f"Expects at least {candidate.desired_salary_min:g} CNY/month; the posting pays "
                           f"up to {top:g}"))  # fmt: skip
    elif salary.score == 1.0:
        lines.append((-contribution.get("salary", 0.0), "薪资期望在职位范围内" if zh
                      else "Salary expectation within the posting's range"))  # fmt: skip

    required = list(job.required_skills)
    if required:
        have = [s for s in required if s in candidate.skills]
        names = [vocabulary.display_name(s, language) for s in have]
        if have:
            lines.append((-contribution.get("skills", 0.0),
                          f"具备 {len(required)} 项必备技能中的 {len(have)} 项：{_join(names, language)}" if zh
                          else f"Has {len(have)} of {len(required)} required skills: "
                               f"{_join(names, language)}"))  # fmt: skip
        missing = [
            vocabulary.display_name(s, language) for s in required if s not in candidate.skills
        ]
        if missing:
            lines.append((-0.001, f"缺少必备技能：{_join(missing, language)}" if zh
                          else f"Missing required skills: {_join(missing, language)}"))  # fmt: skip
    elif match.matched_skills:
        lines.append((-contribution.get("skills", 0.0),
                      f"匹配技能：{_join(match.matched_skills, language)}" if zh
                      else f"Matching skills: {_join(match.matched_skills, language)}"))  # fmt: skip

    title = factors["title"]
    if title.score is not None and title.score >= 0.7 and candidate.titles:
        lines.append((-contribution.get("title", 0.0),
                      f"求职方向“{candidate.titles[0]}”与职位“{job.title}”相符" if zh
                      else f"Looks for '{candidate.titles[0]}', which fits '{job.title}'"))  # fmt: skip

    if job.min_years:
        if candidate.years is None:
            lines.append((-0.0, f"要求 {_years(job.min_years)} 年经验，候选人经验未知" if zh
                          else f"{_years(job.min_years)} years required; experience unknown"))  # fmt: skip
        elif candidate.years >= job.min_years:
            lines.append((-contribution.get("experience", 0.0),
                          f"{_years(candidate.years)} 年经验（要求 {_years(job.min_years)} 年）" if zh
                          else f"{_years(candidate.years)} years of experience "
                               f"({_years(job.min_years)} required)"))  # fmt: skip
        else:
            # Far below the years asked is a hard mismatch: listed first, with the others.
            key = -2.0 if factors["experience"].hard_mismatch else -0.0005
            lines.append((key, f"经验 {_years(candidate.years)} 年，少于要求的 {_years(job.min_years)} 年" if zh
                          else f"Only {_years(candidate.years)} years of experience; "
                               f"{_years(job.min_years)} required"))  # fmt: skip

    if job.education_rank:
        required_name = _EDUCATION_NAMES[language].get(job.education_rank, "")
        if candidate.education_rank is not None and candidate.education_rank >= job.education_rank:
            lines.append((-contribution.get("education", 0.0),
                          f"学历达到要求（{required_name}）" if zh
                          else f"Meets the education requirement ({required_name})"))  # fmt: skip
        elif candidate.education_rank is not None:
            lines.append((-0.0004, f"学历低于要求（要求{required_name}）" if zh
                          else f"Below the education requirement ({required_name})"))  # fmt: skip

    semantic = factors["semantic"]
    if semantic.score is not None and semantic.score >= 0.6:
        lines.append((-contribution.get("semantic", 0.0), "简历内容与职位描述高度相关" if zh
                      else "Résumé and posting describe closely related work"))  # fmt: skip
    lines.sort(key=lambda item: item[0])
    return [line for _, line in lines]
