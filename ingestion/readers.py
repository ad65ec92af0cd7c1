"""Turns uploaded files (PDF, DOCX, HTML, TXT, Markdown) into text, refusing what cannot be
read honestly: a file that yields no text is an error, never an empty or guessed profile.

The type is decided by the file's content (magic bytes), not trusted from its name; a name
whose extension contradicts the content is refused, so a renamed executable or archive never
reaches a parser.

Parsing runs in a pool of reused worker processes, each bounded in address space, CPU time per
file and wall-clock time per file, so a hostile file (a PDF whose 1 MB stream inflates to
gigabytes, markup that makes a parser go quadratic) costs one worker, never the server's
memory or a request held forever. Inflated PDF streams and extracted text are capped too.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import resource
import signal
import threading
import zipfile
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from multiprocessing.connection import Connection
from typing import Any

from core.errors import InvalidInput
from core.settings import UploadSettings

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
    # Text beyond this many characters is no résumé or posting: refused, never truncated.
    max_text_chars: int = 2_000_000
    # Each file is parsed in a worker process: CPU seconds, wall-clock seconds (the machine
    # may be busy) and memory beyond the worker's own footprint.
    max_parse_cpu_seconds: float = 20.0
    max_parse_wall_seconds: float = 40.0
    max_parse_memory_bytes: int = 768_000_000
    # Not a reader limit, but travels with them through intake: salary conversion rates.
    rates_to_cny: dict[str, float] | None = None

    @classmethod
    def from_settings(cls, uploads: UploadSettings) -> ReaderLimits:
        """The limits the settings configure (the server and the CLI read them alike)."""
        return cls(
            max_bytes=uploads.max_file_bytes, max_uncompressed_bytes=uploads.max_uncompressed_bytes,
            max_pdf_pages=uploads.max_pdf_pages, max_text_chars=uploads.max_text_chars,
            max_parse_cpu_seconds=uploads.max_parse_cpu_seconds,
            max_parse_wall_seconds=uploads.max_parse_wall_seconds,
            max_parse_memory_bytes=uploads.max_parse_memory_bytes,
            rates_to_cny=uploads.rates_to_cny,
        )  # fmt: skip


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
    text = _extract_in_worker(kind, content, limits)
    if len(re.sub(r"\s", "", text)) < MIN_TEXT_CHARS:
        raise FileRejected(
            "no_text",
            "no text could be extracted (a scanned image or an empty document?); nothing was guessed",
        )
    return ReadDocument(kind=kind, text=text, content_type=_CONTENT_TYPES[kind])


_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "text": "text/plain",
    "markdown": "text/markdown",
}


def _extract(kind: str, content: bytes, limits: ReaderLimits) -> str:
    """The tidied text of a document whose kind is already checked (runs in a worker)."""
    if kind == "pdf":
        text = _read_pdf(content, limits)
    elif kind == "docx":
        text = _read_docx(content, limits)
    elif kind == "html":
        text = _read_html(content.decode("utf-8", errors="replace"))
    else:
        text = content.decode("utf-8-sig", errors="replace")
        if kind == "markdown":
            text = _strip_markdown(text)
    if len(text) > limits.max_text_chars:
        raise _text_too_long(limits)
    return _tidy(text)


def _text_too_long(limits: ReaderLimits) -> FileRejected:
    return FileRejected(
        "too_large_uncompressed",
        f"the document holds more than {limits.max_text_chars} characters of text; refused",
    )


# C0 controls other than tab and newline (and lone surrogates) are never text: PostgreSQL
# refuses NUL, and none of them mean anything in a profile.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ud800-\udfff]")


def _tidy(text: str) -> str:
    text = (
        text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n").replace("\u3000", " ")
    )
    text = _CONTROL_CHARACTERS.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _InflatedTooFar(Exception):
    """A PDF's streams inflate beyond the limit (raised inside pdfminer, caught here)."""


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside pdfminer: the same calls, but the bytes
    inflated from all of one document's streams together stop at a budget instead of
    growing with whatever ratio the file claims."""

    error = zlib.error

    def __init__(self, budget: int) -> None:
        self.left = budget

    def _take(self, produced: bytes) -> bytes:
        self.left -= len(produced)
        if self.left < 0:
            raise _InflatedTooFar
        return produced

    def decompress(self, data: bytes) -> bytes:
        inflater = zlib.decompressobj()
        produced = self._take(inflater.decompress(data, max(self.left, 0) + 1))
        if not inflater.eof:
            if inflater.unconsumed_tail:
                raise _InflatedTooFar
            # As zlib.decompress: a truncated stream is an error (pdfminer then salvages it).
            raise zlib.error("incomplete or truncated stream")
        return produced

    def decompressobj(self) -> _BoundedInflater:
        return _BoundedInflater(self)


class _BoundedInflater:
    def __init__(self, owner: _BoundedZlib) -> None:
        self._owner = owner
        self._inflater = zlib.decompressobj()

    def decompress(self, data: bytes) -> bytes:
        produced = self._inflater.decompress(data, max(self._owner.left, 0) + 1)
        if self._inflater.unconsumed_tail:
            raise _InflatedTooFar
        return self._owner._take(produced)


def _read_pdf(content: bytes, limits: ReaderLimits) -> str:
    import pdfminer.pdftypes
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    # Only ever inside a reader worker (one file at a time), so swapping the module is safe.
    pdfminer.pdftypes.zlib = _BoundedZlib(limits.max_uncompressed_bytes)  # type: ignore[assignment]
    try:
        pages = []
        length = 0
        for page in extract_pages(
            io.BytesIO(content), maxpages=limits.max_pdf_pages, laparams=LAParams()
        ):
            boxes = [
                (element.x0, element.x1, element.y1, element.get_text())
                for element in page
                if isinstance(element, LTTextContainer) and element.get_text().strip()
            ]
            pages.append(_reading_order(boxes))
            length += len(pages[-1])
            if length > limits.max_text_chars:
                raise _text_too_long(limits)
        return "\n".join(pages)
    except _InflatedTooFar as exc:
        raise FileRejected(
            "too_large_uncompressed",
            f"the PDF inflates beyond {limits.max_uncompressed_bytes} bytes; refused",
        ) from exc
    except (FileRejected, MemoryError, RecursionError):
        raise
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
    finally:
        pdfminer.pdftypes.zlib = zlib


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
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # python-docx wraps lxml and zip errors in several types
        raise FileRejected(
            "unreadable", f"the DOCX file could not be read: {type(exc).__name__}"
        ) from exc
    return "\n".join(_docx_blocks(document))


def _docx_blocks(document: Any) -> list[str]:
    """Paragraphs and tables in document order: a Word template's sections keep their
    order, with each table where it stands. A table row of one-line cells reads as one line,
    its cells joined by `` | `` (``2017/07—2020/03 | 公司 | 职位``, ``姓名 | 王建国``); a
    row whose cells hold several lines (a two-column layout in a table) reads cell by cell."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(element, document).text)
        elif tag == "tbl":
            for row in Table(element, document).rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # merged cells repeat
                        continue
                    seen.add(id(cell._tc))
                    cells.append(cell.text.strip())
                if any("\n" in c for c in cells):
                    lines += cells
                elif any(cells):
                    lines.append(" | ".join(c for c in cells if c))
    return lines


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


