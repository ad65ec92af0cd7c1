"""Calibration of match scores on hand-made graded labels: ``talentmatch eval calibration``.

The label set (``bench/data/match_labels``, written and labelled for this project) holds
postings, candidate profiles and pairs graded 0–3 by the rubric of ``bench/data/README.md``
(occupation, seniority, required skills, location, pay); grade ≥ 2 is a good match. Postings
are split by a hash of their id into a fitting half (the default ranker is fitted on it:
``--fit-default``) and a reporting half, fixed before any fit. Every pair is scored by the
shipped path: the records go in through the API schemas and the store, the runtime indexes
them with the configured encoder (the default USE model), and each posting's match list is
``matching.service.rank_candidates_for_job`` (hybrid retrieval, then ``matching.scoring``).
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from api.runtime import Runtime
from api.schemas import CandidateCreate, JobCreate
from bench.metrics import average_precision, mean
from bench.ranking_eval import graded_ndcg
from bench.report import write_report
from core.settings import Settings
from ingestion.resume_text import with_resume_extraction
from matching.ranker import (
    DEFAULT_MODEL_PATH,
    JOB_TO_CANDIDATES,
    LabelledPair,
    RankerModel,
    default_model,
    fit_model,
)
from matching.scoring import MatchScore
from matching.service import pair_features, rank_candidates_for_job
from store.candidates import candidates_by_ids, upsert_candidate
from store.jobs import jobs_by_ids, upsert_jobs
from store.keys import get_or_create_tenant

LABELS_DIR = Path(__file__).parent / "data" / "match_labels"
GOOD = 2  # grade at and above which a pair counts as a good match
FACTS = ("occupation",)  # written for the rubric, not part of a record
TENANT = "calibration"
BINS = 10


def split_of(posting_id: str) -> str:
    """``fitting`` or ``reporting``: a stable hash of the posting id, never of the pair, so
    that no posting is seen on both sides."""
    return "fitting" if zlib.crc32(posting_id.encode()) % 2 == 0 else "reporting"


@dataclass(frozen=True)
class LabelSet:
    postings: dict[str, dict[str, Any]]
    candidates: dict[str, dict[str, Any]]
    grades: list[tuple[str, str, int]]  # (posting, candidate, grade)


def load_labels(directory: Path = LABELS_DIR) -> LabelSet:
    """The postings, profiles and graded pairs of the label set."""

    def records(name: str) -> dict[str, dict[str, Any]]:
        lines = (directory / name).read_text(encoding="utf-8").splitlines()
        return {r["external_id"]: r for r in map(json.loads, lines) if r}

    with (directory / "grades.tsv").open(encoding="utf-8") as handle:
        grades = [(row["posting"], row["candidate"], int(row["grade"]))
                  for row in csv.DictReader(handle, delimiter="\t")]  # fmt: skip
    return LabelSet(records("postings.jsonl"), records("candidates.jsonl"), grades)


@dataclass(frozen=True)
class ScoredPair:
    posting: str
    candidate: str
    grade: int
    split: str
    match: MatchScore
    retrieved: bool  # in the posting's match list (else below retrieval's floor: scored alone)

    def labelled(self) -> LabelledPair:
        """The pair as the ranker's fit reads it (a posting's list: job → candidates)."""
        return LabelledPair(
            group=f"job:{self.posting}", factors=self.match.factor_scores(),
            hard_mismatches=self.match.hard_mismatch_count, label=int(self.grade >= GOOD),
            direction=JOB_TO_CANDIDATES, grade=self.grade,
        )  # fmt: skip


@dataclass
class ScoredSet:
    pairs: list[ScoredPair]  # the graded pairs
    pool: dict[str, list[MatchScore]]  # each posting's whole match list (graded or not)


def score_label_set(labels: LabelSet, data_dir: Path) -> ScoredSet:
    """Every posting's match list over all profiles, through the shipped matcher; a graded
    pair retrieval left out is scored as feedback logging scores a pair (same scorer, same
    keyword evidence)."""
    runtime = Runtime(Settings(environment="test", data_dir=data_dir))
    runtime.start(background=False)
    try:
        with runtime.db.session() as session:
            get_or_create_tenant(session, TENANT)
            stored = upsert_jobs(session, tenant_id=TENANT, records=[
                JobCreate.model_validate({k: v for k, v in r.items() if k not in FACTS}).model_dump()
                | {"private": True} for r in labels.postings.values()])  # fmt: skip
            job_ids = {str(job.external_id): job.id for job, _ in stored}
            person_ids: dict[int, str] = {}
            for record in labels.candidates.values():
                body = CandidateCreate.model_validate(
                    {k: v for k, v in record.items() if k not in (*FACTS, "language")}
                )
                person, _ = upsert_candidate(session, tenant_id=TENANT,
                                             fields=with_resume_extraction(body.model_dump(exclude={"consent"})))  # fmt: skip
                person_ids[person.id] = record["external_id"]
        runtime.sync.drain()
        grades = {(p, c): g for p, c, g in labels.grades}
        scored = ScoredSet([], {})
        people = {external: internal for internal, external in person_ids.items()}
        with runtime.db.session() as session:
            for posting, job_id in job_ids.items():
                job = jobs_by_ids(session, [job_id])[job_id]
                ranked = rank_candidates_for_job(
                    job, tenant_id=TENANT, sources=runtime.matching,
                    load_candidates=partial(candidates_by_ids, session, full=False),
                    limit=len(labels.candidates),
                )  # fmt: skip
                scored.pool[posting] = [m for _, m in ranked]
                found = {person_ids[row.id]: m for row, m in ranked}
                for (p, c), grade in grades.items():
                    if p != posting:
                        continue
                    match = found.get(c)
                    if match is None:
                        person = candidates_by_ids(session, [people[c]], full=False)[people[c]]
                        match = pair_features(
                            job, person, actor="recruiter", sources=runtime.matching
                        )
                    scored.pairs.append(ScoredPair(p, c, grade, split_of(p), match, c in found))
        return scored
    finally:
        runtime.close()


# -- Metrics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    mean_score: float | None
    observed: float | None  # share of good matches among the bin's pairs


def reliability(scores: Sequence[float], good: Sequence[bool], bins: int = BINS) -> list[Bin]:
    """Equal-width score bins, the last closed on the right (a score of 1 falls in it)."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(scores):
        members[min(int(s * bins), bins - 1)].append(i)
    out = []
    for b in range(bins):
        rows = members.get(b, [])
        out.append(Bin(
            b / bins, (b + 1) / bins, len(rows),
            mean([scores[i] for i in rows]) if rows else None,
            mean([float(good[i]) for i in rows]) if rows else None,
        ))  # fmt: skip
    return out


