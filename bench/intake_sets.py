"""The hand-made résumé set of ``bench/data/intake_resumes/``: 40 résumés in 8 layouts (Word
table templates, plain-text CVs, job-board exports, PDFs with month names, single- and
two-column PDFs, bilingual CVs, English Word CVs), written by hand in ``src/`` and labelled
field by field in ``labels.json``; ``files/`` holds the PDF, DOCX and TXT files built from
``src/`` (``python -m bench.intake_sets build``), which is what the evaluation reads.

Source markup: the first line is ``# layout: docx-table | docx | txt | pdf | pdf-2col``;
lines written ``| a | b |`` are table rows (DOCX tables; cells on one line elsewhere); in
``pdf-2col`` the line ``>>>`` separates the left column from the right one.

The split into a development half (for tuning) and a reporting half (quoted, never tuned
on) is a hash of each résumé's id, so it cannot drift with the contents or the order.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "intake_resumes"
LATE = DATA / "late"
FRESH = DATA / "fresh"
AS_OF = date(2026, 12, 1)  # "present" in the labels
_EXTENSIONS = {"docx-table": "docx", "docx": "docx", "txt": "txt", "pdf": "pdf", "pdf-2col": "pdf"}


@dataclass(frozen=True)
class HandMadeResume:
    id: str
    layout: str
    filename: str
    content: bytes
    labels: dict[str, Any]

    @property
    def half(self) -> str:
        return split_half(self.id)


def split_half(resume_id: str) -> str:
    """``development`` or ``reporting``, from a hash of the id alone."""
    # Salt 5 was the first to give 20/20 with every layout in both halves; it was chosen
    # before any extraction was run on the set and must never change.
    digest = hashlib.sha256(f"intake-split-5:{resume_id}".encode()).digest()
    return "development" if digest[0] % 2 == 0 else "reporting"


def _source(path: Path) -> tuple[str, list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith("# layout:"):
        raise ValueError(f"{path.name}: the first line must be '# layout: ...'")
    return lines[0].split(":", 1)[1].strip(), lines[1:]


def load_set(half: str | None = None) -> list[HandMadeResume]:
    """The labelled résumés (of one half, or all), in id order. ``half="late"`` and
    ``half="fresh"`` are the separate sets in ``late/`` and ``fresh/``, written after the
    extraction rules (see ``bench/data/intake_resumes/README.md``)."""
    folder = {"late": LATE, "fresh": FRESH}.get(half or "", DATA)
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    out = []
    for path in sorted((folder / "src").glob("*.txt")):
        layout, _ = _source(path)
        filename = f"{path.stem}.{_EXTENSIONS[layout]}"
        resume = HandMadeResume(
            id=path.stem,
            layout=layout,
            filename=filename,
            content=(folder / "files" / filename).read_bytes(),
            labels=labels[path.stem],
        )
        if half in (None, "late", "fresh") or resume.half == half:
            out.append(resume)
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render(layout: str, lines: list[str]) -> bytes:
    """The file a layout's source stands for."""
    if layout == "txt":
        return ("\n".join(lines) + "\n").encode("utf-8")
    if layout in ("docx", "docx-table"):
        return _render_docx(lines)
    flat = ["    ".join(_cells(line)) if line.startswith("|") else line for line in lines]
    if layout == "pdf-2col":
        cut = flat.index(">>>")
        # The narrow left column wraps its long lines, as a word processor would.
        left = [piece for line in flat[:cut] for piece in _wrap(line, 30)]
        return _render_pdf([left, flat[cut + 1 :]])
    return _render_pdf([flat])


def _wrap(line: str, width: int) -> list[str]:
    pieces: list[str] = []
    for item in re.split(r"(?<=[,，、])\s*", line):
        if pieces and len(pieces[-1]) + len(item) <= width:
            pieces[-1] += item if pieces[-1].endswith(("、", "，")) else " " + item
        else:
            pieces.append(item)
    return pieces


def _render_docx(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if not rows:
            return
        width = max(len(r) for r in rows)
        table = document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                table.cell(r, c).text = text
            if len(cells) < width:  # a short row spans the rest, as templates merge cells
                table.cell(r, len(cells) - 1).merge(table.cell(r, width - 1))
                table.cell(r, len(cells) - 1).text = cells[-1]
        rows.clear()

    for line in lines:
        if line.startswith("|"):
            rows.append(_cells(line))
            continue
        flush()
        if line.strip():
            document.add_paragraph(line)
    flush()
    stamp = datetime(2026, 12, 1, tzinfo=UTC)  # fixed, so a rebuild changes no byte of meaning
    document.core_properties.created = document.core_properties.modified = stamp
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _render_pdf(columns: list[list[str]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setFont("STSong-Light", 10)
    positions = [50] if len(columns) == 1 else [40, 230]
    for x, lines in zip(positions, columns, strict=True):
        y = 800
        for line in lines:
            if line.strip():
                pdf.drawString(x, y, line.rstrip())
            y -= 15
    pdf.save()
    return buffer.getvalue()


def build() -> None:
    """Rebuild ``files/`` from ``src/`` (of both sets)."""
    for folder in (DATA, LATE, FRESH):
        target = folder / "files"
        target.mkdir(exist_ok=True)
        for path in sorted((folder / "src").glob("*.txt")):
            layout, lines = _source(path)
            (target / f"{path.stem}.{_EXTENSIONS[layout]}").write_bytes(render(layout, lines))


if __name__ == "__main__":
    if sys.argv[1:] == ["build"]:
        build()
