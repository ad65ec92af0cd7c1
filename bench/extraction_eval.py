"""Field-level precision and recall of résumé extraction on the labelled corpus of
``bench/resume_corpus.py`` (40 files: half Chinese, half English; PDF and DOCX; one- and
two-column layouts), read through the same readers as uploads."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.resume_corpus import AS_OF, LabelledResume, build_corpus
from ingestion.readers import read_document
from ingestion.resume_text import extract_from_resume
from taxonomy.skills import skill_vocabulary

SCALAR_FIELDS = ("name", "email", "phone", "city", "education_level", "years_experience")


@dataclass
class FieldScore:
    predicted: int = 0
    labelled: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled if self.labelled else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class ExtractionReport:
    fields: dict[str, FieldScore] = field(default_factory=lambda: defaultdict(FieldScore))
    files: int = 0
    errors: list[str] = field(default_factory=list)


def _phone(value: Any) -> str:
    digits = re.sub(r"\D", "", str(value))
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def _same(name: str, predicted: Any, expected: Any) -> bool:
    if name == "phone":
        return _phone(predicted) == _phone(expected)
    if name == "years_experience":
        return abs(float(predicted) - float(expected)) <= 0.5
    if name == "email":
        return str(predicted).lower() == str(expected).lower()
    return bool(predicted == expected)


def evaluate_extraction(corpus: list[LabelledResume] | None = None) -> ExtractionReport:
    corpus = corpus or build_corpus(40)
    vocabulary = skill_vocabulary()
    report = ExtractionReport()
    for resume in corpus:
        report.files += 1
        text = read_document(resume.filename, resume.content).text
        found = {k: v.value for k, v in extract_from_resume(text, today=AS_OF).fields.items()}
        for name in SCALAR_FIELDS:
            expected = resume.labels[name]
            predicted = found.get(name)
            score = report.fields[name]
            score.labelled += expected is not None
            score.predicted += predicted is not None
            if predicted is not None and expected is not None and _same(name, predicted, expected):
                score.correct += 1
            elif predicted is not None or expected is not None:
                report.errors.append(
                    f"{resume.filename} {name}: expected {expected!r}, got {predicted!r}"
                )
        predicted_skills = set(vocabulary.canonical_ids(list(found.get("skills") or [])))  # type: ignore[call-overload]
        expected_skills = resume.labels["skills"]
        skills = report.fields["skills"]
        skills.predicted += len(predicted_skills)
        skills.labelled += len(expected_skills)
        skills.correct += len(predicted_skills & expected_skills)
        if predicted_skills != expected_skills:
            report.errors.append(
                f"{resume.filename} skills: missed {sorted(expected_skills - predicted_skills)}, "
                f"extra {sorted(predicted_skills - expected_skills)}"
            )
    return report


def render_extraction(report: ExtractionReport) -> list[str]:
    lines = [
        f"Résumé extraction on {report.files} generated files (bench/resume_corpus.py; half zh, half en; "
        "PDF and DOCX; one- and two-column layouts):",
        "",
        "| field | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    for name in (*SCALAR_FIELDS, "skills"):
        s = report.fields[name]
        lines.append(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |")
    return lines
