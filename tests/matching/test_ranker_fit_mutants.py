"""How a ranker model is fitted and judged (``matching/ranker.py``: ``fit_model``,
``_fit_one``, ``_Design``, ``evaluate_model``, ``per_query_precisions``), on tiny hand-made
factor rows: seconds, where the API feedback tests that also reach this code take minutes.
Mutation testing found the fitting unpinned by any fast test."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pytest

from matching.ranker import (
    CANDIDATE_TO_JOBS,
    FACTORS,
    JOB_TO_CANDIDATES,
    MIN_QUERIES_PER_DIRECTION,
    MIN_WEIGHT,
    PENALTY_RANGE,
    SKILLS_GATE_RANGE,
    SLOPE_RANGE,
    LabelledPair,
    RankerModel,
    _calibration,
    _Design,
    _ordered_pairs,
    _weights_of,
    evaluate_model,
    fit_model,
    per_query_precisions,
)
from matching.training import is_held_out

# A start with no opinion: every factor weighs the same.
START = RankerModel(
    version="start", weights=dict.fromkeys(FACTORS, 1 / len(FACTORS)), slope=6.0,
    midpoint=0.5, mismatch_penalty=0.45, skills_gate=0.5,
)  # fmt: skip


def _factors(**scores: float | None) -> dict[str, float | None]:
    """Every factor 0.5 (a constant: it tells pairs apart nowhere) unless given."""
    return {**dict.fromkeys(FACTORS, 0.5), **scores}


def _skills_decide(groups: int, seed: int = 1, direction: str = JOB_TO_CANDIDATES,
                   factor: str = "skills") -> list[LabelledPair]:  # fmt: skip
    """Pairs whose label is whether ``factor`` is above 0.5; the title varies at random
    (noise), education is a constant 0.7 and the keyword factor always abstains."""
    rng = random.Random(seed)
    pairs = []
    for g in range(groups):
        for k in range(4):
            value = (0.1, 0.35, 0.65, 0.9)[k] + rng.uniform(-0.05, 0.05)
            scores = _factors(title=rng.random(), education=0.7, keyword=None, **{factor: value})
            pairs.append(LabelledPair(f"{direction}-{g}", scores, 0, int(value > 0.5), direction))
    return pairs


@pytest.fixture
def fitted() -> RankerModel:
    # Function scope, not module: mutmut maps a test to the functions its own run calls.
    return fit_model(_skills_decide(5), version="v7", start=START, prior=0.0)


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] - 1e-4 <= value <= bounds[1] + 1e-4


def test_a_fitted_model_orders_a_clearly_better_pair_above_a_worse_one(fitted: RankerModel) -> None:
    better, _ = fitted.score(_factors(skills=0.9, title=0.5, education=0.7, keyword=None))
    worse, _ = fitted.score(_factors(skills=0.2, title=0.5, education=0.7, keyword=None))
    assert better > worse + 0.3
    # Every match above every non-match of its query: held-in MAP 1.
    assert evaluate_model(fitted, _skills_decide(5))["map"] == 1.0
    # The factor that decides the labels carries the weight; the noise does not.
    assert max(fitted.weights, key=lambda n: fitted.weights[n]) == "skills"
    assert fitted.weights["skills"] > 0.5 > fitted.weights["title"]


def test_weights_sum_to_one_above_their_floor_and_every_parameter_within_bounds(
    fitted: RankerModel,
) -> None:
    assert set(fitted.weights) == set(FACTORS)
    assert sum(fitted.weights.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(w >= MIN_WEIGHT - 1e-5 for w in fitted.weights.values())
    assert _within(fitted.slope, SLOPE_RANGE)
    assert _within(fitted.mismatch_penalty, PENALTY_RANGE)
    assert _within(fitted.skills_gate, SKILLS_GATE_RANGE)
    assert 0.0 < fitted.midpoint < 1.0
    # Labels that a skills shortfall decides, nearly separable: the gate and the slope go to
    # their upper bounds (where the bounds stop a fit that would chase certainty).
    assert fitted.slope > 5.0 and fitted.skills_gate > 0.5
    assert fitted.version == "v7" and fitted.for_seekers is None
    # Provenance: the pairs, the matches, the queries that have both labels.
    assert {k: fitted.provenance[k] for k in ("pairs", "positives", "queries")} == {
        "pairs": 20, "positives": 10, "queries": 5,
    }  # fmt: skip
    assert isinstance(fitted.provenance["loss"], float) and fitted.provenance["loss"] > 0


def test_the_loss_a_model_reports_is_the_documented_objective_at_its_parameters(
    fitted: RankerModel,
) -> None:
    """Log-loss of the served scores plus the mean pairwise ranking loss on their logits
    (the prior adds nothing at 0): the fit optimized what the served model computes."""
    pairs = _skills_decide(5)
    scores = np.array([fitted.score(p.factors, p.hard_mismatches)[0] for p in pairs])
    clipped = np.clip(scores, 1e-6, 1 - 1e-6)
    labels = np.array([p.label for p in pairs])
    log_loss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
    logits = np.log(clipped / (1 - clipped))
    margins = [logits[i] - logits[j] for i, a in enumerate(pairs) for j, b in enumerate(pairs)
               if a.group == b.group and a.label > b.label]  # fmt: skip
    ranking = np.mean(np.log1p(np.exp(-np.array(margins))))
    assert fitted.provenance["loss"] == pytest.approx(log_loss + ranking, abs=5e-3)


def test_a_constant_or_abstaining_factor_gets_no_weight_above_its_floor(
    fitted: RankerModel,
) -> None:
    for name in ("semantic", "experience", "education", "location", "salary", "keyword"):
        assert fitted.weights[name] == pytest.approx(MIN_WEIGHT, abs=0.005), name


def test_floors_bound_a_factors_weight_from_below() -> None:
    model = fit_model(_skills_decide(5), version="v8", start=START, prior=0.0,
                      floors={"title": 0.3, "semantic": 0.01})  # fmt: skip
    assert model.weights["title"] >= 0.3 - 1e-5
    # A floor below MIN_WEIGHT leaves MIN_WEIGHT.
    assert model.weights["semantic"] == pytest.approx(MIN_WEIGHT, abs=0.005)
    assert sum(model.weights.values()) == pytest.approx(1.0, abs=1e-4)
    assert model.weights["skills"] > 0.5


# An older model file: most weight on the semantic factor, none stored for the keyword one.
SKEWED = RankerModel(
    version="old", weights={n: 0.44 if n == "semantic" else 0.08 for n in FACTORS[:-1]},
    slope=6.0, midpoint=0.5, mismatch_penalty=0.45, skills_gate=0.5,
)  # fmt: skip


def test_the_prior_pulls_the_weights_toward_the_starting_model() -> None:
    model = fit_model(_skills_decide(5), version="v9", start=SKEWED, prior=5.0)
    for name, weight in model.weights.items():
        assert weight == pytest.approx(SKEWED.weights.get(name, 0.0), abs=0.04), name
    assert model.weights["semantic"] > 0.35
    assert model.weights["keyword"] < 0.05  # no stored weight: pulled toward none
    # The default pull is light: the labels' factor takes the weight.
    light = fit_model(_skills_decide(5), version="v9", start=START)
    assert light.weights["skills"] > 0.3


def test_hard_mismatches_the_labels_punish_lower_the_penalty_toward_its_bound() -> None:
    rng = random.Random(3)
    pairs = [
        LabelledPair(f"q{g}", _factors(skills=0.6 + 0.1 * rng.random()), k % 2, 1 - k % 2)
        for g in range(5)
        for k in range(4)
    ]
    model = fit_model(pairs, version="v10", start=START, prior=0.0)
    assert model.mismatch_penalty < START.mismatch_penalty
    assert _within(model.mismatch_penalty, PENALTY_RANGE)
    scores = [model.score(_factors(skills=0.65), n)[0] for n in (0, 1, 2)]
    assert scores[0] > scores[1] > scores[2]


def test_a_mismatch_the_labels_never_punish_costs_at_most_the_weakest_penalty() -> None:
    rng = random.Random(3)
    pairs = [
        LabelledPair(
            f"q{g}", _factors(skills=0.2 + 0.6 * (k // 2) + 0.05 * rng.random()), k % 2, k // 2
        )  # fmt: skip
        for g in range(5)
        for k in range(4)
    ]
    model = fit_model(pairs, version="v10", start=START, prior=0.0)
    assert START.mismatch_penalty < model.mismatch_penalty <= PENALTY_RANGE[1] + 1e-4


def test_each_direction_gets_its_own_model_only_with_enough_queries() -> None:
    many = MIN_QUERIES_PER_DIRECTION
    recruiters = _skills_decide(many, seed=4)
    seekers = _skills_decide(many, seed=5, direction=CANDIDATE_TO_JOBS, factor="salary")
    # Each direction starts from its own model (seekers' leans on location) and keeps the floors.
    start = replace(START, for_seekers=replace(SKEWED, weights={
        n: 0.44 if n == "location" else 0.08 for n in FACTORS}))  # fmt: skip
    model = fit_model(recruiters + seekers, version="v11", start=start, prior=0.3,
                      floors={"title": 0.2})  # fmt: skip
    assert model.for_seekers is not None
    assert (model.version, model.for_seekers.version) == ("v11", "v11")
    assert model.weights["skills"] > model.weights["salary"]
    assert model.for_seekers.weights["salary"] > model.for_seekers.weights["skills"]
    assert model.for_seekers.weights["location"] > model.weights["location"] + 0.05
    assert min(model.weights["title"], model.for_seekers.weights["title"]) >= 0.2 - 1e-5
    assert model.provenance["pairs"] == len(recruiters)
    assert model.for_seekers.provenance["pairs"] == len(seekers)
    # One query short on one side: one model for both directions.
    short = [p for p in seekers if p.group != f"{CANDIDATE_TO_JOBS}-0"]
    shared = fit_model(recruiters + short, version="v12", start=START, prior=0.0)
    assert shared.for_seekers is None and shared.provenance["pairs"] == len(recruiters + short)


def test_ordered_pairs_compare_grades_within_one_query_only() -> None:
    pairs = [
        LabelledPair("a", {}, 0, 1, grade=3),
        LabelledPair("a", {}, 0, 1, grade=2),
        LabelledPair("b", {}, 0, 0),
        LabelledPair("a", {}, 0, 0, grade=0),
        LabelledPair("b", {}, 0, 1),
        LabelledPair("c", {}, 0, 1),
    ]
    better, worse = _ordered_pairs(pairs)
    assert sorted(zip(better.tolist(), worse.tolist(), strict=True)) == [
        (0, 1), (0, 3), (1, 3), (4, 2),
    ]  # fmt: skip
    empty = _ordered_pairs([LabelledPair("c", {}, 0, 1)])
    assert empty[0].dtype == np.int64 and len(empty[0]) == len(empty[1]) == 0


def test_grades_order_pairs_that_share_a_label() -> None:
    """Within the matches, a higher grade (and a higher title score) ranks higher: only the
    grades say so, the labels are the same."""
    rng = random.Random(6)
    pairs = []
    for g in range(5):
        for grade in (3, 2, 1, 0):
            title = (0.95, 0.7, 0.45, 0.2)[grade ^ 3] + rng.uniform(-0.03, 0.03)
            skills = 0.9 if grade >= 2 else 0.1
            scores = _factors(title=title, skills=skills, keyword=None)
            pairs.append(LabelledPair(f"q{g}", scores, 0, int(grade >= 2), grade=grade))
    model = fit_model(pairs, version="v14", start=START, prior=0.0)
    top, next_ = (model.score(_factors(title=t, skills=0.9, keyword=None))[0] for t in (0.95, 0.7))
    assert top > next_
    assert model.weights["title"] > 0.1


def test_the_design_counts_only_known_factors_and_queries_with_both_labels() -> None:
    pairs = [
        LabelledPair("a", {"skills": 0.5, "title": None, "salary": 1.0}, 1, 1),
        LabelledPair("a", {"skills": None, "title": 0.0}, 0, 0),
        LabelledPair("b", {"skills": 1.0}, 2, 1),
        LabelledPair("c", {"skills": 0.0}, 0, 0),
    ]
    design = _Design.of(pairs)
    assert [g.tolist() for g in design.groups] == [[0, 1]]
    assert design.mismatches.tolist() == [1, 0, 2, 0]
    assert design.labels.tolist() == [1, 0, 1, 0]
    weights = np.array([{"skills": 0.5, "title": 0.3, "salary": 0.2}.get(n, 0.0) for n in FACTORS])
    # (0.5·0.5 + 0.2·1.0) / (0.5 + 0.2); 0 / 0.3; 1; 0 — an unknown factor is no evidence.
    assert design.raw(weights).tolist() == pytest.approx([0.45 / 0.7, 0.0, 1.0, 0.0])
    assert design.raw(np.zeros(len(FACTORS))).tolist() == [0.0, 0.0, 0.0, 0.0]
    # The skills gate takes g·shortfall, none where the skills factor abstains.
    assert design.gate(0.4).tolist() == pytest.approx([0.8, 1.0, 1.0, 0.6])


# A model that ranks by skills alone; for seekers by salary alone.
SKILLS_ONLY = RankerModel(
    version="s", weights={n: float(n == "skills") for n in FACTORS}, slope=4.0, midpoint=0.5,
    for_seekers=RankerModel(version="s", weights={n: float(n == "salary") for n in FACTORS}),
)  # fmt: skip


def _toy() -> list[LabelledPair]:
    """Query a: ranked 0.9 (match), 0.7 (match), 0.5: AP 1. Query b: 0.8, 0.6 (match), 0.4:
    AP 1/2. Query c: only matches, d: only non-matches (no AP). Query e, a seeker's, ranked
    by salary: 0.9 (match), 0.1: AP 1 (by skills it would be 1/2). Query f: 0.8 with a hard
    mismatch (halved: 0.4), 0.6 (match): AP 1. Query g: 0.95 (match), 0.85, 0.75, 0.65
    (match): AP (1 + 2/4) / 2. Query h: 0.9, 0.8, 0.7 (match): AP 1/3."""
    rows = [("a", 0.9, 1), ("b", 0.8, 0), ("a", 0.5, 0), ("b", 0.6, 1), ("a", 0.7, 1),
            ("b", 0.4, 0), ("c", 0.3, 1), ("d", 0.9, 0), ("g", 0.95, 1), ("g", 0.85, 0),
            ("g", 0.75, 0), ("g", 0.65, 1), ("h", 0.9, 0), ("h", 0.8, 0), ("h", 0.7, 1)]  # fmt: skip
    pairs = [LabelledPair(g, {"skills": s}, 0, label) for g, s, label in rows]
    pairs += [
        LabelledPair("e", {"skills": 0.1, "salary": 0.9}, 0, 1, CANDIDATE_TO_JOBS),
        LabelledPair("e", {"skills": 0.9, "salary": 0.1}, 0, 0, CANDIDATE_TO_JOBS),
        LabelledPair("f", {"skills": 0.8}, 1, 0),
        LabelledPair("f", {"skills": 0.6}, 0, 1),
    ]
    return pairs


TOY_PRECISIONS = {"a": 1.0, "b": 0.5, "g": 0.75, "h": 1 / 3, "e": 1.0, "f": 1.0}


def test_evaluation_gives_the_hand_computed_map_and_log_loss() -> None:
    pairs = _toy()
    result = evaluate_model(SKILLS_ONLY, pairs)
    # Reported to four places.
    assert result["map"] == round(sum(TOY_PRECISIONS.values()) / len(TOY_PRECISIONS), 4)
    assert (result["groups"], result["positives"]) == (6, 9)
    scores = [
        SKILLS_ONLY.for_direction(p.direction).score(p.factors, p.hard_mismatches)[0] for p in pairs
    ]
    expected = -sum(
        math.log(min(max(s, 1e-6), 1 - 1e-6)) if p.label else math.log(1 - min(max(s, 1e-6), 1 - 1e-6))
        for s, p in zip(scores, pairs, strict=True)
    ) / len(pairs)  # fmt: skip
    assert result["log_loss"] == round(expected, 4)
    assert "reason" not in result
    assert per_query_precisions(SKILLS_ONLY, pairs) == pytest.approx(TOY_PRECISIONS)
    assert list(per_query_precisions(SKILLS_ONLY, pairs)) == ["a", "b", "g", "h", "e", "f"]


def test_tied_scores_keep_the_order_the_pairs_came_in() -> None:
    """The same MAP on every machine: a sort that is not stable orders ties differently
    from about 17 rows on. Two scores, alternating: the 0.5s in their order (matches 2 and 8
    at ranks 2 and 5), then the 0.3s (matches 3 and 13 at ranks 12 and 17)."""
    matches = (2, 3, 8, 13)
    pairs = [LabelledPair("q", {"skills": 0.5 if i % 2 == 0 else 0.3}, 0, int(i in matches))
             for i in range(20)]  # fmt: skip
    expected = (1 / 2 + 2 / 5 + 3 / 12 + 4 / 17) / 4
    assert evaluate_model(SKILLS_ONLY, pairs)["map"] == round(expected, 4)
    assert per_query_precisions(SKILLS_ONLY, pairs) == {"q": pytest.approx(expected)}


def test_the_curve_fitted_is_the_curve_served() -> None:
    raws = np.array([-0.5, 0.0, 0.1, 0.3, 0.5, 0.77, 1.0, 1.5])
    for slope, midpoint in ((2.0, 0.5), (6.0, 0.3), (10.0, 0.8)):
        served = RankerModel(version="c", weights={}, slope=slope, midpoint=midpoint)
        fitted = _calibration(raws, slope, midpoint)
        assert fitted.tolist() == pytest.approx([served.calibrate(float(r)) for r in raws])


def test_weights_stay_finite_for_extreme_logits() -> None:
    floors = np.full(len(FACTORS), MIN_WEIGHT)
    weights = _weights_of(np.array([800.0] + [0.0] * (len(FACTORS) - 1)), floors)
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(1.0)
    assert weights[0] == pytest.approx(1 - MIN_WEIGHT * (len(FACTORS) - 1))


def test_a_sure_wrong_score_costs_a_bounded_log_loss() -> None:
    sure = RankerModel(version="x", weights={n: float(n == "skills") for n in FACTORS}, slope=10.0)
    pairs = [LabelledPair("a", {"skills": 1.0}, 0, 0), LabelledPair("a", {"skills": 0.0}, 0, 1)]
    result = evaluate_model(sure, pairs)
    assert result["log_loss"] == pytest.approx(-math.log(1e-6), abs=1e-3)
    assert result["map"] == 0.5


def _no_nan(value: Any) -> None:
    json.dumps(value, allow_nan=False)  # raises on NaN or infinity


def test_no_nan_without_pairs_with_one_query_or_with_identical_labels() -> None:
    assert evaluate_model(SKILLS_ONLY, []) == {
        "log_loss": None, "map": None, "groups": 0, "positives": 0, "reason": "no labelled pairs",
    }  # fmt: skip
    same = [LabelledPair(f"q{i}", _factors(skills=0.1 * i), 0, 1) for i in range(4)]
    result = evaluate_model(SKILLS_ONLY, same)
    assert result["map"] is None and result["groups"] == 0 and result["positives"] == 4
    assert result["reason"] == "no query has both a match and a non-match"
    assert result["log_loss"] is not None and math.isfinite(result["log_loss"])
    _no_nan(result)
    assert per_query_precisions(SKILLS_ONLY, same) == {}
    # Pairs the curve puts at exactly 0 or 1, labelled the other way: a bounded loss.
    extreme = [LabelledPair("x", dict.fromkeys(FACTORS, 1.0), 0, 0),
               LabelledPair("x", dict.fromkeys(FACTORS, 0.0), 0, 1)]  # fmt: skip
    for pairs, queries in ((same, 0), (_skills_decide(1), 1), (_skills_decide(1) + extreme, 2)):
        model = fit_model(pairs, version="v15", start=START, prior=0.05)
        _no_nan(asdict(model))
        assert sum(model.weights.values()) == pytest.approx(1.0, abs=1e-4)
        _no_nan(evaluate_model(model, pairs))
        assert model.provenance["queries"] == queries


def test_the_held_out_split_is_by_query_and_stable() -> None:
    pairs = _skills_decide(40, seed=7)
    sides = {p.group: is_held_out(p.group, 0.25) for p in pairs}
    # Every pair of a query on its query's side, every time.
    assert all(is_held_out(p.group, 0.25) == sides[p.group] for p in pairs)
    assert 0 < sum(sides.values()) < len(sides)
    assert not any(is_held_out(g, 0.0) for g in sides) and all(is_held_out(g, 1.0) for g in sides)
