"""Hostile inputs that used to cost the server its memory, a request held for minutes or a
plain-text 500: decompression bombs and parser-quadratic files in uploads, bulk files that
are not text or whose records break the parsers, and text or dates no database can store.
Each is refused with a JSON error (per file, per line, or a 422 naming the field) and the
good inputs beside it are kept."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import resource
import struct
import time
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.conftest import Api, candidate_payload, job_payload

pytestmark = pytest.mark.anyio

GOOD_RESUME = ("good.txt", "李雷 Python 后端工程师 深圳 五年经验 lilei@example.com".encode())


# -- building hostile files --------------------------------------------------------------------


def pdf(objects: list[bytes]) -> bytes:
    """A well-formed PDF (header, numbered objects, xref table, trailer) of these objects;
    object 1 is the catalog."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< %s/Length %d >>\nstream\n%s\nendstream" % (extra, len(data), data)


def one_page_pdf(content_stream: bytes, font: bytes = b"", *more: bytes) -> bytes:
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        content_stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica " + font + b">>",
        *more,
    ])  # fmt: skip


def pdf_bomb(inflated_bytes: int) -> bytes:
    """A valid one-page PDF (a line of text) whose FlateDecode content stream inflates to
    ``inflated_bytes`` of spaces: about 1 KB on the wire per MB inflated."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"BT /F1 12 Tf 72 720 Td (Zhang Wei Python engineer) Tj ET")]
    chunk = b" " * 1_000_000
    for _ in range(inflated_bytes // len(chunk)):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    return one_page_pdf(stream(b"".join(parts), b"/Filter /FlateDecode "))


def pdf_with_text_codes(codes: bytes) -> bytes:
    """A PDF whose font maps byte 01 to U+0000 and 02 to U+0007 (its ToUnicode CMap), so
    extracted text holds those control characters wherever ``codes`` has 01/02."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        b"/CMapName /Test-UCS def /CMapType 2 def\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"2 beginbfchar <01> <0000> <02> <0007> endbfchar\n"
        b"1 beginbfrange <20> <7E> <0020> endbfrange\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    content = b"BT /F1 12 Tf 72 720 Td (" + codes + b") Tj ET"
    return one_page_pdf(stream(content), b"/ToUnicode 6 0 R ", stream(cmap))


