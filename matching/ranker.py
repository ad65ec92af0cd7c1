"""From factor scores to one calibrated match score, and how that mapping is learned.

A ranker model holds one non-negative weight per factor (summing to 1), a mismatch penalty,
a skills gate and a calibration curve. For a pair:

    raw   = Σ wᵢ·sᵢ / Σ wᵢ   over the factors both sides give evidence for (0–1)
    score = f(pⁿ × (1 − g·(1 − s_skills)) × raw),
    f(x)  = (σ(a·(x − m)) − σ(−a·m)) / (σ(a·(1 − m)) − σ(−a·m))

where n counts hard mismatches (an on-site job in another city, salary ranges that do not
overlap) and p, the mismatch penalty, stays within [0.3, 0.9]: a hard mismatch always takes
at least a tenth of the pair's evidence. g, the skills gate, within [0.3, 0.8], makes a
shortfall in required skills scale the evidence rather than only lower one term of a
weighted mean (one skill of three kept most of the score when skills were one factor of
eight). Both act before calibration so that the served order is exactly the order the fit
optimized (f is increasing). f is a logistic curve pinned to f(0) = 0 and f(1) = 1, its
slope a within [2, 10], so an empty or unrelated profile scores near 0 and the factors'
contributions (score × wᵢ·sᵢ / Σ wⱼ·sⱼ) add up to the score.

Fitting minimizes, over all of these at once (L-BFGS on a bounded parametrization), the
log-loss of the score against the labels (calibration: a score estimates the chance that
the pair is a good match, so scores of different queries compare) plus a pairwise ranking
loss within each query on the scores' logits (better-graded pairs above worse ones: order
is what a recruiter reads), plus a pull of the weights toward the starting model's
(``prior``). The shipped default is fitted on hand-graded labels
(``talentmatch eval calibration --fit-default``); feedback training
(``matching.training``) starts from the tenant's current model with a stronger pull and
floors under the skills and title weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit
from sqlalchemy.orm import Session

from store.ranker_models import active_model_fields

FACTORS: tuple[str, ...] = (
    "semantic",
    "skills",
    "title",
    "experience",
    "education",
    "location",
    "salary",
    "keyword",
)
DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "default_ranker.json"
JOB_TO_CANDIDATES = "job→candidates"
CANDIDATE_TO_JOBS = "candidate→jobs"


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    # expit: no overflow for the steep curves a calibration fit may try on the way.
    return expit(x)


@dataclass(frozen=True)
class RankerModel:
    version: str
    weights: dict[str, float]
    slope: float = 8.0
    midpoint: float = 0.5
    mismatch_penalty: float = 0.5
    # How much of the evidence a shortfall in required skills takes (0: none, the skills
    # factor only counts with its weight; g: a pair holding a share s of them keeps
    # 1 − g·(1 − s) of its evidence).
    skills_gate: float = 0.0
    # How the model was obtained (training set size, held-out metrics): shown to operators.
    provenance: dict[str, object] = field(default_factory=dict)
    # Job seekers weigh a posting differently from how recruiters weigh a candidate: the
    # candidate → postings direction may have its own model (same version).
    for_seekers: RankerModel | None = None

    def for_direction(self, direction: str) -> RankerModel:
        """The model for ``job→candidates`` (this one) or ``candidate→jobs``."""
        if direction == CANDIDATE_TO_JOBS and self.for_seekers is not None:
            return self.for_seekers
        return self

    def calibrate(self, raw: float) -> float:
        low = float(_sigmoid(-self.slope * self.midpoint))
        high = float(_sigmoid(self.slope * (1.0 - self.midpoint)))
        value = (float(_sigmoid(self.slope * (raw - self.midpoint))) - low) / (high - low)
        return min(1.0, max(0.0, value))

    def score(
        self, factor_scores: dict[str, float | None], hard_mismatches: int = 0
    ) -> tuple[float, dict[str, float]]:
        """The pair's score and each known factor's additive share of it."""
        penalty = self.mismatch_penalty**hard_mismatches
        skills = factor_scores.get("skills")
        if skills is not None:
            penalty *= 1.0 - self.skills_gate * (1.0 - skills)
        known = {name: s for name, s in factor_scores.items() if s is not None}
        total_weight = sum(self.weights.get(name, 0.0) for name in known)
        if total_weight <= 0:
            return 0.0, dict.fromkeys(known, 0.0)
        weighted = {name: self.weights.get(name, 0.0) * s for name, s in known.items()}
        raw = sum(weighted.values()) / total_weight
        score = self.calibrate(penalty * raw)
        mass = sum(weighted.values())
        contributions = {
            name: (score * value / mass if mass > 0 else 0.0) for name, value in weighted.items()
        }
        return score, contributions

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RankerModel:
        weights = data["weights"]
        assert isinstance(weights, dict)
        provenance = data.get("provenance") or {}
        assert isinstance(provenance, dict)
        return cls(
            version=str(data["version"]),
            weights={name: float(weights.get(name, 0.0)) for name in FACTORS},
            slope=float(str(data.get("slope", 8.0))),
            midpoint=float(str(data.get("midpoint", 0.5))),
            mismatch_penalty=float(str(data.get("mismatch_penalty", 0.5))),
            skills_gate=float(str(data.get("skills_gate", 0.0))),
            for_seekers=cls.from_dict(seekers)
            if isinstance(seekers := data.get("for_seekers"), dict)
            else None,
            provenance=provenance,
        )


@cache
def default_model() -> RankerModel:
    """The model in force until a tenant's feedback trains a better one: fitted on the
    generated labelled corpus (``talentmatch eval ranking --fit-default``), not on the
    evaluation corpus it is judged on."""
    return RankerModel.from_dict(json.loads(DEFAULT_MODEL_PATH.read_text()))


# -- Learning ---------------------------------------------------------------------------

PENALTY_RANGE = (0.3, 0.9)
SKILLS_GATE_RANGE = (0.3, 0.8)


@dataclass(frozen=True)
class LabelledPair:
    group: str  # the query side (a posting or a candidate): metrics are averaged per group
    factors: dict[str, float | None]
    hard_mismatches: int
    label: int  # 1: a match (relevant, shortlisted, hired…), 0: not
    direction: str = JOB_TO_CANDIDATES
    grade: int | None = None  # a graded label (0–3), where the labels have grades


@dataclass(frozen=True)
class _Design:
    scores: np.ndarray  # (pairs, factors), 0 where unknown
    known: np.ndarray  # (pairs, factors) 0/1
    mismatches: np.ndarray
    labels: np.ndarray
    groups: list[np.ndarray]  # row indices of each query with both labels

    @classmethod
    def of(cls, pairs: Sequence[LabelledPair]) -> _Design:
        by_group: dict[str, list[int]] = {}
        for i, pair in enumerate(pairs):
            by_group.setdefault(pair.group, []).append(i)
        labels = np.array([p.label for p in pairs], dtype=np.float64)
        return cls(
            scores=np.array([[p.factors.get(n) or 0.0 for n in FACTORS] for p in pairs], dtype=np.float64),
            known=np.array([[p.factors.get(n) is not None for n in FACTORS] for p in pairs], dtype=np.float64),
            mismatches=np.array([p.hard_mismatches for p in pairs], dtype=np.float64),
            labels=labels,
            groups=[np.array(rows) for rows in by_group.values() if 0 < labels[rows].sum() < len(rows)],
        )  # fmt: skip

    def gate(self, skills_gate: float) -> np.ndarray:
        """Each pair's share of evidence kept after its required-skills shortfall."""
        column = FACTORS.index("skills")
        shortfall = np.where(self.known[:, column] > 0, 1.0 - self.scores[:, column], 0.0)
        return 1.0 - skills_gate * shortfall

    def raw(self, weights: np.ndarray) -> np.ndarray:
        total = self.known @ weights
        weighted = (self.scores * self.known) @ weights
        return np.where(total > 0, weighted / np.maximum(total, 1e-12), 0.0)

    def average_precisions(self, ranking_scores: np.ndarray) -> list[float]:
        """Each query's average precision (queries with both a match and a non-match)."""
        precisions = []
        for rows in self.groups:
            order = rows[np.argsort(-ranking_scores[rows], kind="stable")]
            relevant = self.labels[order]
            hits = np.cumsum(relevant)
            precisions.append(
                float(np.sum(relevant * hits / np.arange(1, len(order) + 1)) / hits[-1])
            )
        return precisions

    def mean_average_precision(self, ranking_scores: np.ndarray) -> float:
        precisions = self.average_precisions(ranking_scores)
        return float(np.mean(precisions)) if precisions else 0.0


