"""Ranker model rules that mutation testing of ``matching/ranker.py`` found unpinned: the
calibration curve's ends, the skills gate, pairs without evidence, and loading a stored
model (``default_model()`` is cached, so these read a model file themselves)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from matching.ranker import (
    CANDIDATE_TO_JOBS,
    DEFAULT_MODEL_PATH,
    FACTORS,
    JOB_TO_CANDIDATES,
    RankerModel,
)

ALL_GOOD: dict[str, float | None] = dict.fromkeys(FACTORS, 1.0)


def _stored() -> RankerModel:
    return RankerModel.from_dict(json.loads(DEFAULT_MODEL_PATH.read_text()))


def test_the_calibration_curve_runs_from_zero_to_one_for_any_slope_and_midpoint() -> None:
    base = _stored()
    for slope, midpoint in [(2.0, 0.5), (2.0, 0.3), (10.0, 0.7), (base.slope, base.midpoint)]:
        model = replace(base, slope=slope, midpoint=midpoint)
        assert model.calibrate(0.0) == pytest.approx(0.0, abs=1e-12)
        assert model.calibrate(1.0) == pytest.approx(1.0)
        values = [model.calibrate(x / 10) for x in range(11)]
        assert values == sorted(values)
        assert len(set(values)) == len(values)  # strictly increasing: order is kept


def test_no_mismatch_argument_means_no_penalty() -> None:
    model = _stored()
    factors = {**ALL_GOOD, "semantic": 0.5}
    assert model.score(factors)[0] > model.score(factors, 1)[0]


def test_a_required_skills_shortfall_scales_the_evidence() -> None:
    model = _stored()
    assert model.skills_gate > 0
    all_three = model.score(ALL_GOOD)[0]
    one_of_three = model.score({**ALL_GOOD, "skills": 1 / 3})[0]
    # Issue 16: one required skill of three costs at least 0.25 against all three, which
    # the skills weight alone (a few hundredths of a weighted mean) would never do.
    assert all_three - one_of_three >= 0.25
    assert model.score({**ALL_GOOD, "skills": 0.0})[0] < 0.1
    # A posting that lists no skills gates nothing.
    assert model.score({**ALL_GOOD, "skills": None})[0] == pytest.approx(1.0)
    ungated = replace(model, skills_gate=0.0)
    assert ungated.score({**ALL_GOOD, "skills": 1 / 3})[0] > one_of_three


def test_a_factor_the_model_has_no_weight_for_counts_for_nothing() -> None:
    # A model saved before a factor existed has no weight for it.
    old = RankerModel(version="old", weights={n: 1 / 7 for n in FACTORS if n != "keyword"})
    with_keyword = {**ALL_GOOD, "semantic": 0.5, "keyword": 1.0}
    without = {**with_keyword, "keyword": None}
    assert old.score(with_keyword)[0] == pytest.approx(old.score(without)[0])
    # Nothing but that factor known: no evidence, and no share of the score to explain.
    assert old.score({"keyword": 1.0}) == (0.0, {"keyword": 0.0})


def test_no_evidence_scores_zero_with_zero_contributions() -> None:
    model = _stored()
    score, contributions = model.score(dict.fromkeys(FACTORS, None))
    assert score == 0.0 and contributions == {}
    score, contributions = model.score(dict.fromkeys(FACTORS, 0.0))
    assert score == 0.0
    assert contributions == dict.fromkeys(FACTORS, 0.0)


def test_a_stored_model_reads_back_as_it_was_saved() -> None:
    stored = _stored()
    seekers = replace(stored, slope=3.0, midpoint=0.4, mismatch_penalty=0.7, skills_gate=0.5)
    model = replace(stored, for_seekers=seekers)
    again = RankerModel.from_dict(json.loads(model.to_json()))
    assert again == model
    assert again.for_direction(CANDIDATE_TO_JOBS) == seekers
    assert again.for_direction(JOB_TO_CANDIDATES) is again
    assert again.provenance == stored.provenance and again.provenance
    assert stored.version == json.loads(DEFAULT_MODEL_PATH.read_text())["version"]


def test_an_older_model_file_gets_the_documented_defaults() -> None:
    model = RankerModel.from_dict({"version": "v1", "weights": {"semantic": 0.6, "skills": 0.4}})
    assert model.version == "v1"
    assert model.weights == {n: {"semantic": 0.6, "skills": 0.4}.get(n, 0.0) for n in FACTORS}
    assert (model.slope, model.midpoint, model.mismatch_penalty, model.skills_gate) == (
        8.0,
        0.5,
        0.5,
        0.0,
    )
    assert model.provenance == {} and model.for_seekers is None
    assert (
        RankerModel.from_dict({"version": "v2", "weights": {}, "provenance": None}).provenance == {}
    )
    # Numbers stored as text (an older admin export) read as numbers.
    text = RankerModel.from_dict(
        {"version": 3, "weights": {"title": "1"}, "slope": "4", "midpoint": "0.25",
         "mismatch_penalty": "0.8", "skills_gate": "0.3"}
    )  # fmt: skip
    assert text.version == "3" and text.weights["title"] == 1.0
    assert (text.slope, text.midpoint, text.mismatch_penalty, text.skills_gate) == (
        4.0,
        0.25,
        0.8,
        0.3,
    )


def test_the_shipped_model_file_is_what_to_json_writes() -> None:
    # The fit writes the file with to_json: sorted keys and an indent keep a refit's diff
    # to the numbers that changed.
    text = DEFAULT_MODEL_PATH.read_text()
    assert _stored().to_json() + "\n" == text
    # Names in the provenance stay readable in the file.
    named = replace(_stored(), provenance={"corpus": "深圳 postings"})
    assert "深圳 postings" in named.to_json()
