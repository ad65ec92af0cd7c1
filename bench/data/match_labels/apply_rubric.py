"""The grading rubric of bench/data/README.md applied to the facts written into
``postings.jsonl`` and ``candidates.jsonl``: writes ``grades.tsv`` (run once when the set
changes; the TSV, reviewed and committed, is the label set)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from taxonomy.skills import skill_vocabulary

HERE = Path(__file__).parent
FAMILIES = (
    {"backend", "frontend", "devops", "data_analyst", "ml_engineer", "qa"},
    {"embedded", "hardware"},
    {"product_manager", "ui_designer"},
    {"accountant", "hr"},
    {"sales", "ecommerce", "marketing", "customer_service", "purchasing"},
    {"logistics", "warehouse", "purchasing", "driver"},
    {"quality", "mechanical"},
)
CITY = {"shenzhen": "深圳", "guangzhou": "广州", "shanghai": "上海", "hangzhou": "杭州",
        "beijing": "北京", "chengdu": "成都"}  # fmt: skip
EDUCATION = {"high_school": 1, "associate": 2, "bachelor": 3, "master": 4, "doctorate": 5}


def _city(name: str | None) -> str | None:
    return CITY.get((name or "").lower(), name)


def related(a: str, b: str) -> bool:
    """Neighbouring occupations: one could move into the other with some retraining."""
    return any(a in family and b in family for family in FAMILIES)


def grade(job: dict, person: dict) -> tuple[int, str]:
    """0 not a match … 3 a strong match, with the reason."""
    vocabulary = skill_vocabulary()
    if person["occupation"] == "empty":
        return 0, "no evidence: name only"
    required = {vocabulary.canonical_id(s) for s in job["required_skills"]}
    have = {vocabulary.canonical_id(s) for s in person.get("skills", [])}
    share = len(required & have) / len(required)
    if person["occupation"] != job["occupation"]:
        if related(person["occupation"], job["occupation"]) and share >= 0.5:
            return 1, "neighbouring occupation with half the required skills"
        return 0, "other occupation"
    if not required & have:
        return 0, "same occupation, none of the required skills"
    cuts, caps, notes = 0, [], []
    if share < 0.5:
        caps.append(1)
        notes.append(f"{len(required & have)} of {len(required)} required skills")
    elif share < 1:
        cuts += 1
        notes.append(f"{len(required & have)} of {len(required)} required skills")
    years, needed = person.get("years_experience") or 0, job.get("min_years_experience") or 0
    if years < 0.6 * needed:
        caps.append(1)
        notes.append(f"junior: {years} of {needed} years")
    elif years < needed:
        cuts += 1
        notes.append(f"{years} of {needed} years")
    wanted = EDUCATION.get(job.get("education") or "", 0)
    if EDUCATION.get((person.get("education") or {}).get("level", ""), 0) < wanted:
        cuts += 1
        notes.append("below the education asked")
    if not job.get("remote") and _city(person.get("city")) != _city(job["city"]):
        caps.append(1)
        notes.append(f"on-site in {job['city']}, lives in {person.get('city')}")
    if (person.get("desired_salary_min") or 0) > job["salary_max"]:
        caps.append(1)
        notes.append(f"expects {person['desired_salary_min']}, pays up to {job['salary_max']}")
    value = 0 if len(caps) >= 2 else min([3 - cuts, *caps])
    return max(value, 0), "; ".join(notes) or "same occupation, meets every requirement"


def main() -> None:
    jobs = [json.loads(line) for line in (HERE / "postings.jsonl").read_text().splitlines()]
    people = [json.loads(line) for line in (HERE / "candidates.jsonl").read_text().splitlines()]
    rows = ["posting\tcandidate\tgrade\treason"]
    for job in jobs:
        near = [p for p in people if p["occupation"] == job["occupation"]
                or related(p["occupation"], job["occupation"]) or p["occupation"] == "empty"]  # fmt: skip
        # A stable sample of other occupations: what a pool holds besides near misses.
        others = sorted((p for p in people if p not in near),
                        key=lambda p: zlib.crc32(f"{job['external_id']}{p['external_id']}".encode()))  # fmt: skip
        for person in [*near, *others[:3]]:
            value, reason = grade(job, person)
            rows.append(f"{job['external_id']}\t{person['external_id']}\t{value}\t{reason}")
    (HERE / "grades.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
