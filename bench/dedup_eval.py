"""Duplicate postings: precision, recall and F1 of the MinHash decision on hand-made pairs,
and the ingest rate as the corpus grows.

``bench/data/duplicates/pairs.jsonl``: reposts written by hand as other agencies and boards
publish them (renumbered lists 1. / 一、 / ① / (1), 【】「」 headers, lines joined or split,
title words reordered or qualified, the company's short name, an appeal line added) and hard
non-duplicates (the same company with another role or in another city; the same role and
city at another employer). Each pair is in the dev half (the threshold is chosen on it) or
the reporting half. The generated pairs of earlier releases (``labelled_pairs``) are kept
as a second, easier check.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.fingerprints import (
    DUPLICATE_THRESHOLD,
    estimated_jaccard,
    lsh_buckets,
    posting_minhash,
    same_posting_by_minhash,
)
from ingestion.sample_data import generate_jobs
from store.normalize import normalize_place

PAIRS = Path(__file__).parent / "data" / "duplicates" / "pairs.jsonl"
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)


@dataclass(frozen=True)
class PairReport:
    pairs: int
    positives: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def repost(fields: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same job as another agency would repost it (generated; see the hand-made pairs
    for realistic ones)."""
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


def decide(a: dict[str, Any], b: dict[str, Any], threshold: float = DUPLICATE_THRESHOLD) -> bool:
    """The store's decision for two postings: they share an LSH bucket (the store only
    compares those) and pass ``same_posting_by_minhash``."""
    signatures = []
    for f in (a, b):
        place = normalize_place(f.get("city"), f.get("district"))
        signatures.append(
            (f["title"], place.city_code, posting_minhash(f["title"], place.city, f["description"]))
        )
    (ta, ca, sa), (tb, cb, sb) = signatures
    if not set(lsh_buckets(sa)) & set(lsh_buckets(sb)):
        return False
    return same_posting_by_minhash(ta, ca, sa, tb, cb, sb, threshold=threshold)


def labelled_pairs(
    count: int = 300, seed: int = 13
) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
    """Generated pairs: a posting and its generated repost; two postings of one template."""
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


def hand_made_pairs(split: str | None = None) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
    """The hand-made pairs of one half (both without ``split``)."""
    with PAIRS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [(r["a"], r["b"], bool(r["duplicate"])) for r in rows if split in (None, r["split"])]


def _score(
    pairs: list[tuple[dict[str, Any], dict[str, Any], bool]], threshold: float
) -> PairReport:
    tp = fp = fn = 0
    for a, b, duplicate in pairs:
        predicted = decide(a, b, threshold)
        tp += predicted and duplicate
        fp += predicted and not duplicate
        fn += duplicate and not predicted
    return PairReport(
        len(pairs), tp + fn, tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    )


def evaluate_dedup() -> PairReport:
    """The generated pairs at the shipped threshold."""
    return _score(labelled_pairs(), DUPLICATE_THRESHOLD)


def choose_threshold() -> tuple[float, list[tuple[float, PairReport]]]:
    """The threshold with the best F1 on the dev half; of equally good ones, the strictest
    (template postings of one employer share much of their text: the generated pairs show
    a lower threshold grouping them)."""
    dev = hand_made_pairs("dev")
    grid = [(t, _score(dev, t)) for t in THRESHOLDS]
    top = max(round(r.f1, 6) for _, r in grid)
    return max(t for t, r in grid if round(r.f1, 6) == top), grid


def ingest_rate(batches: int = 4, batch_size: int = 500) -> list[tuple[int, float]]:
    """Postings stored per second, batch after batch, into one growing SQLite database
    (generated postings through ``store.jobs.upsert_jobs``, grouping included)."""
    from core.settings import Settings
    from store.db import Database, migrate
    from store.jobs import upsert_jobs
    from store.models import Tenant

    jobs = [r.fields for r in generate_jobs(batches * batch_size, seed=5)]
    rates: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        db = Database(Settings(environment="test", data_dir=Path(directory)))
        migrate(db.engine)
        with db.session() as session:
            session.add(Tenant(id="bench", name="bench"))
        for start in range(0, len(jobs), batch_size):
            chunk = [{**f, "external_id": f"bench-{start + i}"} for i, f in enumerate(jobs[start : start + batch_size])]  # fmt: skip
            began = time.perf_counter()
            with db.session() as session:
                upsert_jobs(session, tenant_id="bench", records=chunk)
            rates.append((start + len(chunk), len(chunk) / (time.perf_counter() - began)))
        db.engine.dispose()
    return rates


def render_dedup() -> list[str]:
    """The duplicate section of ``talentmatch eval intake``."""
    chosen, grid = choose_threshold()
    dev, reporting = hand_made_pairs("dev"), hand_made_pairs("reporting")
    lines = [
        "## Duplicate postings",
        "",
        f"MinHash ({'128'} permutations, character shingles of the normalized text) with LSH "
        "buckets in the database; a pair is a duplicate when the estimated Jaccard reaches the "
        "threshold, the cities agree and the titles have the same words. Hand-made pairs in "
        f"`bench/data/duplicates/pairs.jsonl`: {len(dev)} dev, {len(reporting)} reporting.",
        "",
        "Threshold chosen on the dev half:",
        "",
        "| threshold | dev precision | dev recall | dev F1 |",
        "|---|---|---|---|",
    ]
    lines += [f"| {t} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |" for t, r in grid]
    lines += [
        "",
        f"Best on dev: {chosen}; shipped: {DUPLICATE_THRESHOLD}.",
        "",
        "| set | pairs | duplicates | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, pairs in (("dev", dev), ("reporting", reporting)):
        r = _score(pairs, DUPLICATE_THRESHOLD)
        lines.append(
            f"| hand-made, {name} | {r.pairs} | {r.positives} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |"
        )
    generated = evaluate_dedup()
    lines.append(
        f"| generated reposts and same-template postings | {generated.pairs} | {generated.positives} "
        f"| {generated.precision:.3f} | {generated.recall:.3f} | {generated.f1:.3f} |"
    )
    misses = [
        (a["title"], b["title"], round(estimated_jaccard(
            posting_minhash(a["title"], a.get("city"), a["description"]),
            posting_minhash(b["title"], b.get("city"), b["description"])), 2), dup)
        for a, b, dup in reporting if decide(a, b) != dup
    ]  # fmt: skip
    if misses:
        lines += ["", "Reporting-half mistakes: " + "; ".join(
            f"{ta} / {tb} (Jaccard {j}, {'missed duplicate' if dup else 'false duplicate'})"
            for ta, tb, j, dup in misses
        ) + "."]  # fmt: skip
    rates = ingest_rate()
    lines += [
        "",
        "Ingest rate as the corpus grows (SQLite, generated postings, batches of 500, "
        "grouping included): "
        + ", ".join(f"{n:,} stored: {rate:,.0f}/s" for n, rate in rates)
        + ".",
        "",
    ]
    return lines
