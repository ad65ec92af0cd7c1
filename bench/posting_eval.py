"""Posting extraction: what the intake path fills from a description, field by field, on
hand-written postings (``bench/data/postings/extraction.jsonl``: Chinese and English,
labelled, bracketed and one-line layouts, daily, hourly and annual pay), split into a dev
and a reporting half. Each posting goes through ``with_posting_extraction`` as
``POST /v1/jobs`` and bulk loads run it (title and description given, nothing else)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.posting_text import with_posting_extraction
from store.normalize import normalize_place

DATA = Path(__file__).parent / "data" / "postings" / "extraction.jsonl"


@dataclass
class ExtractionReport:
    postings: int = 0
    fields: int = 0
    right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.fields if self.fields else 0.0


def _agrees(name: str, got: Any, want: Any) -> bool:
    if name == "required_skills":
        return {s.lower() for s in want} <= {s.lower() for s in got or []}
    if isinstance(want, float | int) and not isinstance(want, bool):
        return got is not None and abs(float(got) - float(want)) <= 1.0
    return bool(got == want)


def evaluate_postings(split: str) -> ExtractionReport:
    """Field accuracy of one half."""
    with DATA.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    report = ExtractionReport()
    for row in (r for r in rows if r["split"] == split):
        fields = {"title": row["title"], "description": row["description"]}
        filled = with_posting_extraction(fields, given=set(fields))
        place = normalize_place(filled.get("city"), filled.get("district"))
        filled["city"], filled["district"] = place.city, place.district
        expected = dict(row["expected"])
        want_place = normalize_place(expected.get("city"), expected.get("district"))
        if "city" in expected:
            expected["city"] = want_place.city
        if "district" in expected:
            expected["district"] = want_place.district
        report.postings += 1
        for name, want in expected.items():
            report.fields += 1
            if _agrees(name, filled.get(name), want):
                report.right += 1
            else:
                report.misses.append(f"#{row['id']} {name}: {filled.get(name)!r} (want {want!r})")
    return report


def render_postings() -> list[str]:
    """The posting-extraction section of ``talentmatch eval intake``."""
    lines = [
        "## Posting extraction (description → fields)",
        "",
        "Hand-written postings, title and description only, through the intake path every "
        "channel runs (`ingestion.posting_text.with_posting_extraction`).",
        "",
        "| half | postings | fields | right | field accuracy |",
        "|---|---|---|---|---|",
    ]
    reports = {split: evaluate_postings(split) for split in ("dev", "reporting")}
    for split, r in reports.items():
        lines.append(f"| {split} | {r.postings} | {r.fields} | {r.right} | {r.accuracy:.3f} |")
    for split, r in reports.items():
        if r.misses:
            lines += ["", f"Misses ({split}): " + "; ".join(r.misses) + "."]
    return [*lines, ""]
