"""Recruiter and job-seeker feedback on matches, and the labels ranker training reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Feedback

RECRUITER_ACTIONS = ("viewed", "shortlisted", "contacted", "interviewed", "hired", "rejected")
SEEKER_ACTIONS = ("viewed", "applied", "saved", "rejected")
ACTIONS_BY_ACTOR = {"recruiter": RECRUITER_ACTIONS, "seeker": SEEKER_ACTIONS}
# What an action says about the pair: a match (1), not a match (0). "viewed" says nothing.
LABEL_OF_ACTION = {
    "shortlisted": 1, "contacted": 1, "interviewed": 1, "hired": 1, "applied": 1, "saved": 1,
    "rejected": 0,
}  # fmt: skip


def record_feedback(
    session: Session,
    *,
    tenant_id: str,
    job_id: int,
    candidate_id: int,
    actor: str,
    action: str,
    reason: str | None,
    model_version: str | None,
    features: dict[str, Any] | None = None,
) -> tuple[Feedback, bool]:
    """Store one action (the caller has checked the ids are the tenant's to use). Recording
    the same action again returns the stored row unchanged. Returns (row, created)."""
    same = select(Feedback).where(
        Feedback.tenant_id == tenant_id,
        Feedback.job_id == job_id,
        Feedback.candidate_id == candidate_id,
        Feedback.actor == actor,
        Feedback.action == action,
    )
    existing = session.scalar(same)
    if existing is not None:
        return existing, False
    row = Feedback(
        tenant_id=tenant_id, job_id=job_id, candidate_id=candidate_id, actor=actor,
        action=action, reason=reason, model_version=model_version, features=features,
    )  # fmt: skip
    try:
        with session.begin_nested():  # a concurrent identical request may have won the race
            session.add(row)
    except IntegrityError:
        winner = session.scalar(same)
        if winner is None:
            raise
        return winner, False
    return row, True


def list_feedback(
    session: Session, *, tenant_id: str, job_id: int | None, candidate_id: int | None,
    offset: int, limit: int,
) -> list[Feedback]:  # fmt: skip
    query = select(Feedback).where(Feedback.tenant_id == tenant_id)
    if job_id is not None:
        query = query.where(Feedback.job_id == job_id)
    if candidate_id is not None:
        query = query.where(Feedback.candidate_id == candidate_id)
    return list(session.scalars(query.order_by(Feedback.id).offset(offset).limit(limit)))


@dataclass(frozen=True)
class FeedbackLabel:
    job_id: int
    candidate_id: int
    actor: str
    label: int
    features: dict[str, Any] | None  # logged with the deciding action, when it was


def feedback_labels(session: Session, *, tenant_id: str) -> list[FeedbackLabel]:
    """One label per (posting, candidate, actor): the latest action that says something
    (a rejection after a shortlist is a rejection)."""
    latest: dict[tuple[int, int, str], tuple[int, dict[str, Any] | None]] = {}
    rows = session.execute(
        select(Feedback.job_id, Feedback.candidate_id, Feedback.actor, Feedback.action,
               Feedback.features)
        .where(Feedback.tenant_id == tenant_id)
        .order_by(Feedback.created_at, Feedback.id)
    )  # fmt: skip
    for job_id, candidate_id, actor, action, features in rows:
        if action in LABEL_OF_ACTION:
            latest[(job_id, candidate_id, actor)] = (LABEL_OF_ACTION[action], features)
    return [
        FeedbackLabel(j, c, a, label, features)
        for (j, c, a), (label, features) in sorted(latest.items())
    ]