def expected_calibration_error(
    scores: Sequence[float], good: Sequence[bool], bins: int = BINS
) -> float:
    """Σ over bins of (pairs in the bin / all pairs) × |observed share − mean score|."""
    total = len(scores)
    if total == 0:
        raise ValueError("no pairs to measure calibration on")
    return sum(
        b.count / total * abs((b.observed or 0.0) - (b.mean_score or 0.0))
        for b in reliability(scores, good, bins)
        if b.count
    )


def quantiles(
    values: Sequence[float], points: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
) -> list[float]:
    """The given quantiles (linear interpolation)."""
    return [float(q) for q in np.quantile(np.array(values, dtype=float), points)]


def ranking_metrics(pairs: Sequence[ScoredPair]) -> dict[str, float]:
    """MAP (good = grade ≥ 2) and graded nDCG@10 per posting, averaged over postings that
    have a good match."""
    by_posting: dict[str, list[ScoredPair]] = defaultdict(list)
    for pair in pairs:
        by_posting[pair.posting].append(pair)
    maps, ndcgs = [], []
    for rows in by_posting.values():
        ordered = sorted(range(len(rows)), key=lambda i: -rows[i].match.score)
        relevant = {i for i, r in enumerate(rows) if r.grade >= GOOD}
        if not relevant:
            continue
        maps.append(average_precision(ordered, relevant))
        ndcgs.append(graded_ndcg(ordered, {i: r.grade for i, r in enumerate(rows)}))
    return {"map": mean(maps), "ndcg@10": mean(ndcgs), "postings": len(maps)}


# -- Targets (counterfactuals on real factor vectors) ------------------------------------


