"""Match responses stay what they were while their speed paths change (cached profiles and
neutralized texts, only the columns scoring reads for retrieved rows): both directions'
full responses on a fixed corpus are pinned, and an edit or an erasure shows in the very
next response."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from core.encoder import Encoder
from core.settings import Settings
from ingestion.sample_data import generate_candidates, generate_jobs
from representation.encoders import HashingEncoder
from tests.conftest import Api

pytestmark = pytest.mark.anyio

# The responses (gzipped JSON: 2 MB of it) as the matching code gave them before its speed paths (regenerate with
# TALENTMATCH_REPIN_MATCHES=1 only for an intended change of scores or explanations).
PINNED = Path(__file__).with_name("match_speed_paths_pinned.json.gz")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")

# Résumés that say what neutralization and blind screening remove (names, gender, age,
# family, contacts) and mention skills where evidence quotes them.
HAND_WRITTEN: list[dict[str, Any]] = [
    {
        "name": "李娜",
        "email": "li.na@example.com",
        "phone": "13912345678",
        "desired_titles": ["护士", "她是门诊护士"],
        "skills": ["Nursing", "Communication skills"],
        "summary": "李娜，女，32岁，已婚已育。门诊护理八年，擅长 Nursing 与患者沟通。",
        "resume_text": "李娜 | 护士\n性别：女 出生年月：1992.05\n电话 13912345678\n"
        "在深圳市人民医院负责门诊 Nursing 与健康宣教。",
        "experience": [
            {
                "title": "门诊护士（宝妈）",
                "company": "深圳市人民医院",
                "description": "She handled outpatient nursing; 微信 lina_1992",
            },
        ],  # fmt: skip
        "city": "深圳",
        "years_experience": 8,
        "desired_salary_min": 12000,
        "education": {"level": "bachelor"},
    },
    {
        "name": "Wang Lei",
        "email": "wang.lei@example.com",
        "phone": "13800001111",
        "desired_titles": ["Electrical Automation Engineer"],
        "skills": ["PLC编程", "AutoCAD", "电工"],
        "summary": "Wang Lei, male, aged 29, married. PLC programming and AutoCAD drawings.",
        "resume_text": "WANG LEI\nEmail wang.lei@example.com\nBuilt PLC programs for "
        "production lines. Drew AutoCAD schematics. Licensed electrician (电工).",
        "experience": [
            {
                "title": "Automation Engineer",
                "company": "Foxconn",
                "description": "PLC编程 and commissioning; his team of five",
            },
        ],  # fmt: skip
        "city": "东莞",
        "years_experience": 4,
        "desired_salary_min": 30000,
        "education": {"level": "associate"},
    },
]


@pytest.fixture
def use_encoder() -> Encoder:
    """Scores, order and explanations are pinned, not embedding quality: the model-free
    encoder keeps the corpus quick to build and its vectors exact from run to run."""
    return HashingEncoder(256)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Without the per-key request limit (the pin asks for over a hundred match lists), and
    with writes indexed only by the request that made them, one at a time: a background
    poll racing them applies some events twice, and the deleted documents it leaves behind
    move BM25 statistics, and so keyword relevance, from run to run."""
    auth = settings.auth.model_copy(update={"rate_limits_per_minute": {"agency": 0}})
    search = settings.search.model_copy(update={"outbox_poll_interval_s": 3600.0})
    return settings.model_copy(update={"auth": auth, "search": search})


def normalized(value: Any) -> Any:
    """The response without the times a fresh database stamps anew on every run."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and _TIME.match(value):
        return "<time>"
    return value


async def build_corpus(api: Api) -> tuple[list[int], list[int]]:
    """Generated postings and candidates, and the hand-written résumés, all through the API."""
    jobs = []
    for n, record in enumerate(generate_jobs(24, seed=1)):
        fields = {k: v for k, v in record.fields.items() if k not in {"posted_at"}}
        # A few of the other tenant's postings, one of them private: visibility is pinned too.
        tenant = "beta" if n % 6 == 5 else "acme"
        fields["private"] = n == 11
        jobs.append((await api.create_job(tenant, **fields))["id"])
    people = []
    for n, record in enumerate(generate_candidates(16, seed=2)):
        # Contacts of its own, not the fixtures' running ones (they depend on the tests run
        # before this one, and masked contacts are in the pinned views).
        fields = {"email": f"pinned{n}@example.com", "phone": f"1370000{n:04d}", **record.fields}
        people.append((await api.create_candidate("acme", **fields))["id"])
    for fields in HAND_WRITTEN:
        people.append((await api.create_candidate("acme", **fields))["id"])
    return jobs, people


async def match_responses(api: Api, jobs: list[int], people: list[int]) -> dict[str, Any]:
    """Both directions' full responses: English, Chinese and blind."""
    out: dict[str, Any] = {}
    variants = {"en": ({}, "en"), "zh": ({}, "zh-CN"), "blind": ({"blind": "true"}, "en")}
    for path in [f"/v1/jobs/{j}/matches" for j in jobs[:8]] + [
        f"/v1/candidates/{c}/matches" for c in people[:4] + people[-2:]
    ]:
        for name, (params, language) in variants.items():
            response = await api.client.get(
                path,
                params={"limit": 12, **params},
                headers={**api.auth("acme"), "Accept-Language": language},
            )
            assert response.status_code == 200, response.text
            out[f"{path} {name}"] = normalized(response.json())
    return out


