"""Learning ranker weights from a tenant's feedback: ``talentmatch ranker train``.

Labels come from ``store.feedback.feedback_labels``; each labelled pair is scored factor by
factor exactly as matching scores it (vectors from the embedding cache, so no model run for
texts already indexed). Pairs are split by query (the posting a recruiter acted on, or the
candidate a job seeker acted for) into training and held-out parts; a model fitted on the
training part replaces the active one only when the held-out part can tell (at least
``MIN_HELD_OUT_GROUPS`` queries with both a match and a non-match, and
``MIN_HELD_OUT_POSITIVES`` matches), it ranks the held-out queries better by at least
``MIN_MAP_GAIN`` of MAP, and a paired bootstrap over those queries finds the gain unlikely to
be chance (p < ``MAX_P_VALUE``); four held-out queries once "showed" MAP 0.889 → 1.0 and
promoted a model that ranked a quality engineer first for a Java posting. The fit is pulled
toward the current model (``TRAINING_PRIOR``), and the skills and occupation (title)
weights are bounded below by half the current model's (feedback that never varies them
must not drop them). Every trained model is kept with
its evaluation; no output holds NaN (a metric that cannot be computed is null, with why).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from core.encoder import Encoder
from matching.ranker import (
    CANDIDATE_TO_JOBS,
    JOB_TO_CANDIDATES,
    LabelledPair,
    RankerModel,
    active_model,
    default_model,
    evaluate_model,
    fit_model,
    per_query_precisions,
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


# Promotion needs a held-out part that can tell models apart, and a gain beyond noise.
MIN_HELD_OUT_GROUPS = 10
MIN_HELD_OUT_POSITIVES = 10
MIN_MAP_GAIN = 0.01
MAX_P_VALUE = 0.05
BOOTSTRAP_SAMPLES = 2000
# Feedback is thin next to the labels the default was fitted on: stay near the current model.
TRAINING_PRIOR = 0.05
# The skills and occupation weights may fall to this share of the current model's, no lower.
MIN_WEIGHT_SHARE = 0.5
GUARDED_FACTORS = ("skills", "title")


def train_ranker(
    db: Database, encoder: Encoder, tenant_id: str, *, holdout: float = 0.25,
    min_pairs: int = 40, min_held_out_groups: int = MIN_HELD_OUT_GROUPS,
    min_held_out_positives: int = MIN_HELD_OUT_POSITIVES,
) -> TrainingReport:  # fmt: skip
    """Fit a model on the tenant's feedback and promote it only if the held-out feedback
    shows, beyond chance, that it ranks better (see the module docstring)."""
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
    if (
        current_metrics["groups"] < min_held_out_groups
        or current_metrics["positives"] < min_held_out_positives
    ):
        return TrainingReport(
            None, False, len(pairs), len(held_out), current.version, current_metrics, {},
            current.weights,
            f"too little held-out feedback to judge a model: {current_metrics['groups']} held-out "
            f"queries with both a match and a rejection (need {min_held_out_groups}) and "
            f"{current_metrics['positives']} held-out matches (need {min_held_out_positives}); "
            f"kept {current.version}",
        )  # fmt: skip
    with db.session() as session:
        version = next_version(session, tenant_id)
    floors = {name: MIN_WEIGHT_SHARE * current.weights.get(name, 0.0) for name in GUARDED_FACTORS}
    candidate = fit_model(train, version=version, start=current, prior=TRAINING_PRIOR,
                          floors=floors)  # fmt: skip
    candidate_metrics = evaluate_model(candidate, held_out)
    comparison = compare_on_held_out(candidate, current, held_out)
    refusal = _refusal(candidate, current, comparison)
    better = refusal is None
    candidate = replace(
        candidate,
        provenance=dict(candidate.provenance) | {"held_out": candidate_metrics,
                                                  "comparison": comparison,
                                                  "replaced": current.version},
    )  # fmt: skip
    with db.session() as session:
        save_model(session, tenant_id, asdict(candidate),
                   {"candidate": candidate_metrics, "current": current_metrics,
                    "current_version": current.version, "comparison": comparison},
                   activate=better)  # fmt: skip
    return TrainingReport(
        version, better, len(pairs), len(held_out), current.version, current_metrics,
        candidate_metrics | {"comparison": comparison}, candidate.weights,
        f"promoted {version}" if better else f"kept {current.version}: {refusal}",
    )  # fmt: skip


def compare_on_held_out(
    candidate: RankerModel, current: RankerModel, held_out: list[LabelledPair]
) -> dict[str, Any]:
    """The candidate's MAP gain over the current model on the held-out queries, and how
    often a paired bootstrap over those queries (seeded) finds no gain: a one-sided p-value."""
    mine = per_query_precisions(candidate, held_out)
    theirs = per_query_precisions(current, held_out)
    differences = np.array([mine[g] - theirs[g] for g in mine])
    if len(differences) == 0:
        return {"map_gain": None, "p_value": None, "groups": 0,
                "reason": "no held-out query has both a match and a rejection"}  # fmt: skip
    rng = np.random.default_rng(0)
    samples = rng.choice(differences, size=(BOOTSTRAP_SAMPLES, len(differences)), replace=True)
    p_value = float(np.mean(samples.mean(axis=1) <= 0.0))
    return {"map_gain": round(float(differences.mean()), 4), "p_value": round(p_value, 4),
            "groups": len(differences)}  # fmt: skip


def _refusal(
    candidate: RankerModel, current: RankerModel, comparison: dict[str, Any]
) -> str | None:
    """Why the candidate must not replace the current model, or None when it may."""
    gain, p_value = comparison["map_gain"], comparison["p_value"]
    if gain is None or p_value is None:
        return str(comparison.get("reason", "the held-out feedback cannot compare the models"))
    if gain < MIN_MAP_GAIN:
        return (f"held-out MAP gain {gain:+.4f} is below the required {MIN_MAP_GAIN} "
                f"over {comparison['groups']} queries")  # fmt: skip
    if p_value >= MAX_P_VALUE:
        return (f"held-out MAP gain {gain:+.4f} over {comparison['groups']} queries could be "
                f"chance (bootstrap p = {p_value:.3f}, need < {MAX_P_VALUE})")  # fmt: skip
    for name in GUARDED_FACTORS:
        floor = MIN_WEIGHT_SHARE * current.weights.get(name, 0.0)
        if candidate.weights.get(name, 0.0) < floor:
            return (f"the {name} weight fell to {candidate.weights.get(name, 0.0):.3f}, below "
                    f"{MIN_WEIGHT_SHARE:g} of {current.version}'s ({floor:.3f})")  # fmt: skip
    return None