def zip_of(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def central_entry(archive: bytes, name: str) -> int:
    """Offset of ``name``'s entry in the zip's central directory."""
    entry = archive.index(b"PK\x01\x02")
    while archive[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = archive.index(b"PK\x01\x02", entry + 4)
    return entry


def with_declared_size(archive: bytes, name: str, size: int) -> bytes:
    """The zip with ``name``'s uncompressed size in the central directory replaced (a header
    that lies: the data inflates to more than it says)."""
    entry = central_entry(archive, name)
    return archive[: entry + 24] + struct.pack("<I", size) + archive[entry + 28 :]


def with_corrupt_data(archive: bytes, name: str) -> bytes:
    """The zip with the middle of ``name``'s deflate data overwritten with garbage."""
    entry = central_entry(archive, name)
    (compressed,) = struct.unpack("<I", archive[entry + 20 : entry + 24])
    (local,) = struct.unpack("<I", archive[entry + 42 : entry + 46])
    name_length, extra_length = struct.unpack("<HH", archive[local + 26 : local + 30])
    start = local + 30 + name_length + extra_length
    middle = start + compressed // 4
    garbage = b"\xff" * (compressed // 2)
    return archive[:middle] + garbage + archive[middle + len(garbage) :]


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


# -- helpers -------------------------------------------------------------------------------------


async def upload(api: Api, path: str, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    response = await api.client.post(
        path, files=[("files", f) for f in files], headers=api.auth("acme")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def bulk(api: Api, path: str, name: str, content: bytes) -> Any:
    return await api.client.post(path, files={"file": (name, content)}, headers=api.auth("acme"))


async def finished_load(api: Api, path: str, name: str, content: bytes) -> dict[str, Any]:
    response = await bulk(api, path, name, content)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    for _ in range(600):
        body = (await api.get(f"/v1/ingest-jobs/{job_id}", "acme")).json()
        if body["status"] == "done":
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"load {job_id} did not finish: {body}")


async def send_json(api: Api, method: str, path: str, body: str) -> Any:
    headers = {**api.auth("acme"), "Content-Type": "application/json"}
    return await api.client.request(method, path, content=body.encode(), headers=headers)


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert {"code", "message", "details"} <= error.keys()
    assert field in [d["field"] for d in error["details"]], error


# -- item 12: uploads bounded in memory and time -------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/candidates/files", "/v1/jobs/files"])
async def test_a_pdf_inflating_to_hundreds_of_megabytes_is_refused_quickly_in_little_memory(
    api: Api, path: str
) -> None:
    bomb = pdf_bomb(400_000_000)
    assert len(bomb) < 1_000_000
    peak_before = peak_rss_bytes()
    started = time.monotonic()
    results = await upload(api, path, [("bomb.pdf", bomb), GOOD_RESUME])
    elapsed = time.monotonic() - started
    assert results[0]["status"] == "error"
    assert results[0]["error"]["code"] == "too_large_uncompressed"
    assert results[1]["status"] == "created"
    assert elapsed < 15
    assert peak_rss_bytes() - peak_before < 200_000_000


async def test_a_pdf_bomb_in_a_zip_load_is_one_failed_record(api: Api) -> None:
    # Stored, not deflated again: the zip itself is a plain one, its PDF is the bomb.
    archive = zip_of([("bomb.pdf", pdf_bomb(300_000_000)), GOOD_RESUME], zipfile.ZIP_STORED)
    peak_before = peak_rss_bytes()
    done = await finished_load(api, "/v1/candidates:bulk", "resumes.zip", archive)
    assert (done["succeeded"], done["failed"]) == (1, 1)
    [error] = done["errors"]
    assert (error["line"], error["file"], error["code"]) == (
        1,
        "bomb.pdf",
        "too_large_uncompressed",
    )
    assert peak_rss_bytes() - peak_before < 200_000_000


async def test_markup_that_makes_a_reader_quadratic_times_out_per_file(api: Api) -> None:
    # Limits as a deployment would tighten them; the defaults allow 20 s of CPU per file.
    runtime = api.runtime
    runtime.limits = dataclasses.replace(
        runtime.limits, max_parse_cpu_seconds=2.0, max_parse_wall_seconds=4.0
    )
    # Unclosed link brackets: the Markdown link pattern rescans the rest of the file from
    # every "[", hours of work for a megabyte.
    slow = b"# Resume of Zhang Wei, Python engineer\n" + b"[" * 1_000_000
    started = time.monotonic()
    results = await upload(api, "/v1/candidates/files", [("slow.md", slow), GOOD_RESUME])
    assert time.monotonic() - started < 15
    assert results[0]["status"] == "error"
    assert results[0]["error"]["code"] == "timeout"
    assert results[1]["status"] == "created"
    # The worker that timed out was replaced: the next file reads normally.
    again = await upload(
        api, "/v1/candidates/files", [("again.txt", b"Han Meimei, Java engineer in Guangzhou")]
    )
    assert again[0]["status"] == "created"


# -- item 13: bulk files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/jobs:bulk", "/v1/candidates:bulk"])
@pytest.mark.parametrize("name", ["records.jsonl", "records.csv"])
async def test_bytes_that_are_neither_utf8_nor_gb18030_are_a_422_naming_file(
    api: Api, path: str, name: str
) -> None:
    content = b'{"title": "Python \xff\xfe\xff engineer"}\n'
    assert_refused(await bulk(api, path, name, content), "file")


async def test_jsonl_lines_that_break_the_json_parser_are_line_errors(api: Api) -> None:
    lines = [
        json.dumps(job_payload(title="Python 工程师", external_id="a"), ensure_ascii=False),
        "[" * 100_000,
        '{"title": "Java", "salary_min": ' + "9" * 5000 + "}",
        json.dumps(job_payload(title="Go 工程师", external_id="b"), ensure_ascii=False),
    ]
    done = await finished_load(api, "/v1/jobs:bulk", "jobs.jsonl", "\n".join(lines).encode())
    assert (done["total"], done["succeeded"], done["failed"]) == (4, 2, 2)
    assert sorted(e["line"] for e in done["errors"]) == [2, 3]
    titles = {j["title"] for j in (await api.get("/v1/jobs", "acme")).json()["items"]}
    assert titles == {"Python 工程师", "Go 工程师"}


@pytest.mark.parametrize("path", ["/v1/jobs:bulk", "/v1/candidates:bulk"])
async def test_a_csv_field_over_the_csv_limit_is_a_line_error(api: Api, path: str) -> None:
    column = "title" if path == "/v1/jobs:bulk" else "name"
    rows = [column, "Python 工程师", "x" * 140_000, "Go 工程师"]
    done = await finished_load(api, path, "records.csv", "\n".join(rows).encode())
    assert (done["succeeded"], done["failed"]) == (2, 1)
    assert [e["line"] for e in done["errors"]] == [3]


async def test_corrupt_or_lying_zip_members_are_record_errors(api: Api) -> None:
    members = [
        ("a.txt", "张伟 Python 后端工程师 深圳 zhangwei@example.com ".encode() * 40),
        ("b.txt", "王芳 Java 工程师 广州 wangfang@example.com ".encode() * 40),
        ("c.txt", "刘洋 数据分析师 深圳 liuyang@example.com ".encode() * 40),
    ]
    archive = with_corrupt_data(zip_of(members), "a.txt")
    archive = with_declared_size(archive, "b.txt", 100)
    done = await finished_load(api, "/v1/candidates:bulk", "resumes.zip", archive)
    assert (done["total"], done["succeeded"], done["failed"]) == (3, 1, 2)
    assert sorted((e["line"], e["file"]) for e in done["errors"]) == [(1, "a.txt"), (2, "b.txt")]
    [stored] = (await api.get("/v1/candidates", "acme")).json()["items"]
    assert "数据分析师" in stored["resume_text"]


async def test_an_unreadable_zip_is_a_422_naming_file(api: Api) -> None:
    archive = zip_of([GOOD_RESUME])
    truncated = archive[: len(archive) - 30]  # the end of the central directory is gone
    assert_refused(await bulk(api, "/v1/candidates:bulk", "resumes.zip", truncated), "file")
    assert_refused(
        await bulk(api, "/v1/candidates:bulk", "resumes.zip", b"PK\x03\x04" + b"\x00" * 100), "file"
    )
    # A name flagged as UTF-8 that is not: zipfile fails while listing the archive.
    entry = central_entry(archive, GOOD_RESUME[0])
    flags = struct.pack("<H", 0x800)
    lying_name = archive[: entry + 8] + flags + archive[entry + 10 : entry + 46] + b"\xff"
    lying_name += archive[entry + 47 :]
    assert_refused(await bulk(api, "/v1/candidates:bulk", "resumes.zip", lying_name), "file")


# -- item 15: text and dates validated at the edge -----------------------------------------------

CONTROL_TEXTS = ["Python\x00工程师", "Python\x07工程师", "Python\x1b[31m"]


POSTING_TEXT_FIELDS = [
    ({"title": "{}"}, "title"),
    ({"description": "{}"}, "description"),
    ({"company": "{}"}, "company"),
    ({"city": "{}"}, "city"),
    ({"required_skills": ["Python", "{}"]}, "required_skills.1"),
    ({"benefits": ["{}"]}, "benefits.0"),
    ({"external_id": "{}"}, "external_id"),
]


@pytest.mark.parametrize("text", CONTROL_TEXTS)
async def test_control_characters_in_posting_text_are_a_422(api: Api, text: str) -> None:
    job = await api.create_job("acme")
    for changes, field in POSTING_TEXT_FIELDS:
        body = json.loads(json.dumps(changes).replace("{}", json.dumps(text)[1:-1]))
        assert_refused(await api.post("/v1/jobs", "acme", job_payload(**body)), field)
        assert_refused(await api.patch(f"/v1/jobs/{job['id']}", "acme", body), field)
    stored = (await api.get(f"/v1/jobs/{job['id']}", "acme")).json()
    assert (stored["title"], stored["description"], stored["company"], stored["required_skills"]) == (
        job["title"], job["description"], job["company"], job["required_skills"])  # fmt: skip
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "张\x00伟"}, "name"),
        ({"summary": "经验\x00丰富"}, "summary"),
        ({"resume_text": "简历\x00"}, "resume_text"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"skills": ["Python\x00"]}, "skills.0"),
        ({"education": {"level": "bachelor", "school": "深圳\x00大学"}}, "education.school"),
        (
            {"experience": [{"title": "工程师", "description": "Python\x00"}]},
            "experience.0.description",
        ),
    ],
)
async def test_control_characters_in_candidate_text_are_a_422(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    # Sent as JSON text with \u escapes, as a client would (httpx cannot encode a surrogate).
    body = json.dumps(candidate_payload(**changes))
    assert_refused(await send_json(api, "POST", "/v1/candidates", body), field)
    candidate = await api.create_candidate("acme")
    path = f"/v1/candidates/{candidate['id']}"
    assert_refused(await send_json(api, "PATCH", path, json.dumps(changes)), field)


async def test_tabs_and_newlines_stay_allowed(api: Api) -> None:
    job = await api.create_job("acme", description="第一行\n第二行\r\n\t缩进")
    assert job["description"] == "第一行\n第二行\r\n\t缩进"


@pytest.mark.parametrize(
    "posted_at",
    [
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
        "9999-12-31T23:59:59",
        "1969-12-31T23:59:59Z",
        "2201-01-01T00:00:00+00:00",
    ],
)
async def test_dates_out_of_range_are_a_422(api: Api, posted_at: str) -> None:
    assert_refused(
        await api.post("/v1/jobs", "acme", job_payload(posted_at=posted_at)), "posted_at"
    )
    job = await api.create_job("acme")
    assert_refused(
        await api.patch(f"/v1/jobs/{job['id']}", "acme", {"posted_at": posted_at}), "posted_at"
    )
    consent = {"purpose": "matching", "granted_at": posted_at, "text_version": "v1"}
    assert_refused(
        await api.post("/v1/candidates", "acme", candidate_payload(consent=consent)),
        "consent.granted_at",
    )


async def test_dates_in_range_are_kept(api: Api) -> None:
    job = await api.create_job("acme", posted_at="2026-11-30T09:00:00+08:00")
    posted = datetime.fromisoformat(job["posted_at"])
    assert posted == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


async def test_control_characters_in_bulk_records_are_line_errors(api: Api) -> None:
    lines = [
        job_payload(title="Python 工程师", external_id="a"),
        job_payload(title="Java\x00工程师", external_id="b"),
        job_payload(title="Go 工程师", external_id="c", posted_at="0001-01-01T00:00:00+05:00"),
        job_payload(title="Rust 工程师", external_id="d"),
    ]
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    done = await finished_load(api, "/v1/jobs:bulk", "jobs.jsonl", content)
    assert (done["succeeded"], done["failed"]) == (2, 2)
    assert sorted((e["line"], e["field"]) for e in done["errors"]) == [
        (2, "title"),
        (3, "posted_at"),
    ]


@pytest.mark.parametrize("path", ["/v1/candidates/files", "/v1/jobs/files"])
async def test_an_upload_whose_text_holds_nul_is_stored_without_it(api: Api, path: str) -> None:
    document = pdf_with_text_codes(b"Zhang Wei \x01 Python engineer \x02 Shenzhen five years")
    [result] = await upload(api, path, [("resume.pdf", document)])
    assert result["status"] == "created", result
    entity = "candidates" if path.startswith("/v1/candidates") else "jobs"
    record = (await api.get(f"/v1/{entity}/{result['id']}", "acme")).json()
    text = record["resume_text"] if entity == "candidates" else record["description"]
    assert "Python engineer" in text
    assert "\x00" not in text and "\x07" not in text


async def test_the_parsing_limits_come_from_the_settings(
    app_factory: Any, settings: Settings
) -> None:
    """``TALENTMATCH_UPLOADS__MAX_TEXT_CHARS`` and friends reach the readers (the server and
    the CLI build them from the settings alike)."""
    small = settings.model_copy(
        update={"uploads": settings.uploads.model_copy(update={"max_text_chars": 200})}
    )
    app = app_factory(settings=small)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, small, app)
            text = ("Python 后端工程师，负责微服务开发。" * 30).encode()
            response = await client.post("/v1/candidates/files", files=[("files", ("cv.txt", text))],
                                         headers=api.auth("acme"))  # fmt: skip
    [result] = response.json()["results"]
    assert result["status"] == "error" and result["error"]["code"] == "too_large_uncompressed"
