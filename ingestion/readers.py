"""Turns uploaded files (PDF, DOCX, HTML, TXT, Markdown) into text, refusing what cannot be
read honestly: a file that yields no text is an error, never an empty or guessed profile.

The type is decided by the file's content (magic bytes), not trusted from its name; a name
whose extension contradicts the content is refused, so a renamed executable or archive never
reaches a parser.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from core.errors import InvalidInput

SUPPORTED_EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
                        ".txt": "text", ".md": "markdown", ".markdown": "markdown"}  # fmt: skip
MIN_TEXT_CHARS = 20  # fewer readable characters than this is "no text" (e.g. a scanned image)


class FileRejected(InvalidInput):
    """A file that cannot become a profile; ``reason`` is a machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="files")
        self.reason = reason


@dataclass(frozen=True)
class ReadDocument:
    kind: str  # pdf, docx, html, text, markdown
    text: str
    content_type: str


@dataclass(frozen=True)
class ReaderLimits:
    max_bytes: int = 10_000_000
    # A DOCX is a zip archive: refuse archives that inflate beyond this (zip bombs).
    max_uncompressed_bytes: int = 50_000_000
    max_compression_ratio: float = 100.0
    max_pdf_pages: int = 30
    # Not a reader limit, but travels with them through intake: salary conversion rates.
    rates_to_cny: dict[str, float] | None = None


def _extension(filename: str) -> str:
    match = re.search(r"(\.[A-Za-z0-9]+)$", filename or "")
    return match.group(1).lower() if match else ""


def sniff(content: bytes) -> str | None:
    """The kind of document the bytes are, by content alone."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"PK\x03\x04"):
        return "zip"
    sample = content[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > 0.02 * len(sample):
        return None  # binary data, whatever its name says
    head = content[:2048].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    try:
        content[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is still text.
        if exc.start < 65536 - 4:
            return None
    return "text"


def read_document(
    filename: str, content: bytes, limits: ReaderLimits | None = None
) -> ReadDocument:
    """The text of an uploaded document, or ``FileRejected`` saying why not."""
    limits = limits or ReaderLimits()
    if not content:
        raise FileRejected("empty", "the file is empty")
    if len(content) > limits.max_bytes:
        raise FileRejected("too_large", f"the file exceeds {limits.max_bytes} bytes")
    kind = SUPPORTED_EXTENSIONS.get(_extension(filename))
    if kind is None:
        raise FileRejected(
            "unsupported_type",
            f"unsupported file type {_extension(filename) or '(none)'}; use PDF, DOCX, HTML, TXT or Markdown",
        )
    sniffed = sniff(content)
    expected = {"pdf": "pdf", "docx": "zip", "html": "html", "text": "text", "markdown": "text"}[
        kind
    ]
    if kind in ("text", "markdown") and sniffed == "html":
        sniffed = "text"  # a text file may well contain markup
    if kind == "html" and sniffed == "text":
        sniffed = "html"  # an HTML fragment without <html>
    if sniffed != expected:
        raise FileRejected("type_mismatch", f"the content is not a {kind.upper()} file")
    if kind == "pdf":
        text = _read_pdf(content, limits)
        content_type = "application/pdf"
    elif kind == "docx":
        text = _read_docx(content, limits)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    elif kind == "html":
        text = _read_html(content.decode("utf-8", errors="replace"))
        content_type = "text/html"
    else:
        text = content.decode("utf-8-sig", errors="replace")
        if kind == "markdown":
            text = _strip_markdown(text)
        content_type = "text/markdown" if kind == "markdown" else "text/plain"
    text = _tidy(text)
    if len(re.sub(r"\s", "", text)) < MIN_TEXT_CHARS:
        raise FileRejected(
            "no_text",
            "no text could be extracted (a scanned image or an empty document?); nothing was guessed",
        )
    return ReadDocument(kind=kind, text=text, content_type=content_type)


def _tidy(text: str) -> str:
    text = (
        text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n").replace("\u3000", " ")
    )
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _read_pdf(content: bytes, limits: ReaderLimits) -> str:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    try:
        pages = []
        for page in extract_pages(
            io.BytesIO(content), maxpages=limits.max_pdf_pages, laparams=LAParams()
        ):
            boxes = [
                (element.x0, element.x1, element.y1, element.get_text())
                for element in page
                if isinstance(element, LTTextContainer) and element.get_text().strip()
            ]
            pages.append(_reading_order(boxes))
        return "\n".join(pages)
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise FileRejected("encrypted", "the PDF is encrypted") from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise FileRejected(
            "unreadable", f"the PDF could not be read: {type(exc).__name__}"
        ) from exc
    except Exception as exc:  # pdfminer raises many private types for broken files
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise FileRejected("encrypted", "the PDF is encrypted") from exc
        raise FileRejected(
            "unreadable", f"the PDF could not be read: {type(exc).__name__}"
        ) from exc


def _reading_order(boxes: list[tuple[float, float, float, str]]) -> str:
    """Text boxes (x0, x1, top, text) in reading order. A two-column page (a gutter that no
    box crosses, with text on both sides) reads the left column, then the right one; pdfminer
    alone interleaves such columns line by line."""
    if not boxes:
        return ""
    split = _column_gutter(boxes)
    if split is None:
        ordered = sorted(boxes, key=lambda b: (-round(b[2]), b[0]))
    else:
        left = sorted((b for b in boxes if b[1] <= split), key=lambda b: -b[2])
        right = sorted((b for b in boxes if b[1] > split), key=lambda b: -b[2])
        ordered = left + right
    return "\n".join(b[3].strip() for b in ordered)


def _column_gutter(boxes: list[tuple[float, float, float, str]]) -> float | None:
    """An x position no box crosses, with at least a quarter of the text on each side."""
    total = sum(len(b[3]) for b in boxes)
    for candidate in sorted({b[0] for b in boxes}):
        if any(b[0] < candidate < b[1] for b in boxes):
            continue
        left = sum(len(b[3]) for b in boxes if b[1] <= candidate)
        if 0.25 * total <= left <= 0.75 * total:
            return candidate
    return None


def _check_zip(content: bytes, limits: ReaderLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise FileRejected("unreadable", "the DOCX file is corrupted") from exc
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    if total > limits.max_uncompressed_bytes or total / compressed > limits.max_compression_ratio:
        raise FileRejected("zip_bomb", "the archive inflates far beyond its size; refused")
    if any(i.flag_bits & 0x1 for i in infos):
        raise FileRejected("encrypted", "the DOCX file is encrypted")
    if "word/document.xml" not in archive.namelist():
        raise FileRejected("type_mismatch", "the archive is not a DOCX document")
    return archive


def _read_docx(content: bytes, limits: ReaderLimits) -> str:
    import docx

    _check_zip(content, limits)
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx wraps lxml and zip errors in several types
        raise FileRejected(
            "unreadable", f"the DOCX file could not be read: {type(exc).__name__}"
        ) from exc
    lines = [p.text for p in document.paragraphs]
    # Tables hold two-column résumés and contact blocks: read them cell by cell, row order.
    for table in document.tables:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat
                    continue
                seen.add(id(cell._tc))
                lines.append(cell.text)
    return "\n".join(lines)


class _TextExtractor(HTMLParser):
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "table",
        "ul",
        "ol",
    }
    _SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK or tag in {"td", "th"}:
            self.parts.append("\n" if tag in self._BLOCK else " ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _read_html(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _strip_markdown(text: str) -> str:
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)", "", text)
    return re.sub(r"^\s*[-*+]\s+", "- ", text, flags=re.MULTILINE)