async def test_both_directions_answer_as_pinned_cold_and_warm(api: Api) -> None:
    jobs, people = await build_corpus(api)
    cold = await match_responses(api, jobs, people)
    if os.environ.get("TALENTMATCH_REPIN_MATCHES"):
        text = json.dumps(cold, ensure_ascii=False, sort_keys=True)
        PINNED.write_bytes(gzip.compress(text.encode(), mtime=0))
    pinned = json.loads(gzip.decompress(PINNED.read_bytes()))
    assert sum(len(r["matches"]) for r in cold.values()) > 200  # not a pin of empty lists
    assert cold == pinned
    # The same requests again, now from whatever the first round cached.
    assert await match_responses(api, jobs, people) == pinned


async def _matches(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(path, "acme", params={"limit": 20, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["matches"])


async def test_an_edit_of_the_resume_shows_in_the_next_matches(api: Api) -> None:
    job = await api.create_job(
        "acme", title="Registered Nurse", required_skills=["Nursing", "Communication skills"],
        preferred_skills=[], description="Outpatient nursing care.", city="深圳",
    )  # fmt: skip
    person = await api.create_candidate(
        "acme", name="Zhao Min", desired_titles=["Accountant"], skills=["Excel"],
        summary="General ledger accounting.", experience=[], city="深圳",
    )  # fmt: skip
    jobs_path, people_path = (
        f"/v1/jobs/{job['id']}/matches",
        f"/v1/candidates/{person['id']}/matches",
    )
    (before,) = [m for m in await _matches(api, jobs_path) if m["id"] == person["id"]]
    (seen_before,) = [m for m in await _matches(api, people_path) if m["id"] == job["id"]]
    assert before["missing_skills"] == ["Nursing", "Communication skills"]

    # The résumé is rewritten: new titles and skills, and a text that shows the skills.
    response = await api.patch(f"/v1/candidates/{person['id']}", "acme", {
        "desired_titles": ["Registered Nurse"], "skills": ["Nursing", "Communication skills"],
        "resume_text": "Six years of Nursing on the outpatient ward.",
    })  # fmt: skip
    assert response.status_code == 200, response.text

    (after,) = [m for m in await _matches(api, jobs_path) if m["id"] == person["id"]]
    assert after["missing_skills"] == []
    assert set(after["matched_skills"]) == {"Nursing", "Communication skills"}
    assert "'Registered Nurse' vs 'Registered Nurse'" in after["breakdown"]["title"]["detail"]
    assert any("Has 2 of 2 required skills" in line for line in after["reasons"])
    assert after["score"] > before["score"]
    nursing = next(e for e in after["skill_evidence"] if e["skill"] == "Nursing")
    assert nursing["source"] == "resume_text" and "outpatient ward" in nursing["text"]
    # The other direction reads the edited profile as well.
    (seen_after,) = [m for m in await _matches(api, people_path) if m["id"] == job["id"]]
    assert seen_before["missing_skills"] and seen_after["missing_skills"] == []
    assert seen_after["score"] > seen_before["score"]


async def test_an_erased_candidate_leaves_the_matches_and_the_profile_cache(api: Api) -> None:
    job = await api.create_job("acme", title="Registered Nurse", required_skills=["Nursing"])
    kept = await api.create_candidate(
        "acme", name="Kept", desired_titles=["Nurse"], skills=["Nursing"], experience=[]
    )
    erased = await api.create_candidate(
        "acme", name="Erased", desired_titles=["Registered Nurse"], skills=["Nursing"],
        experience=[],
    )  # fmt: skip
    path = f"/v1/jobs/{job['id']}/matches"
    assert {kept["id"], erased["id"]} <= {m["id"] for m in await _matches(api, path)}
    cache = api.runtime.matching.candidate_profiles
    assert erased["id"] in cache  # ranking cached the profile it scored

    response = await api.delete(f"/v1/candidates/{erased['id']}", "acme")
    assert response.status_code == 204

    assert erased["id"] not in cache
    shown = {m["id"] for m in await _matches(api, path)}
    assert kept["id"] in shown and erased["id"] not in shown
    gone = await api.get(f"/v1/candidates/{erased['id']}/matches", "acme")
    assert gone.status_code == 404
