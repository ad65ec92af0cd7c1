"""File intake over HTTP: résumés and postings as PDF, DOCX, HTML, TXT and Markdown, the
originals kept, and every kind of bad file refused per file without losing the good ones."""

from __future__ import annotations

import io
import zipfile

import pytest

from bench.resume_corpus import build_corpus
from tests.conftest import Api

pytestmark = pytest.mark.anyio

CORPUS = build_corpus(8)


async def upload(
    api: Api, path: str, files: list[tuple[str, bytes]], tenant: str = "acme"
) -> list[dict]:
    response = await api.client.post(
        path,
        files=[("files", (name, content)) for name, content in files],
        headers=api.auth(tenant),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def test_pdf_and_docx_resumes_become_profiles_with_originals_kept(api: Api) -> None:
    results = await upload(api, "/v1/candidates/files", [(r.filename, r.content) for r in CORPUS])
    assert [r["status"] for r in results] == ["created"] * len(CORPUS)
    for resume, result in zip(CORPUS, results, strict=True):
        profile = (await api.get(f"/v1/candidates/{result['id']}", "acme")).json()
        assert profile["email"] == resume.labels["email"]
        assert profile["name"] == resume.labels["name"]
        assert profile["city"] == resume.labels["city"]
        assert profile["resume_text"]
        assert profile["extraction"]["email"]["confidence"] > 0.9
        original = await api.get(f"/v1/candidates/{result['id']}/file", "acme")
        assert original.status_code == 200 and original.content == resume.content
    # Uploading the same file again updates the same profile.
    again = await upload(api, "/v1/candidates/files", [(CORPUS[0].filename, CORPUS[0].content)])
    assert again[0]["status"] == "updated" and again[0]["id"] == results[0]["id"]


async def test_text_html_and_markdown_resumes(api: Api) -> None:
    text = "王芳\n电话：13700001111\n现居地：广州\n工作经验：三年\n熟悉Excel、金蝶".encode()
    html = b"<html><body><h1>Amy Lee</h1><p>amy@example.com</p><script>x=1</script><p>Python, SQL, Spark. 5 years of experience.</p></body></html>"
    markdown = b"# Tom Wu\n\n- **Skills**: React, TypeScript\n- Location: Shenzhen\n"
    results = await upload(
        api, "/v1/candidates/files", [("a.txt", text), ("b.html", html), ("c.md", markdown)]
    )
    assert [r["status"] for r in results] == ["created"] * 3
    html_profile = (await api.get(f"/v1/candidates/{results[1]['id']}", "acme")).json()
    assert html_profile["email"] == "amy@example.com" and "x=1" not in html_profile["resume_text"]
    assert html_profile["years_experience"] == 5
    md_profile = (await api.get(f"/v1/candidates/{results[2]['id']}", "acme")).json()
    assert {"React", "TypeScript"} <= set(md_profile["skills"]) and md_profile["city"] == "深圳"


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 60_000_000)
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(50, 50, 400, 600, fill=1)  # an image-like page with no text layer
    pdf.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    pdf.drawString(50, 800, "Confidential resume of someone with a long enough text layer")
    pdf.save()
    return buffer.getvalue()


async def test_bad_files_get_per_file_errors_and_good_ones_are_kept(api: Api) -> None:
    good = CORPUS[1]
    batch = [
        ("empty.pdf", b""),
        ("scan.pdf", scanned_pdf()),
        ("locked.pdf", encrypted_pdf()),
        ("broken.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 100),
        ("renamed.pdf", b"just some text pretending to be a pdf file, long enough"),
        ("bomb.docx", zip_bomb()),
        ("virus.exe", b"MZ\x90\x00"),
        ("../../etc/passwd.txt", "李雷 Python 深圳 五年经验 lilei@example.com".encode()),
        (good.filename, good.content),
        ("huge.txt", b"a" * 10_000_001),
    ]
    results = await upload(api, "/v1/candidates/files", batch)
    codes = [(r["status"], (r["error"] or {}).get("code")) for r in results]
    assert codes == [
        ("error", "empty"),
        ("error", "no_text"),
        ("error", "encrypted"),
        ("error", "unreadable"),
        ("error", "type_mismatch"),
        ("error", "zip_bomb"),
        ("error", "unsupported_type"),
        ("created", None),
        ("created", None),
        ("error", "too_large"),
    ]
    assert (await api.get("/v1/candidates", "acme")).json()["total"] == 2
    # The traversal name is kept only as harmless metadata.
    original = await api.get(f"/v1/candidates/{results[7]['id']}/file", "acme")
    assert "passwd.txt" in original.headers["content-disposition"]
    assert ".." not in original.headers["content-disposition"]


async def test_posting_files_are_extracted(api: Api) -> None:
    posting = """高级Java开发工程师
公司：深圳市前海科技有限公司
工作地点：深圳市南山区科技园
薪资：20-35K·14薪
任职要求：本科及以上学历，5年以上Java开发经验；熟悉Spring Boot、MySQL；有Kafka经验者优先。
福利：五险一金、双休""".encode()
    results = await upload(api, "/v1/jobs/files", [("job.txt", posting)])
    job = (await api.get(f"/v1/jobs/{results[0]['id']}", "acme")).json()
    assert job["title"] == "高级Java开发工程师"
    assert (job["city"], job["district"]) == ("深圳", "南山")
    assert (job["salary_min"], job["salary_max"], job["salary_months"]) == (20000, 35000, 14)
    assert job["required_skills"] == ["Java", "Spring Boot", "MySQL"]
    assert job["preferred_skills"] == ["Kafka"]
    assert (job["min_years_experience"], job["education"]) == (5, "bachelor")
    assert job["benefits"] == ["五险一金", "双休"]
    assert (await api.get(f"/v1/jobs/{job['id']}/file", "acme")).content == posting


async def test_originals_follow_tenant_rules(api: Api) -> None:
    results = await upload(api, "/v1/candidates/files", [(CORPUS[2].filename, CORPUS[2].content)])
    assert (await api.get(f"/v1/candidates/{results[0]['id']}/file", "globex")).status_code == 404


async def test_too_many_files_in_one_request(api: Api) -> None:
    response = await api.client.post(
        "/v1/candidates/files",
        files=[("files", (f"{n}.txt", b"x" * 30)) for n in range(51)],
        headers=api.auth("acme"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "files"


async def test_salary_conversion_rate_is_a_setting(app_factory, settings) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from tests.conftest import Api as Client

    configured = settings.model_copy(
        update={"uploads": settings.uploads.model_copy(update={"rates_to_cny": {"USD": 7.0}})}
    )
    app = app_factory(settings=configured)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        api = Client(client, configured)
        posting = b"Senior Data Engineer\nLocation: Shenzhen\nSalary: $10,000 - $12,000 per month\nSpark, SQL"
        result = await upload(api, "/v1/jobs/files", [("job.txt", posting)])
        job = (await api.get(f"/v1/jobs/{result[0]['id']}", "acme")).json()
    assert (job["salary_min"], job["salary_max"]) == (70000, 84000)