# Every factor keeps at least this weight: one the labels never reward still shows in
# explanations and still orders ties.
MIN_WEIGHT = 0.02


def _weights_of(logits: np.ndarray, floors: np.ndarray | None = None) -> np.ndarray:
    floors = np.full(len(logits), MIN_WEIGHT) if floors is None else floors
    weights = np.exp(logits - logits.max())
    return floors + (1 - floors.sum()) * weights / weights.sum()


def _penalty_of(value: float) -> float:
    low, high = PENALTY_RANGE
    return low + (high - low) * float(_sigmoid(value))


def _calibration(raw: np.ndarray, slope: float, midpoint: float) -> np.ndarray:
    low = _sigmoid(-slope * midpoint)
    high = _sigmoid(slope * (1.0 - midpoint))
    return np.clip((_sigmoid(slope * (raw - midpoint)) - low) / (high - low), 0.0, 1.0)


# A direction needs this many labelled queries for a model of its own.
MIN_QUERIES_PER_DIRECTION = 10
# The calibration curve's slope stays within these bounds: a steeper curve puts most pairs
# at 0 or 1 (the saturation a recruiter cannot threshold; labels graded by a rubric are
# nearly separable, so an unbounded fit chases a certainty no recruiter has), a flatter one
# cannot reach 0 and 1.
SLOPE_RANGE = (2.0, 10.0)
# How strongly order within a query counts next to calibration (log-loss). Order is judged
# on the scores' logits: a grade-1 pair at 0.05 is well above a grade-0 pair at 0.001, so
# keeping near misses above non-matches does not lift them into the middle of the scale.
RANKING_WEIGHT = 1.0


