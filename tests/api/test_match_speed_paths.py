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
        "desired_titles": ["护士", "她是门诊护士"],
        "skills": ["Nursing", "Communication skills"],
        "summary": "李娜，女，32岁，已婚已育。门诊护理八年，擅长 Nursing 与患者沟通。",
        "resume_text": "李娜 | 护士\n性别：女 出生年月：1992.05\n电话 13912345678\n"
        "在深圳市人民医院负责门诊 Nursing 与健康宣教。",
        "experience": [
            {"title": "门诊护士（宝妈）", "company": "深圳市人民医院",
             "description": "She handled outpatient nursing; 微信 lina_1992"},
        ],  # fmt: skip
        "city": "深圳",
        "years_experience": 8,
        "desired_salary_min": 12000,
        "education": {"level": "bachelor"},
    },
    {
        "name": "Wang Lei",
        "desired_titles": ["Electrical Automation Engineer"],
        "skills": ["PLC编程", "AutoCAD", "电工"],
        "summary": "Wang Lei, male, aged 29, married. PLC programming and AutoCAD drawings.",
        "resume_text": "WANG LEI\nEmail wang.lei@example.com\nBuilt PLC programs for "
        "production lines. Drew AutoCAD schematics. Licensed electrician (电工).",
        "experience": [
            {"title": "Automation Engineer", "company": "Foxconn",
             "description": "PLC编程 and commissioning; his team of five"},
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
    """Without the per-key request limit: the pin asks for over a hundred match lists."""
    auth = settings.auth.model_copy(update={"rate_limits_per_minute": {"agency": 0}})
    return settings.model_copy(update={"auth": auth})


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
    for record in generate_candidates(16, seed=2):
        fields = {k: v for k, v in record.fields.items() if k not in {"email", "phone"}}
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
