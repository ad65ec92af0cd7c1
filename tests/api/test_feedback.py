"""Feedback on matches: stored per tenant, idempotent, validated; the trainer learns from it
and promotes a model only when it ranks held-out feedback better."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import Settings
from matching.ranker import default_model
from matching.training import train_ranker
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Without request limits: training sends over a hundred feedback requests in a burst,
    and on a fast machine the agency limit (a burst of 100) answered 429."""
    return settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"rate_limits_per_minute": {}})}
    )


async def _pair(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    job = await api.create_job("acme")
    person = await api.create_candidate("acme")
    return job, person


async def test_feedback_is_stored_once_and_listed(api: Api) -> None:
    job, person = await _pair(api)
    body = {"job_id": job["id"], "candidate_id": person["id"], "action": "shortlisted",
            "actor": "recruiter", "model_version": "default-1"}  # fmt: skip
    first = await api.post("/v1/feedback", "acme", body)
    assert first.status_code == 201, first.text
    again = await api.post("/v1/feedback", "acme", {**body, "reason": "second click"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reason"] is None  # the stored row is unchanged
    rejected = await api.post("/v1/feedback", "acme", {**body, "action": "rejected",
                                                        "reason": "no Kubernetes"})  # fmt: skip
    assert rejected.status_code == 201
    listed = (await api.get("/v1/feedback", "acme", params={"job_id": job["id"]})).json()
    assert [f["action"] for f in listed["items"]] == ["shortlisted", "rejected"]
    assert listed["items"][1]["reason"] == "no Kubernetes"


async def test_bad_feedback_is_refused_naming_the_field(api: Api) -> None:
    job, person = await _pair(api)
    base = {"job_id": job["id"], "candidate_id": person["id"]}
    unknown = await api.post("/v1/feedback", "acme", {**base, "action": "liked"})
    assert unknown.status_code == 422
    assert "action" in str(unknown.json()["error"]["details"])
    wrong_actor = await api.post("/v1/feedback", "acme", {**base, "action": "applied",
                                                           "actor": "recruiter"})  # fmt: skip
    assert wrong_actor.status_code == 422
    assert wrong_actor.json()["error"]["details"][0]["field"] == "action"
    missing_job = await api.post("/v1/feedback", "acme", {**base, "job_id": 999_999,
                                                           "action": "viewed"})  # fmt: skip
    assert missing_job.status_code == 404
    # Another tenant can neither act on acme's candidate nor see acme's feedback.
    foreign = await api.post("/v1/feedback", "globex", {**base, "action": "viewed"})
    assert foreign.status_code == 404
    assert (await api.get("/v1/feedback", "globex")).json()["items"] == []
    assert (await api.get("/v1/feedback", "acme")).json()["items"] == []


async def test_training_promotes_only_a_better_model(api: Api) -> None:
    """A recruiter who hires master's graduates ready to move from Beijing and rejects local
    bachelor's graduates (a preference the default model does not hold): after enough
    feedback the trained model weighs education more and ranks held-out decisions better."""
    jobs = [
        await api.create_job(
            "acme",
            title=f"后端工程师 {i}",
            required_skills=["Python", "Kafka"],
            min_years_experience=0,
            education="master",
            salary_min=None,
            salary_max=None,
        )  # fmt: skip
        for i in range(36)
    ]
    skilled = [
        await api.create_candidate(
            "acme",
            name=f"S{i}",
            skills=["Python", "Kafka"],
            city="北京",
            education={"level": "master"},
            desired_salary_min=None,
        )  # fmt: skip
        for i in range(4)
    ]
    unskilled = [
        await api.create_candidate(
            "acme",
            name=f"U{i}",
            skills=["Python", "Kafka"],
            city="深圳",
            education={"level": "bachelor"},
            desired_salary_min=None,
        )  # fmt: skip
        for i in range(4)
    ]
    for job in jobs:
        for person, action in [
            *((p, "hired") for p in skilled),
            *((p, "rejected") for p in unskilled),
        ]:
            response = await api.post("/v1/feedback", "acme", {"job_id": job["id"],
                                      "candidate_id": person["id"], "action": action})  # fmt: skip
            assert response.status_code == 201
    runtime = api.runtime
    report = train_ranker(runtime.db, runtime.encoder, "acme", holdout=0.34, min_pairs=40)
    assert report.version == "acme-1"
    assert report.candidate["map"] > report.current["map"]
    assert report.promoted
    assert report.weights["education"] > default_model().weights["education"]
    runtime._rankers.clear()
    matches = (await api.get(f"/v1/jobs/{jobs[0]['id']}/matches", "acme")).json()
    assert matches["model_version"] == "acme-1"
    assert {m["id"] for m in matches["matches"][:4]} == {p["id"] for p in skilled}
    # Training again on the same feedback cannot beat the promoted model: it is kept.
    second = train_ranker(runtime.db, runtime.encoder, "acme", holdout=0.34, min_pairs=40)
    assert second.version == "acme-2"
    assert not second.promoted
    runtime._rankers.clear()
    again = (await api.get(f"/v1/jobs/{jobs[0]['id']}/matches", "acme")).json()
    assert again["model_version"] == "acme-1"


async def test_too_little_feedback_trains_nothing(api: Api) -> None:
    job, person = await _pair(api)
    await api.post("/v1/feedback", "acme", {"job_id": job["id"], "candidate_id": person["id"],
                                            "action": "hired"})  # fmt: skip
    runtime = api.runtime
    report = train_ranker(runtime.db, runtime.encoder, "acme")
    assert report.version is None and not report.promoted
    assert "too little feedback" in report.message
