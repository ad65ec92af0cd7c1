"""Duplicate detection precision and recall on labelled posting pairs.

Positives: a generated posting and a repost of it as another agency or board would publish
it (a different company suffix, reordered or extra benefit lines, changed punctuation and
bullet style, a small salary tweak, "急招" in the title). Hard negatives: two different
postings of the same occupation and city (same template, different details)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from core.fingerprints import bands, posting_fingerprint_text, same_posting, simhash
from ingestion.sample_data import generate_jobs
from store.normalize import normalize_place


@dataclass(frozen=True)
class PairReport:
    pairs: int
    positives: int
    precision: float
    recall: float


def repost(fields: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same job as another agency would repost it."""
    description = fields["description"]
    edits = [
        lambda d: d.replace("；", "; ").replace("，", ", "),
        lambda d: d.replace("\n", "\n\n"),
        lambda d: re.sub(r"^(\d)\. ", r"\1、", d, flags=re.MULTILINE),
        lambda d: d.replace("- ", "• "),
        lambda d: d + rng.choice(["\n欢迎投递！", "\nApply now!", "\n", "\n（长期有效）"]),
    ]
    for edit in rng.sample(edits, k=3):
        description = edit(description)
    title = fields["title"]
    if rng.random() < 0.5:
        title = ("急招" + title) if rng.random() < 0.5 else title + " "
    return {**fields, "title": title, "description": description,
            "company": fields["company"].replace("有限公司", "（集团）有限公司"),
            "salary_min": fields["salary_min"] + 500}  # fmt: skip


def _decide(a: dict[str, Any], b: dict[str, Any]) -> bool:
    signatures = []
    for f in (a, b):
        place = normalize_place(f.get("city"), f.get("district"))
        text = posting_fingerprint_text(
            f["title"], f.get("company"), f.get("city"), f["description"]
        )
        signatures.append((f["title"], place.city_code, simhash(text)))
    (ta, ca, ha), (tb, cb, hb) = signatures
    # The store only compares postings that share a SimHash band: so does the evaluation.
    shares_band = any(x == y for x, y in zip(bands(ha), bands(hb), strict=True))
    return shares_band and same_posting(ta, ca, ha, tb, cb, hb)


def labelled_pairs(
    count: int = 300, seed: int = 13
) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
    rng = random.Random(seed)
    postings = list(generate_jobs(count * 4, seed=seed))
    pairs: list[tuple[dict[str, Any], dict[str, Any], bool]] = []
    for record in postings[:count]:
        pairs.append((record.fields, repost(record.fields, rng), True))
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in postings:
        by_key.setdefault((record.archetype, record.fields["city"]), []).append(record.fields)
    negatives = [group for group in by_key.values() if len(group) >= 2]
    for _ in range(count):
        group = rng.choice(negatives)
        a, b = rng.sample(group, 2)
        pairs.append((a, b, False))
    return pairs


def evaluate_dedup() -> PairReport:
    pairs = labelled_pairs()
    tp = fp = fn = 0
    for a, b, duplicate in pairs:
        predicted = _decide(a, b)
        tp += predicted and duplicate
        fp += predicted and not duplicate
        fn += duplicate and not predicted
    return PairReport(
        len(pairs), tp + fn, tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    )


def render_dedup() -> list[str]:
    report = evaluate_dedup()
    return [
        "## Duplicate postings",
        "",
        f"{report.pairs} labelled pairs ({report.positives} reposts with edits, the rest different postings "
        "of the same occupation and city; `bench/dedup_eval.py`):",
        "",
        f"- precision {report.precision:.3f}, recall {report.recall:.3f}",
        "",
    ]