def fit_model(
    pairs: Sequence[LabelledPair], *, version: str, start: RankerModel | None = None,
    prior: float = 0.05, floors: dict[str, float] | None = None,
) -> RankerModel:  # fmt: skip
    """A model per direction when both have enough labelled queries, else one for both.
    ``prior`` pulls the weights toward ``start``'s and ``floors`` bounds factors' weights from
    below (at least ``MIN_WEIGHT`` each): feedback training uses both, so that feedback which
    never varies a factor cannot drop it (the skills or occupation weight)."""
    start = start or default_model()
    seeker_pairs = [p for p in pairs if p.direction == CANDIDATE_TO_JOBS]
    recruiter_pairs = [p for p in pairs if p.direction != CANDIDATE_TO_JOBS]
    if (
        min(len(_Design.of(seeker_pairs).groups), len(_Design.of(recruiter_pairs).groups))
        < MIN_QUERIES_PER_DIRECTION
    ):
        return _fit_one(pairs, version=version, start=start, prior=prior, floors=floors)
    seekers = _fit_one(seeker_pairs, version=version, start=start.for_direction(CANDIDATE_TO_JOBS),
                       prior=prior, floors=floors)  # fmt: skip
    recruiters = _fit_one(recruiter_pairs, version=version, start=start, prior=prior, floors=floors)
    return replace(recruiters, for_seekers=seekers)