def mismatch_costs(model: RankerModel, pairs: Sequence[ScoredPair]) -> dict[str, list[float]]:
    """For each strong pair (grade 3): the score lost to two hard mismatches (location and
    salary failing), to holding one of three required skills instead of all three, and to
    a junior for a senior role (one year of the five required: experience 0.2 against 1.0)."""
    costs: dict[str, list[float]] = {
        "two hard mismatches": [], "one of three required skills": [], "one year of five": [],
    }  # fmt: skip
    for pair in pairs:
        if pair.grade < 3:
            continue
        factors = pair.match.factor_scores()
        base, _ = model.score(factors, pair.match.hard_mismatch_count)
        broken = factors | {"location": 0.0, "salary": 0.0}
        costs["two hard mismatches"].append(base - model.score(broken, 2)[0])
        all_three = factors | {"skills": 1.0}
        one_of_three = factors | {"skills": 1 / 3}
        costs["one of three required skills"].append(
            model.score(all_three, pair.match.hard_mismatch_count)[0]
            - model.score(one_of_three, pair.match.hard_mismatch_count)[0]
        )
        # The other hard mismatches of the pair, the experience factor's own left out.
        others = pair.match.hard_mismatch_count - int(
            pair.match.factors["experience"].hard_mismatch
        )
        costs["one year of five"].append(
            model.score(factors | {"experience": 1.0}, others)[0]
            - model.score(factors | {"experience": 0.2}, others + 1)[0]
        )
    return costs


# -- Report -----------------------------------------------------------------------------


