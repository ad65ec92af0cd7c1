"""A labelled corpus of résumé files (PDF and DOCX, Chinese and English, one- and two-column
layouts) rendered from generated candidates, for extraction tests and the ``eval`` command.
Labels are the structured fields the files were rendered from."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from ingestion.sample_data import BASE_DATE, generate_candidates
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary

AS_OF: date = BASE_DATE.date()  # "present" in the corpus means this date
LAYOUTS = ("pdf-single", "pdf-two-column", "docx-single", "docx-two-column")
LEVEL_NAMES = {
    "zh": {"none": "", "high_school": "高中", "associate": "大专", "bachelor": "本科", "master": "硕士", "doctorate": "博士"},
    "en": {"none": "", "high_school": "High School Diploma", "associate": "Associate Degree",
           "bachelor": "Bachelor of Science", "master": "Master of Science", "doctorate": "PhD"},
}  # fmt: skip


@dataclass(frozen=True)
class LabelledResume:
    filename: str
    content: bytes
    language: str
    layout: str
    labels: dict[str, Any]  # name, email, phone, city, education_level, years_experience, skills


def _sections(fields: dict[str, Any], language: str) -> tuple[list[str], list[str]]:
    """(sidebar lines, main lines) of a résumé in ``language``."""
    city = fields["city"]
    level = LEVEL_NAMES[language][fields["education"]["level"]]
    experience = fields["experience"]
    if language == "zh":
        side = [
            fields["name"],
            f"电话：{fields['phone']}",
            f"邮箱：{fields['email']}",
            f"现居地：{city}",
            "专业技能",
            "、".join(fields["skills"]),
            "教育背景",
            f"{fields['education']['school']} {level}".strip(),
        ]
        main = [f"求职意向：{fields['desired_titles'][0]}", "工作经历"]
        for e in experience:
            end = "至今" if e["end"] == "present" else e["end"].replace("-", ".")
            main += [
                f"{e['start'].replace('-', '.')} - {end}  {e['company']}  {e['title']}",
                e["description"],
            ]
        if not experience:
            main.append("应届毕业生，无全职工作经历")
    else:
        pinyin = region_directory().city(city)
        side = [
            fields["name"],
            f"Phone: {fields['phone']}",
            f"Email: {fields['email']}",
            f"Location: {pinyin.pinyin if pinyin else city}",
            "SKILLS",
            ", ".join(fields["skills"]),
            "EDUCATION",
            f"{level}, {fields['education']['school']}".strip(", "),
        ]
        main = [f"Objective: {fields['desired_titles'][0]}", "EXPERIENCE"]
        for e in experience:
            end = "Present" if e["end"] == "present" else e["end"]
            main += [f"{e['start']} - {end}  {e['title']}, {e['company']}", e["description"]]
        if not experience:
            main.append("Recent graduate, no full-time experience yet")
    return side, main


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    # A CID font built into every PDF reader: no font file is shipped or downloaded.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for char in text:
        current += char
        if len(current.encode("gbk", errors="replace")) >= width:
            lines.append(current)
            current = ""
    return [*lines, current] if current else lines


def render_pdf(side: list[str], main: list[str], *, two_columns: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont(_font(), 10)
    columns = [(40, side, 36), (250, main, 60)] if two_columns else [(50, side + main, 96)]
    for x, lines, width in columns:
        y = 800
        for line in lines:
            for piece in _wrap(line, width):
                pdf.drawString(x, y, piece)
                y -= 16
            y -= 4
    pdf.save()
    return buffer.getvalue()


def render_docx(side: list[str], main: list[str], *, two_columns: bool) -> bytes:
    import docx

    document = docx.Document()
    if two_columns:
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "\n".join(side)
        table.cell(0, 1).text = "\n".join(main)
    else:
        for line in side + main:
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_corpus(count: int = 40, *, seed: int = 31) -> list[LabelledResume]:
    """``count`` résumés, alternating Chinese and English, cycling through the layouts."""
    vocabulary = skill_vocabulary()
    corpus = []
    people = [r for r in generate_candidates(count * 3, seed=seed) if "resume_text" not in r.fields]
    zh = [r for r in people if r.language == "zh"]
    en = [r for r in people if r.language == "en"]
    for i in range(count):
        record = (zh if i % 2 == 0 else en)[i // 2]
        fields, language = record.fields, record.language
        layout = LAYOUTS[(i // 2) % len(LAYOUTS)]
        side, main = _sections(fields, language)
        two_columns = layout.endswith("two-column")
        content = (
            render_pdf(side, main, two_columns=two_columns)
            if layout.startswith("pdf")
            else render_docx(side, main, two_columns=two_columns)
        )
        extension = "pdf" if layout.startswith("pdf") else "docx"
        corpus.append(
            LabelledResume(
                filename=f"resume-{i:02d}-{language}-{layout}.{extension}",
                content=content,
                language=language,
                layout=layout,
                labels={
                    "name": fields["name"],
                    "email": fields["email"],
                    "phone": fields["phone"],
                    "city": fields["city"],
                    "education_level": fields["education"]["level"]
                    if fields["education"]["level"] != "none"
                    else None,
                    "years_experience": fields["years_experience"],
                    "skills": set(vocabulary.canonical_ids(fields["skills"])),
                },
            )
        )
    return corpus