def _ordered_pairs(pairs: Sequence[LabelledPair]) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (better, worse) of every two pairs of one query with different grades
    (or labels, where there are no grades)."""
    by_group: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        by_group.setdefault(pair.group, []).append(i)
    grades = [p.grade if p.grade is not None else p.label for p in pairs]
    better, worse = [], []
    for rows in by_group.values():
        for i in rows:
            for j in rows:
                if grades[i] > grades[j]:
                    better.append(i)
                    worse.append(j)
    return np.array(better, dtype=np.int64), np.array(worse, dtype=np.int64)


def _fit_one(
    pairs: Sequence[LabelledPair], *, version: str, start: RankerModel, prior: float,
    floors: dict[str, float] | None,
) -> RankerModel:  # fmt: skip
    """One direction's model fitted to labelled pairs (see the module docstring)."""
    from scipy.optimize import minimize

    floor = np.array([max(MIN_WEIGHT, (floors or {}).get(n, 0.0)) for n in FACTORS])

    design = _Design.of(pairs)
    better, worse = _ordered_pairs(pairs)
    start_weights = np.array([start.weights.get(n, 0.0) for n in FACTORS])
    labels = design.labels
    low, high = PENALTY_RANGE
    share = min(max((start.mismatch_penalty - low) / (high - low), 0.01), 0.99)

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, float, float, float, float]:
        slope = SLOPE_RANGE[0] + (SLOPE_RANGE[1] - SLOPE_RANGE[0]) * float(_sigmoid(theta[-2]))
        gate = SKILLS_GATE_RANGE[0] + (SKILLS_GATE_RANGE[1] - SKILLS_GATE_RANGE[0]) * float(
            _sigmoid(theta[-4])
        )
        return (_weights_of(theta[:-4], floor), _penalty_of(theta[-3]), slope,
                float(_sigmoid(theta[-1])), gate)  # fmt: skip

    def loss(theta: np.ndarray) -> float:
        weights, penalty, slope, midpoint, gate = unpack(theta)
        evidence = penalty**design.mismatches * design.gate(gate) * design.raw(weights)
        score = _calibration(evidence, slope, midpoint)
        clipped = np.clip(score, 1e-6, 1 - 1e-6)
        value = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
        if len(better):
            logits = np.log(clipped) - np.log(1 - clipped)
            margin = logits[better] - logits[worse]
            value += RANKING_WEIGHT * float(np.mean(np.logaddexp(0.0, -margin)))
        return value + prior * float(np.sum((weights - start_weights) ** 2)) * len(FACTORS)

    def logit(x: float) -> float:
        x = min(max(x, 1e-3), 1 - 1e-3)
        return math.log(x / (1 - x))

    slope_share = (min(max(start.slope, SLOPE_RANGE[0]), SLOPE_RANGE[1]) - SLOPE_RANGE[0]) / (
        SLOPE_RANGE[1] - SLOPE_RANGE[0]
    )
    gate_share = (start.skills_gate - SKILLS_GATE_RANGE[0]) / (
        SKILLS_GATE_RANGE[1] - SKILLS_GATE_RANGE[0]
    )
    tail = [logit(gate_share), logit(share), logit(slope_share), logit(start.midpoint)]
    starts = [
        np.array(
            [math.log(max(w - f, 1e-3)) for w, f in zip(start_weights, floor, strict=True)] + tail
        ),
        np.array([0.0] * len(FACTORS) + tail),
        np.array([0.0] * len(FACTORS) + [0.0, 0.0, 0.0, 0.0]),
    ]
    best = min(
        (minimize(loss, x0, method="L-BFGS-B", options={"maxiter": 400}) for x0 in starts),
        key=lambda result: float(result.fun),
    )
    weights, mismatch_penalty, slope, midpoint, skills_gate = unpack(best.x)
    return RankerModel(
        version=version,
        weights={name: round(float(w), 5) for name, w in zip(FACTORS, weights, strict=True)},
        slope=round(slope, 4),
        midpoint=round(midpoint, 4),
        mismatch_penalty=round(mismatch_penalty, 4),
        skills_gate=round(skills_gate, 4),
        provenance={"pairs": len(pairs), "positives": int(labels.sum()),
                    "queries": len(design.groups), "objective": "log-loss + pairwise ranking",
                    "loss": round(float(best.fun), 4)},
    )  # fmt: skip


def evaluate_model(model: RankerModel, pairs: Sequence[LabelledPair]) -> dict[str, Any]:
    """Log-loss over all pairs, and MAP over the queries that have both a match and a
    non-match (the order a recruiter would see them in). A metric that cannot be computed is
    None with a ``reason``, never NaN (JSON has no NaN)."""
    if not pairs:
        return {"log_loss": None, "map": None, "groups": 0, "positives": 0,
                "reason": "no labelled pairs"}  # fmt: skip
    design = _Design.of(pairs)
    predicted = np.array(
        [model.for_direction(p.direction).score(p.factors, p.hard_mismatches)[0] for p in pairs]
    )
    clipped = np.clip(predicted, 1e-6, 1 - 1e-6)
    labels = design.labels
    log_loss = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
    out: dict[str, Any] = {
        "log_loss": round(log_loss, 4),
        "map": round(design.mean_average_precision(predicted), 4) if design.groups else None,
        "groups": len(design.groups),
        "positives": int(labels.sum()),
    }
    if not design.groups:
        out["reason"] = "no query has both a match and a non-match"
    return out


def per_query_precisions(model: RankerModel, pairs: Sequence[LabelledPair]) -> dict[str, float]:
    """Each query's average precision under ``model`` (queries with both labels)."""
    design = _Design.of(pairs)
    predicted = np.array(
        [model.for_direction(p.direction).score(p.factors, p.hard_mismatches)[0] for p in pairs]
    )
    names = list(dict.fromkeys(p.group for p in pairs))
    by_group: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        by_group.setdefault(pair.group, []).append(i)
    kept = [n for n in names if 0 < design.labels[by_group[n]].sum() < len(by_group[n])]
    return dict(zip(kept, design.average_precisions(predicted), strict=True))


def active_model(session: Session, tenant_id: str) -> RankerModel | None:
    """The tenant's active trained model, if it has one."""
    fields = active_model_fields(session, tenant_id)
    return RankerModel.from_dict(fields) if fields is not None else None
