"""Deterministic bilingual sample postings and candidates for the demo, tests, benchmarks and
evaluation. Occupations come from ``ingestion.archetypes`` (each tied to a CSCO 2022 code and
an ESCO occupation whose labels add title variety), places from the China regions data,
skills from the project's vocabulary. The same seed always yields the same records."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from ingestion.archetypes import ARCHETYPES, Archetype
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary

BASE_DATE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# Where postings and candidates are: mostly Shenzhen, then the Greater Bay Area and beyond.
CITY_WEIGHTS = (
    ("深圳", 70), ("广州", 8), ("东莞", 5), ("惠州", 3), ("佛山", 3), ("珠海", 3),
    ("香港", 3), ("上海", 3), ("北京", 2),
)  # fmt: skip
ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
)
ZH_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲晨宇浩然思雨欣怡子轩梓涵俊杰嘉"
)
EN_FIRST = (
    "Alex",
    "Amy",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Eric",
    "Grace",
    "Henry",
    "Iris",
    "Jason",
    "Kevin",
    "Lily",
    "Michael",
    "Nina",
    "Oscar",
    "Peter",
    "Rachel",
    "Sam",
    "Tina",
    "Vincent",
    "Wendy",
)
EN_LAST = (
    "Chan",
    "Cheung",
    "Wong",
    "Lee",
    "Ng",
    "Smith",
    "Brown",
    "Lam",
    "Ho",
    "Tan",
    "Lin",
    "Garcia",
    "Müller",
    "Kim",
    "Patel",
    "Nguyen",
    "Ivanov",
    "Silva",
    "Chen",
    "Liu",
)
COMPANY_ROOTS = (
    "腾云",
    "华创",
    "智联",
    "前海",
    "鹏城",
    "科睿",
    "星河",
    "海纳",
    "领航",
    "卓越",
    "金蝶湾",
    "南山",
    "越海",
    "博远",
    "新元",
    "天工",
    "锐思",
    "聚能",
    "极光",
    "宏图",
)
COMPANY_ROOTS_EN = (
    "Tengyun",
    "Huachuang",
    "Zhilian",
    "Qianhai",
    "Pengcheng",
    "Kerui",
    "Xinghe",
    "Haina",
    "Linghang",
    "Zhuoyue",
    "Jindie Bay",
    "Nanshan",
    "Yuehai",
    "Boyuan",
    "Xinyuan",
    "Tiangong",
    "Ruisi",
    "Juneng",
    "Aurora",
    "Hongtu",
)
INDUSTRIES = (
    ("科技", "Technology"),
    ("电子", "Electronics"),
    ("智能制造", "Smart Manufacturing"),
    ("供应链", "Supply Chain"),
    ("电子商务", "E-commerce"),
    ("教育", "Education"),
    ("医疗", "Healthcare"),
    ("餐饮管理", "Catering"),
    ("建设工程", "Construction"),
    ("金融服务", "Financial Services"),
)
SCHOOLS = (
    "深圳大学",
    "南方科技大学",
    "华南理工大学",
    "中山大学",
    "哈尔滨工业大学（深圳）",
    "香港中文大学（深圳）",
    "深圳职业技术大学",
    "广东工业大学",
    "暨南大学",
    "湖南大学",
    "武汉大学",
    "University of Hong Kong",
)
HIGH_SCHOOLS = ("深圳中学", "深圳实验学校", "宝安中学", "深圳市第二职业技术学校", "东莞中学")
ZH_BENEFITS = (
    "五险一金",
    "双休",
    "年终奖",
    "带薪年假",
    "节日福利",
    "免费工作餐",
    "定期体检",
    "股票期权",
)
EN_BENEFITS = (
    "social insurance and housing fund",
    "weekends off",
    "annual bonus",
    "paid annual leave",
    "free meals",
    "annual health check",
    "stock options",
)
EMPLOYMENT_WEIGHTS = (
    ("full_time", 82),
    ("internship", 8),
    ("part_time", 5),
    ("dispatch", 3),
    ("flexible", 2),
)
EDUCATION_ORDER = ("none", "high_school", "associate", "bachelor", "master", "doctorate")


@dataclass(frozen=True)
class SampleRecord:
    """One generated record: API fields plus the labels evaluation needs."""

    fields: dict[str, Any]
    archetype: str
    language: str  # "zh" or "en"


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@cache
def _csco_aliases() -> dict[str, tuple[str, ...]]:
    path = resources.files("taxonomy") / "data" / "csco2022_occupations.csv"
    with path.open(encoding="utf-8") as handle:
        return {
            row["code"]: tuple(
                a
                for a in row["alias"].split(",")
                if 2 <= len(a) <= 10 and not a.isascii() and "/" not in a and "人员" not in a
            )
            for row in csv.DictReader(handle)
        }


@cache
def _esco_labels() -> dict[str, tuple[str, ...]]:
    path = resources.files("taxonomy") / "data" / "esco_occupations_en.csv"
    with path.open(encoding="utf-8") as handle:
        labels: dict[str, tuple[str, ...]] = {}
        for row in csv.DictReader(handle):
            alternatives = [a.strip() for a in row["altLabels"].split("\n")]
            labels[row["preferredLabel"]] = tuple(
                a for a in alternatives if a and len(a.split()) <= 4 and a[0].isalpha()
            )
        return labels


def _title(rng: random.Random, archetype: Archetype, language: str) -> str:
    # Mostly the archetype's own titles; sometimes a label from CSCO (zh) or ESCO (en).
    if language == "zh":
        aliases = _csco_aliases().get(archetype.csco, ())
        pool = archetype.zh_titles if not aliases or rng.random() < 0.85 else aliases
    else:
        labels = _esco_labels().get(archetype.esco, ())
        pool = archetype.en_titles if not labels or rng.random() < 0.85 else labels
    title = rng.choice(pool)
    return title[0].upper() + title[1:] if language == "en" else title


def _skill_name(rng: random.Random, skill_id: str, language: str) -> str:
    skill = skill_vocabulary().skills[skill_id]
    # Aliases now and then ("K8s", "JS", "机器学习") so matching has synonyms to bridge.
    if skill.aliases and rng.random() < 0.2:
        return rng.choice(skill.aliases)
    return skill.label(language)


@cache
def _districts(city_name: str) -> tuple[str, ...]:
    regions = region_directory()
    city = regions.city(city_name)
    assert city is not None
    return tuple(r.short_name for r in sorted(regions.districts_of(city), key=lambda r: r.code))


def _place(rng: random.Random) -> tuple[str, str | None]:
    city = _weighted(rng, CITY_WEIGHTS)
    districts = _districts(city)
    district = rng.choice(districts) if districts and rng.random() < 0.8 else None
    return city, district


def _company(rng: random.Random, language: str) -> str:
    i = rng.randrange(len(COMPANY_ROOTS))
    zh_industry, en_industry = rng.choice(INDUSTRIES)
    if language == "zh":
        return f"深圳市{COMPANY_ROOTS[i]}{zh_industry}有限公司"
    return f"Shenzhen {COMPANY_ROOTS_EN[i]} {en_industry} Co., Ltd."


def _round_to(value: float, step: int = 500) -> int:
    return int(round(value / step) * step)


def generate_jobs(count: int, *, seed: int = 7, start: int = 0) -> Iterator[SampleRecord]:
    """``count`` postings; record i is the same for a given seed whatever ``start`` is."""
    for i in range(start, start + count):
        rng = random.Random(f"job-{seed}-{i}")
        archetype = rng.choice(ARCHETYPES)
        language = "zh" if rng.random() < 0.6 else "en"
        employment_type = _weighted(rng, EMPLOYMENT_WEIGHTS)
        seniority = rng.choice(("junior", "mid", "mid", "senior"))
        title = _title(rng, archetype, language)
        if seniority == "senior":
            title = ("高级" + title) if language == "zh" else ("Senior " + title)
        if employment_type == "internship":
            title += "实习生" if language == "zh" else " Intern"
        low, high = archetype.salary_k
        scale = {"junior": 0.0, "mid": 0.35, "senior": 0.7}[seniority]
        salary_min = _round_to((low + (high - low) * scale * rng.uniform(0.8, 1.2)) * 1000)
        salary_max = _round_to(salary_min * rng.uniform(1.3, 1.8))
        if employment_type == "internship":
            salary_min, salary_max = _round_to(salary_min * 0.35), _round_to(salary_max * 0.35)
        years = {
            "junior": rng.choice((0, 1)),
            "mid": rng.choice((2, 3)),
            "senior": rng.choice((5, 6, 8)),
        }[seniority]
        if employment_type == "internship":
            years = 0
        education = archetype.education
        if rng.random() < 0.2:
            index = EDUCATION_ORDER.index(education) + rng.choice((-1, 1))
            education = EDUCATION_ORDER[max(0, min(len(EDUCATION_ORDER) - 1, index))]
        required = rng.sample(archetype.required, k=min(len(archetype.required), rng.randint(2, 4)))
        preferred = rng.sample(
            archetype.preferred, k=min(len(archetype.preferred), rng.randint(1, 2))
        )
        city, district = _place(rng)
        duties = archetype.zh_duties if language == "zh" else archetype.en_duties
        skill_names = [_skill_name(rng, s, language) for s in required]
        preferred_names = [_skill_name(rng, s, language) for s in preferred]
        if language == "zh":
            benefits = "、".join(rng.sample(ZH_BENEFITS, k=3))
            description = (
                "岗位职责：\n"
                + "\n".join(
                    f"{n}. {d}" for n, d in enumerate(rng.sample(duties, k=min(3, len(duties))), 1)
                )
                + f"\n任职要求：\n熟悉{'、'.join(skill_names)}；"
                + (f"{years}年以上相关经验；" if years else "应届生可投；")
                + (f"有{'、'.join(preferred_names)}经验者优先。" if preferred_names else "")
                + f"\n福利待遇：{benefits}"
            )
        else:
            benefits = ", ".join(rng.sample(EN_BENEFITS, k=3))
            description = (
                "What you will do:\n"
                + "\n".join(f"- {d}" for d in rng.sample(duties, k=min(3, len(duties))))
                + f"\nWhat we look for:\nHands-on with {', '.join(skill_names)}; "
                + (f"{years}+ years of relevant experience; " if years else "graduates welcome; ")
                + (f"{', '.join(preferred_names)} is a plus." if preferred_names else "")
                + f"\nBenefits: {benefits}"
            )
        fields = {
            "external_id": f"sample-job-{seed}-{i}",
            "title": title,
            "description": description,
            "company": _company(rng, language),
            "city": city,
            "district": district,
            "remote": rng.random() < 0.03,
            "salary_min": float(salary_min),
            "salary_max": float(salary_max),
            "employment_type": employment_type,
            "required_skills": skill_names,
            "preferred_skills": preferred_names,
            "min_years_experience": float(years),
            "education": education,
            "language": language,
            "private": rng.random() < 0.05,
            "posted_at": BASE_DATE
            - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440)),
        }
        yield SampleRecord(fields=fields, archetype=archetype.key, language=language)


def _person_name(rng: random.Random, language: str) -> str:
    if language == "zh":
        return rng.choice(ZH_SURNAMES) + "".join(
            rng.choice(ZH_GIVEN) for _ in range(rng.choice((1, 2)))
        )
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def generate_candidates(count: int, *, seed: int = 11, start: int = 0) -> Iterator[SampleRecord]:
    """``count`` candidate profiles (structured; ``resume_text`` in one of five)."""
    for i in range(start, start + count):
        rng = random.Random(f"candidate-{seed}-{i}")
        archetype = rng.choice(ARCHETYPES)
        language = "zh" if rng.random() < 0.6 else "en"
        name = _person_name(rng, language)
        years = rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 10, 12))
        city, _district = _place(rng)
        education_level = archetype.education
        if rng.random() < 0.3:
            index = EDUCATION_ORDER.index(education_level) + rng.choice((-1, 1))
            education_level = EDUCATION_ORDER[max(0, min(len(EDUCATION_ORDER) - 1, index))]
        pool = list(archetype.required) + list(archetype.preferred)
        skills = [
            _skill_name(rng, s, language)
            for s in rng.sample(pool, k=min(len(pool), rng.randint(3, 6)))
        ]
        titles = archetype.zh_titles if language == "zh" else archetype.en_titles
        experience = []
        month = BASE_DATE.year * 12 + BASE_DATE.month - 1
        remaining = years * 12
        jobs_count = 0 if years == 0 else min(3, 1 + years // 4)
        for j in range(jobs_count):
            length = remaining if j == jobs_count - 1 else remaining // (jobs_count - j)
            end = None if j == 0 else f"{month // 12:04d}-{month % 12 + 1:02d}"
            start_month = month - length + 1
            experience.append(
                {
                    "title": rng.choice(titles),
                    "company": _company(rng, language),
                    "start": f"{start_month // 12:04d}-{start_month % 12 + 1:02d}",
                    "end": end if end is not None else "present",
                    "description": rng.choice(
                        archetype.zh_duties if language == "zh" else archetype.en_duties
                    ),
                }
            )
            month = start_month - 1
            remaining -= length
        low, high = archetype.salary_k
        desired = _round_to(
            min(high, low + (high - low) * years / 10) * 1000 * rng.uniform(0.85, 1.15)
        )
        desired_titles = rng.sample(titles, k=rng.choice((1, 2)))
        if language == "zh":
            summary = f"{years}年{desired_titles[0]}相关经验，熟悉{'、'.join(skills[:3])}。"
            languages = (
                ["普通话"]
                + (["英语"] if rng.random() < 0.5 else [])
                + (["粤语"] if rng.random() < 0.3 else [])
            )
        else:
            summary = f"{desired_titles[0]} with {years} years of experience; skilled in {', '.join(skills[:3])}."
            languages = (
                ["English"]
                + (["Mandarin"] if rng.random() < 0.6 else [])
                + (["Cantonese"] if rng.random() < 0.3 else [])
            )
        fields: dict[str, Any] = {
            "external_id": f"sample-candidate-{seed}-{i}",
            "name": name,
            "email": f"candidate{seed}-{i}@example.com",
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            "city": city,
            "desired_titles": desired_titles,
            "desired_salary_min": float(desired),
            "years_experience": float(years),
            "education": {
                "level": education_level,
                "school": rng.choice(
                    SCHOOLS if education_level not in ("none", "high_school") else HIGH_SCHOOLS
                ),
                "major": None,
            },
            "experience": experience,
            "skills": skills,
            "languages": languages,
            "summary": summary,
        }
        if rng.random() < 0.2:
            fields = _as_resume_text(fields, language)
        yield SampleRecord(fields=fields, archetype=archetype.key, language=language)


def _as_resume_text(fields: dict[str, Any], language: str) -> dict[str, Any]:
    """The same person as free text only, as a résumé paste would arrive."""
    level_names = {
        "none": "",
        "high_school": "高中",
        "associate": "大专",
        "bachelor": "本科",
        "master": "硕士",
        "doctorate": "博士",
    }
    level_names_en = {
        "none": "",
        "high_school": "High school",
        "associate": "Associate degree",
        "bachelor": "Bachelor's degree",
        "master": "Master's degree",
        "doctorate": "PhD",
    }
    level = fields["education"]["level"]
    if language == "zh":
        lines = [
            fields["name"],
            f"电话：{fields['phone']}  邮箱：{fields['email']}",
            f"现居地：{fields['city']}",
            f"求职意向：{fields['desired_titles'][0]}",
            f"工作经验：{int(fields['years_experience'])}年",
            f"技能：{'、'.join(fields['skills'])}",
            "教育背景",
            f"{fields['education']['school']} {level_names[level]}",
            "工作经历",
        ]
        lines += [
            f"{e['start'].replace('-', '.')} - {'至今' if e['end'] == 'present' else e['end'].replace('-', '.')} "
            f"{e['company']} {e['title']} {e['description']}"
            for e in fields["experience"]
        ]
    else:
        lines = [
            fields["name"],
            f"{fields['email']} | {fields['phone']} | Based in {region_directory().city(fields['city']).pinyin}",  # type: ignore[union-attr]
            f"Objective: {fields['desired_titles'][0]}",
            f"{int(fields['years_experience'])} years of experience"
            if fields["years_experience"]
            else "Recent graduate",
            f"Skills: {', '.join(fields['skills'])}",
            "EDUCATION",
            f"{level_names_en[level]}, {fields['education']['school']}",
            "EXPERIENCE",
        ]
        lines += [
            f"{e['start']} - {'Present' if e['end'] == 'present' else e['end']} {e['title']}, {e['company']}: {e['description']}"
            for e in fields["experience"]
        ]
    return {"external_id": fields["external_id"], "resume_text": "\n".join(lines)}
