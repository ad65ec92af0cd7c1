"""The résumé extraction evaluation meets the issue's bars on its labelled corpus."""

from __future__ import annotations

from bench.extraction_eval import evaluate_extraction
from bench.resume_corpus import build_corpus


def test_extraction_quality_on_forty_generated_resumes() -> None:
    corpus = build_corpus(40)
    assert sum(r.language == "zh" for r in corpus) == 20
    assert {r.layout for r in corpus} == {
        "pdf-single",
        "pdf-two-column",
        "docx-single",
        "docx-two-column",
    }
    report = evaluate_extraction(corpus)
    for name in ("email", "phone"):
        assert report.fields[name].precision >= 0.95 and report.fields[name].recall >= 0.95, name
    for name in ("education_level", "years_experience"):
        assert report.fields[name].precision >= 0.9 and report.fields[name].recall >= 0.9, name
    assert report.fields["skills"].f1 >= 0.85