# -- the reader workers -------------------------------------------------------------------------

# A worker parses this many files, then is replaced: a long-lived parser's heap only grows.
_FILES_PER_WORKER = 200
_PRELOAD = ["ingestion.readers", "pdfminer.high_level", "docx"]


def _set_soft_limit(limit: int, value: int) -> None:
    _, hard = resource.getrlimit(limit)
    resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def _worker_main(conn: Connection, memory_bytes: int) -> None:
    """A reader worker: one (kind, limits, content) at a time in, one outcome out."""
    with open("/proc/self/statm") as statm:  # address space now, in pages
        footprint = int(statm.read().split()[0]) * resource.getpagesize()
    _set_soft_limit(resource.RLIMIT_AS, footprint + memory_bytes)
    while True:
        try:
            kind, limits = conn.recv()
            content = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the server is gone
        # The CPU limit counts the process's whole life: give each file its own allowance.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        allowance = math.ceil(usage.ru_utime + usage.ru_stime + limits.max_parse_cpu_seconds)
        _set_soft_limit(resource.RLIMIT_CPU, allowance)
        outcome: tuple[str, ...]
        try:
            outcome = ("ok", _extract(kind, content, limits))
        except FileRejected as exc:
            outcome = ("rejected", exc.reason, exc.message)
        except (MemoryError, RecursionError):
            outcome = ("rejected", "too_complex", "the file needs too much memory to read; refused")
        except Exception as exc:  # a parser bug on a strange file is still that file's problem
            outcome = (
                "rejected",
                "unreadable",
                f"the file could not be read: {type(exc).__name__}",
            )
        del content
        conn.send(outcome)


class _Worker:
    def __init__(self, context: Any, memory_bytes: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, memory_bytes), name="talentmatch-reader", daemon=True
        )
        self.process.start()
        child.close()
        self.memory_bytes = memory_bytes
        self.files = 0

    def extract(self, kind: str, content: bytes, limits: ReaderLimits) -> tuple[str, ...]:
        self.files += 1
        try:
            self.conn.send((kind, limits))
            self.conn.send_bytes(content)
            if not self.conn.poll(limits.max_parse_wall_seconds):
                return ("rejected", "timeout", "reading the file took too long; refused")
            return tuple(self.conn.recv())
        except (EOFError, OSError):
            self.process.join(timeout=5)
            if self.process.exitcode == -signal.SIGXCPU:
                return ("rejected", "timeout", "reading the file took too long; refused")
            return ("rejected", "too_complex", "the file is too complex to read; refused")

    def close(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class _ReaderPool:
    """Reused worker processes (forked from a forkserver that has the parsers imported), at
    most ``size`` busy at once; a worker that timed out, crashed or ran out of memory is
    killed and replaced, never reused."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._context: Any = None

    def _worker(self, memory_bytes: int) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive() and worker.memory_bytes == memory_bytes:
                    return worker
                worker.close()
            if self._context is None:
                self._context = multiprocessing.get_context("forkserver")
                self._context.set_forkserver_preload(_PRELOAD)
        return _Worker(self._context, memory_bytes)

    def extract(self, kind: str, content: bytes, limits: ReaderLimits) -> tuple[str, ...]:
        with self._slots:
            worker = self._worker(limits.max_parse_memory_bytes)
            try:
                outcome = worker.extract(kind, content, limits)
            except BaseException:
                worker.close()
                raise
            healthy = outcome[0] == "ok" or outcome[1] not in {"timeout", "too_complex"}
            if healthy and worker.files < _FILES_PER_WORKER:
                with self._lock:
                    self._idle.append(worker)
            else:
                worker.close()
            return outcome


_POOL = _ReaderPool(size=min(4, os.cpu_count() or 1))


def _extract_in_worker(kind: str, content: bytes, limits: ReaderLimits) -> str:
    outcome = _POOL.extract(kind, content, limits)
    if outcome[0] != "ok":
        raise FileRejected(outcome[1], outcome[2])
    return outcome[1]
