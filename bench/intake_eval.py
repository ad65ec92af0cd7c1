"""``talentmatch eval intake``: résumé extraction, salary and location normalization, posting
extraction, title coding (held out and perturbed) and duplicate detection, written to
``bench/results/intake.md``."""

from __future__ import annotations

import time

from bench.dedup_eval import render_dedup
from bench.extraction_eval import evaluate_extraction, render_extraction
from bench.normalization_eval import evaluate_locations, evaluate_salaries
from bench.posting_eval import render_postings
from bench.report import write_report
from bench.resume_intake_eval import evaluate_hand_made, render_hand_made
from bench.title_eval import render_titles


def _resume_section() -> list[str]:
    """The hand-made set's two halves, then the generated corpus, labelled as generated."""
    hand_made = render_hand_made(
        evaluate_hand_made("development"),
        evaluate_hand_made("reporting"),
        evaluate_hand_made("late"),
        evaluate_hand_made("fresh"),
    )
    generated = render_extraction(evaluate_extraction())
    return [
        *hand_made,
        "### Generated résumés (not a measure of real layouts)",
        "",
        "These files come from the project's own generator, in the formats its patterns were "
        "written for; the figures say that nothing regressed there, not how real résumés fare.",
        "",
        *generated,
    ]


def run_intake_evaluation(*, output: str) -> int:
    started = time.perf_counter()
    lines = ["# Intake quality", "", f"`talentmatch eval intake`, {time.strftime('%Y-%m-%d')}.", ""]
    lines += ["## Résumé extraction", "", *_resume_section(), ""]
    salaries, places = evaluate_salaries(), evaluate_locations()
    lines += [
        "## Normalization",
        "",
        "| set | strings | accuracy |",
        "|---|---|---|",
        f"| salary → monthly CNY range + months/year (`bench/data/salary_cases.tsv`) | {salaries.total} | {salaries.accuracy:.3f} |",
        f"| location → city and district codes (`bench/data/location_cases.tsv`) | {places.total} | {places.accuracy:.3f} |",
        "",
    ]
    for failure in salaries.failures + places.failures:
        lines.append(f"- miss: {failure}")
    lines += ["", *render_postings(), *render_titles()]
    lines += render_dedup()
    return write_report(output, lines, started)
