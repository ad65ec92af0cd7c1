"""Learning ranker weights from a tenant's feedback: ``talentmatch ranker train``.

Labels come from ``store.feedback.feedback_labels``; each labelled pair is scored factor by
factor exactly as matching scores it (vectors from the embedding cache, so no model run for
texts already indexed). Pairs are split by query (the posting a recruiter acted on, or the
candidate a job seeker acted for) into training and held-out parts; a model fitted on the
training part replaces the active one only if it ranks the held-out part better (higher
MAP; equal MAP and lower log-loss). Every trained model is kept with its evaluation.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any

from core.encoder import Encoder
from matching.ranker import (
    CANDIDATE_TO_JOBS,
    JOB_TO_CANDIDATES,
    LabelledPair,
    active_model,
    default_model,
    evaluate_model,
    fit_model,
)
from matching.scoring import score_match
from representation.profiles import CandidateProfile, JobProfile
from store.candidates import candidates_by_ids
from store.db import Database
from store.feedback import feedback_labels
from store.jobs import jobs_by_ids
from store.ranker_models import next_version, save_model


@dataclass(frozen=True)
class TrainingReport:
    version: str | None  # the new model's version, None when there was too little feedback
    promoted: bool
    pairs: int
    held_out_pairs: int
    current_version: str
    current: dict[str, Any]
    candidate: dict[str, Any]
    weights: dict[str, float]
    message: str


def is_held_out(group: str, fraction: float) -> bool:
    """A stable split: the same query is always on the same side."""
    return (zlib.crc32(group.encode()) % 1000) < fraction * 1000


def feedback_pairs(db: Database, encoder: Encoder, tenant_id: str) -> list[LabelledPair]:
    """The tenant's feedback as labelled pairs of factor scores."""
    with db.session() as session:
        labels = feedback_labels(session, tenant_id=tenant_id)
        jobs = jobs_by_ids(session, sorted({label.job_id for label in labels}))
        people = candidates_by_ids(session, sorted({label.candidate_id for label in labels}))
        job_profiles = {i: JobProfile.from_row(row) for i, row in jobs.items()}
        person_profiles = {i: CandidateProfile.from_row(row) for i, row in people.items()}
    texts: list[str] = []
    profiles: list[JobProfile | CandidateProfile] = [
        *job_profiles.values(),
        *person_profiles.values(),
    ]
    for profile in profiles:
        texts += [profile.embedding_text(), profile.title_text()]
    vectors = iter(encoder.encode(texts)) if texts else iter(())
    job_vectors = {i: (next(vectors), next(vectors)) for i in job_profiles}
    person_vectors = {i: (next(vectors), next(vectors)) for i in person_profiles}
    pairs = []
    for label in labels:
        if label.job_id not in job_profiles or label.candidate_id not in person_profiles:
            continue
        group = (
            f"job:{label.job_id}"
            if label.actor == "recruiter"
            else f"candidate:{label.candidate_id}"
        )
        # Logged when the action was recorded; else recomputed now (without keyword
        # relevance, which needs the retrieval that was not logged).
        features = label.features or score_match(
            job_profiles[label.job_id], person_profiles[label.candidate_id],
            job_vectors=job_vectors[label.job_id],
            candidate_vectors=person_vectors[label.candidate_id],
        ).features()  # fmt: skip
        factors = dict(features["factors"])
        mismatches = int(features["hard_mismatches"])
        direction = JOB_TO_CANDIDATES if label.actor == "recruiter" else CANDIDATE_TO_JOBS
        pairs.append(LabelledPair(group, factors, mismatches, label.label, direction))
    return pairs


def train_ranker(
    db: Database, encoder: Encoder, tenant_id: str, *, holdout: float = 0.25,
    min_pairs: int = 40,
) -> TrainingReport:  # fmt: skip
    pairs = feedback_pairs(db, encoder, tenant_id)
    with db.session() as session:
        current = active_model(session, tenant_id) or default_model()
    train = [p for p in pairs if not is_held_out(p.group, holdout)]
    held_out = [p for p in pairs if is_held_out(p.group, holdout)]
    current_metrics = evaluate_model(current, held_out)
    if len(pairs) < min_pairs or not train or not held_out or len({p.label for p in train}) < 2:
        return TrainingReport(
            None, False, len(pairs), len(held_out), current.version, current_metrics, {},
            current.weights,
            f"too little feedback to train: {len(pairs)} labelled pairs (need {min_pairs}, "
            "with both matches and rejections on each side of the split)",
        )  # fmt: skip
    with db.session() as session:
        version = next_version(session, tenant_id)
    candidate = fit_model(train, version=version, start=current)
    candidate_metrics = evaluate_model(candidate, held_out)
    better = _better(candidate_metrics, current_metrics)
    candidate = replace(
        candidate,
        provenance=dict(candidate.provenance) | {"held_out": candidate_metrics,
                                                  "replaced": current.version},
    )  # fmt: skip
    with db.session() as session:
        save_model(session, tenant_id, asdict(candidate),
                   {"candidate": candidate_metrics, "current": current_metrics,
                    "current_version": current.version}, activate=better)  # fmt: skip
    return TrainingReport(
        version, better, len(pairs), len(held_out), current.version, current_metrics,
        candidate_metrics, candidate.weights,
        f"promoted {version}" if better else f"kept {current.version}: {version} was not better",
    )  # fmt: skip


def _better(candidate: dict[str, Any], current: dict[str, Any]) -> bool:
    if candidate["groups"] == 0 or current["groups"] == 0:
        return bool(candidate["log_loss"] < current["log_loss"])
    if candidate["map"] != current["map"]:
        return bool(candidate["map"] > current["map"])
    return bool(candidate["log_loss"] < current["log_loss"])
