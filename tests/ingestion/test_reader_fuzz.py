"""Fuzzing of the file readers and the bulk parsers (hypothesis): valid small samples of
every supported type, mutated (bytes flipped, inserted, deleted, spliced, cut off) or
replaced by hostile fragments. A reader returns a document or raises the project's own
per-file error; a bulk file is refused as a whole with ``InvalidInput`` naming ``file``, or
yields records and per-line errors, and never raises anything else."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.resume_corpus import build_corpus
from core.domain import EntityKind
from core.errors import InvalidInput
from ingestion.bulk import _validated_fields, count_records, detect_format, iter_records
from ingestion.readers import FileRejected, ReadDocument, ReaderLimits, read_document

# Tight limits: a mutated file that makes a parser slow is refused within seconds.
LIMITS = ReaderLimits(max_parse_cpu_seconds=2.0, max_parse_wall_seconds=4.0)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CORPUS = build_corpus(8)
SAMPLES = {
    "resume.pdf": next(r.content for r in CORPUS if r.filename.endswith(".pdf")),
    "resume.docx": next(r.content for r in CORPUS if r.filename.endswith(".docx")),
    "resume.html": (
        "<!doctype html><html><head><style>p{}</style></head><body><h1>张伟</h1>"
        "<p>Python 后端工程师 &amp; 深圳</p><table><tr><td>邮箱</td><td>zw@example.com</td>"
        "</tr></table><script>alert(1)</script></body></html>"
    ).encode(),
    "resume.txt": "张伟\n后端工程师，五年 Python 经验\n深圳 zw@example.com 13800000000\n".encode(),
    "resume.md": "# 张伟\n\n- **Python** 后端工程师，五年经验\n- [主页](https://example.com)\n".encode(),
}
JOBS = [
    {"title": "Python 工程师", "city": "深圳", "required_skills": ["Python"], "salary_min": 20000},
    {"title": "会计", "education": "本科", "posted_at": "2026-11-01T09:00:00+08:00"},
]


def csv_sample() -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["title", "city", "required_skills", "education"])
    writer.writeheader()
    writer.writerow({"title": "Python 工程师", "city": "深圳", "required_skills": "Python|Go",
                     "education": '{"level": "bachelor"}'})  # fmt: skip
    writer.writerow({"title": "会计", "city": "广州", "required_skills": "", "education": "本科"})
    return out.getvalue().encode()


def zip_sample() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", SAMPLES["resume.txt"])
        archive.writestr("b.html", SAMPLES["resume.html"])
        archive.writestr("dir/c.md", SAMPLES["resume.md"])
    return buffer.getvalue()


BULK_SAMPLES = {
    "jobs.jsonl": "\n".join(json.dumps(j, ensure_ascii=False) for j in JOBS).encode(),
    "jobs.csv": csv_sample(),
    "resumes.zip": zip_sample(),
}
HOSTILE = [
    b"\x00", b"\xff\xfe", b"\xe2\x80\xa8", b"[" * 5000, b"{" * 5000, b"9" * 5000, b'"\\ud800"',
    b"\r", b"\n" * 50, b'"', b",", b"%PDF-", b"PK\x03\x04", b"endstream", b"obj", b"<<", b">>",
    b"/FlateDecode", b"/Length 999999999", b"stream\n", b"<w:t>", b"</w:p>", b"&#0;", b"<!--",
    b"<script>", b"](", b"![", b"\x1b[31m", "非法".encode("gb18030"),
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, sample: bytes) -> bytes:
    """``sample`` with a few random edits."""
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["flip", "insert", "hostile", "delete", "cut", "splice"]))
        at = draw(st.integers(0, len(data)))
        if operation == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif operation == "hostile":
            data[at:at] = draw(st.sampled_from(HOSTILE))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif operation == "cut":
            del data[at:]
        elif operation == "splice" and data:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 512))]
    return bytes(data)


@st.composite
def docx_with_mutated_xml(draw: st.DrawFn) -> bytes:
    """The sample DOCX, re-zipped with its document.xml mutated (the zip itself is valid, so
    the XML and python-docx are what is fuzzed)."""
    source = zipfile.ZipFile(io.BytesIO(SAMPLES["resume.docx"]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "word/document.xml":
                content = draw(mutated(content))
            archive.writestr(info.filename, content)
    return buffer.getvalue()


def files() -> st.SearchStrategy[tuple[str, bytes]]:
    per_type = [
        st.tuples(st.just(name), st.one_of(mutated(sample), st.binary(max_size=2048)))
        for name, sample in SAMPLES.items()
    ]
    return st.one_of(*per_type, st.tuples(st.just("resume.docx"), docx_with_mutated_xml()))


def assert_read_or_rejected(name: str, content: bytes) -> None:
    try:
        document = read_document(name, content, LIMITS)
    except FileRejected as exc:
        assert exc.reason and exc.message
        assert exc.field == "files"
        return
    assert isinstance(document, ReadDocument)
    assert document.text.strip()
    assert not any(ord(c) < 32 and c not in "\t\n" for c in document.text)


@FUZZ
@given(files())
def test_readers_return_a_document_or_a_per_file_error(file: tuple[str, bytes]) -> None:
    assert_read_or_rejected(*file)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_the_unmutated_samples_read(name: str) -> None:
    assert read_document(name, SAMPLES[name], LIMITS).text


def jsonl_lines() -> st.SearchStrategy[bytes]:
    line = st.one_of(
        st.sampled_from([json.dumps(j, ensure_ascii=False) for j in JOBS]),
        st.text(max_size=200),
        st.sampled_from([h.decode("latin-1") for h in HOSTILE]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=12), inner, max_size=4)
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps(v)),
        st.dictionaries(
            st.sampled_from(["title", "posted_at", "required_skills", "salary_min", "city", "x"]),
            st.text(max_size=30) | st.integers() | st.lists(st.text(max_size=10), max_size=3),
        ).map(lambda v: json.dumps(v)),
    )
    return st.lists(line, max_size=8).map(
        lambda lines: "\n".join(lines).encode("utf-8", errors="surrogatepass")
    )


def bulk_files() -> st.SearchStrategy[tuple[str, bytes]]:
    mutations = [st.tuples(st.just(name), mutated(sample)) for name, sample in BULK_SAMPLES.items()]
    return st.one_of(
        *mutations,
        st.tuples(st.just("jobs.jsonl"), jsonl_lines()),
        st.tuples(st.sampled_from(list(BULK_SAMPLES)), st.binary(max_size=2048)),
    )


def assert_records_or_errors(name: str, content: bytes) -> None:
    try:
        fmt = detect_format(name, content)
        records = list(iter_records(fmt, content, LIMITS))
    except InvalidInput as exc:
        assert exc.field == "file"
        return
    assert count_records(fmt, content, LIMITS) == len(records)
    lines = [r.line for r in records]
    assert lines == sorted(lines)
    for record in records:
        # A record holds fields, a document, or an error (a zip member's error names its file).
        assert record.error is not None or (record.fields is None) != (record.document is None)
        assert record.error is None or (record.fields is None and record.error.strip())
        if record.fields is not None:
            # The schema turns whatever the line held into fields or a per-line error.
            for entity in EntityKind:
                try:
                    valid: Any = _validated_fields(entity, record)
                except InvalidInput as exc:
                    assert exc.message
                else:
                    assert valid["external_id"]
        if record.document is not None and record.error is None:
            assert_read_or_rejected(*record.document)


@FUZZ
@given(bulk_files())
def test_bulk_files_yield_records_or_line_errors(file: tuple[str, bytes]) -> None:
    assert_records_or_errors(*file)


@pytest.mark.parametrize("name", list(BULK_SAMPLES))
def test_the_unmutated_bulk_samples_have_no_errors(name: str) -> None:
    fmt = detect_format(name, BULK_SAMPLES[name])
    records = list(iter_records(fmt, BULK_SAMPLES[name], LIMITS))
    assert records and all(r.error is None for r in records)
