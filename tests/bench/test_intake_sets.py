"""The hand-made résumé set: enough résumés and layouts, complete labels, built files that
read back, and a split into development and reporting halves that is disjoint and stable."""

from __future__ import annotations

from collections import Counter

from bench.intake_sets import DATA, _source, load_set, render, split_half
from bench.resume_intake_eval import HAND_MADE_FIELDS, evaluate_hand_made
from ingestion.readers import read_document

# Frozen when the set was made, before any tuning: the reporting half must never move.
REPORTING = [
    "bi-01", "bi-02", "bi-03", "en-docx-01", "en-docx-02", "en-pdf-02", "en-pdf-03",
    "en-pdf-04", "en-txt-02", "en-txt-03", "two-col-01", "zh-board-01", "zh-board-03",
    "zh-board-05", "zh-pdf-01", "zh-pdf-03", "zh-pdf-05", "zh-table-04", "zh-table-05",
    "zh-table-06",
]  # fmt: skip


def test_split_is_disjoint_complete_and_stable() -> None:
    everything = {r.id for r in load_set()}
    development = {r.id for r in load_set("development")}
    reporting = {r.id for r in load_set("reporting")}
    assert development.isdisjoint(reporting)
    assert development | reporting == everything
    assert sorted(reporting) == REPORTING
    # The later sets (written after the rules) share no résumé with either half or each other.
    late, fresh = {r.id for r in load_set("late")}, {r.id for r in load_set("fresh")}
    assert everything.isdisjoint(late) and everything.isdisjoint(fresh)
    assert late.isdisjoint(fresh) and len(late) == len(fresh) == 8
    # The half depends on the id alone: not on the order, the contents or the other ids.
    assert all(split_half(i) == split_half(i) for i in everything)
    assert [split_half(i) for i in sorted(everything, reverse=True)] == [
        "reporting" if i in reporting else "development" for i in sorted(everything, reverse=True)
    ]


def test_set_has_forty_labelled_resumes_in_eight_layouts_in_both_halves() -> None:
    resumes = load_set()
    assert len(resumes) >= 40
    families = Counter(r.id.rsplit("-", 1)[0] for r in resumes)
    assert len(families) >= 8
    for family in families:
        assert {r.half for r in resumes if r.id.startswith(family + "-")} == {
            "development",
            "reporting",
        }, family
    assert {r.filename.rsplit(".", 1)[1] for r in resumes} == {"pdf", "docx", "txt"}
    for resume in resumes:
        assert set(HAND_MADE_FIELDS) | {"experience"} <= set(resume.labels), resume.id
        assert resume.labels["experience"], resume.id


def test_built_files_are_the_sources() -> None:
    for resume in load_set() + load_set("late") + load_set("fresh"):
        later = resume.id.split("-", 1)[0]
        folder = DATA / later if later in ("late", "fresh") else DATA
        layout, lines = _source(folder / "src" / f"{resume.id}.txt")
        if layout == "txt":
            assert resume.content == render(layout, lines)
        text = read_document(resume.filename, resume.content).text
        for line in lines:
            words = line.replace("|", " ").replace("、", " ").split()
            if words and line != ">>>":
                assert words[0].rstrip(",") in text, (resume.id, line)


def test_the_development_half_is_scored_field_by_field() -> None:
    report = evaluate_hand_made("development")
    assert report.resumes == 20
    assert report.entries == sum(len(r.labels["experience"]) for r in load_set("development"))
    assert 0.0 <= report.field_accuracy <= 1.0 and 0.0 <= report.entries_accuracy <= 1.0
    wrong = len(HAND_MADE_FIELDS) * report.resumes - sum(report.right.values())
    assert wrong == len([m for m in report.misses if " experience: " not in m])