def _section(title: str, pairs: Sequence[ScoredPair], pool: Sequence[float], labels: LabelSet,
             model: RankerModel) -> list[str]:  # fmt: skip
    shown = [p for p in pairs if p.retrieved]
    scores = [p.match.score for p in shown]
    good = [p.grade >= GOOD for p in shown]
    every_score = [p.match.score for p in pairs]
    every_good = [p.grade >= GOOD for p in pairs]
    ranking = ranking_metrics(pairs)
    lines = [
        f"## {title}",
        "",
        f"{len({p.posting for p in pairs})} postings, {len(pairs)} graded pairs, "
        f"{sum(every_good)} good matches (grade ≥ {GOOD}); {len(shown)} pairs are in their posting's match "
        f"list, {len(pairs) - len(shown)} fall below retrieval's floor (a match list does not show them; "
        "they are scored alone, by the same scorer).",
        "",
        "Reliability of the pairs in match lists (what a recruiter sees and thresholds):",
        "",
        "| score bin | pairs | mean score | observed share of good matches |",
        "|---|---|---|---|",
    ]
    for b in reliability(scores, good):
        mean_score = "–" if b.mean_score is None else f"{b.mean_score:.3f}"
        observed = "–" if b.observed is None else f"{b.observed:.3f}"
        lines.append(f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {mean_score} | {observed} |")
    lines += [
        "",
        f"Expected calibration error ({BINS} equal-width bins): **{expected_calibration_error(scores, good):.3f}** "
        f"over the pairs in match lists, {expected_calibration_error(every_score, every_good):.3f} over all graded "
        f"pairs. Ranking per posting (all graded pairs): MAP {ranking['map']:.3f}, graded nDCG@10 "
        f"{ranking['ndcg@10']:.3f} ({ranking['postings']} postings with a good match).",
        "",
        "| scores | p5 | p25 | median | p75 | p95 | share ≥ 0.99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, values in (("graded pairs", every_score), ("whole match lists", list(pool))):
        q = quantiles(values)
        share = sum(v >= 0.99 for v in values) / len(values)
        lines.append(
            f"| {name} ({len(values)}) | " + " | ".join(f"{v:.3f}" for v in q) + f" | {share:.3f} |"
        )
    by_grade: dict[int, list[float]] = defaultdict(list)
    for p in pairs:
        by_grade[p.grade].append(p.match.score)
    lines += ["", "| grade | pairs | median score | max score |", "|---|---|---|---|"]
    for g in sorted(by_grade):
        lines.append(
            f"| {g} | {len(by_grade[g])} | {float(np.median(by_grade[g])):.3f} | {max(by_grade[g]):.3f} |"
        )
    empty = [
        p.match.score for p in pairs if labels.candidates[p.candidate]["occupation"] == "empty"
    ]
    unrelated = [p.match.score for p in pairs if p.grade == 0 and labels.candidates[p.candidate]["occupation"]
                 not in ("empty", labels.postings[p.posting]["occupation"])]  # fmt: skip
    costs = mismatch_costs(model, pairs)
    lines += [
        "",
        "Targets: an empty or name-only profile below 0.1, an unrelated one below 0.2; for a strong pair "
        "(grade 3), two hard mismatches cost ≥ 0.15 and one required skill of three costs ≥ 0.25 against all "
        "three (counterfactuals on each strong pair's real factor scores). The cost of one year of the five "
        "required (a junior for a senior role) is reported beside them, without a target.",
        "",
        "| check | pairs | min | median | max |",
        "|---|---|---|---|---|",
    ]
    for name, values in (("empty / name-only profile: score", empty), ("unrelated occupation: score", unrelated),
                         *((f"strong pair: cost of {k}", v) for k, v in costs.items())):  # fmt: skip
        if values:
            lines.append(f"| {name} | {len(values)} | {min(values):.3f} | {float(np.median(values)):.3f} | "
                         f"{max(values):.3f} |")  # fmt: skip
    return [*lines, ""]


# How strongly the refit's weights stay near the prior's: the labelled set is small
# (18 fitting postings), the generated corpus the prior was fitted on is large.
PRIOR_STRENGTH = 0.002


def fit_default(scored: ScoredSet, version: str) -> RankerModel:
    """The default ranker fitted on the fitting half only, its weights pulled toward the
    prior recorded in the current default's provenance (the occupation-only fit on the
    generated corpus), so that a refit is reproducible rather than a drift from the last."""
    current = default_model()
    recorded = current.provenance.get("prior")
    prior = RankerModel.from_dict(recorded) if isinstance(recorded, dict) else current
    fitted_on = (recorded.get("fitted_on") if isinstance(recorded, dict)
                 else current.provenance.get("corpus"))  # fmt: skip
    fitting = [p.labelled() for p in scored.pairs if p.split == "fitting"]
    model = fit_model(fitting, version=version, start=prior, prior=PRIOR_STRENGTH)
    source = {
        "source": "talentmatch eval calibration --fit-default",
        "corpus": "bench/data/match_labels (written and labelled for this project): fitting half, "
        "postings split by a hash of their id",
        "labels": f"grades 0-3 by the rubric of bench/data/README.md; good match = grade >= {GOOD}",
        "postings": len({p.posting for p in scored.pairs if p.split == "fitting"}),
        "prior": {"version": prior.version, "weights": prior.weights, "strength": PRIOR_STRENGTH,
                  "fitted_on": fitted_on or "unknown"},
    }  # fmt: skip
    return replace(model, provenance=dict(model.provenance) | source)


def run_calibration_evaluation(*, output: str, fit: bool = False) -> int:
    """Score the label set, optionally refit the default ranker on its fitting half, and
    write the report."""
    started = time.perf_counter()
    labels = load_labels()
    with tempfile.TemporaryDirectory() as tmp:
        scored = score_label_set(labels, Path(tmp) / "first")
        if fit:
            model = fit_default(scored, f"default-{time.strftime('%Y%m%d')}")
            DEFAULT_MODEL_PATH.write_text(model.to_json() + "\n")
            default_model.cache_clear()
            print(f"wrote {DEFAULT_MODEL_PATH}: {model.weights}, penalty {model.mismatch_penalty}")
            # The factors do not depend on the model, but the served order does: score again.
            scored = score_label_set(labels, Path(tmp) / "refit")
    model = default_model()
    splits = {s: [p for p in scored.pairs if p.split == s] for s in ("reporting", "fitting")}
    pool = {s: [m.score for posting, ms in scored.pool.items() if split_of(posting) == s for m in ms]
            for s in splits}  # fmt: skip
    lines = [
        "# Calibration of match scores",
        "",
        f"`talentmatch eval calibration`, {time.strftime('%Y-%m-%d')}: {len(labels.postings)} postings and "
        f"{len(labels.candidates)} candidate profiles written and labelled for this project "
        f"(`bench/data/match_labels`), {len(labels.grades)} pairs graded 0–3 by the rubric in "
        f"`bench/data/README.md`; a good match is grade ≥ {GOOD}. Postings are split by a hash of their id into "
        "a fitting half (the default ranker is fitted on it) and a reporting half. Every pair is scored by the "
        "shipped matcher (each posting's match list over all profiles: hybrid retrieval, then the ranker "
        f"`{model.version}`).",
        "",
        *_section("Reporting half", splits["reporting"], pool["reporting"], labels, model),
        *_section(
            "Fitting half (the ranker was fitted on these postings: not a measurement)",
            splits["fitting"],
            pool["fitting"],
            labels,
            model,
        ),  # fmt: skip
        f"Model: weights {model.weights}; mismatch penalty {model.mismatch_penalty}; calibration slope "
        f"{model.slope}, midpoint {model.midpoint}.",
        "",
    ]
    return write_report(output, lines, started)
