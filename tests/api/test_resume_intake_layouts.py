"""Résumés in the layouts recruiters receive, uploaded through the files API: a Chinese Word
table template and an English PDF with month names become profiles with the right fields,
experience entries, desired pay range and spans that point into the stored text."""

from __future__ import annotations

import io

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio


def word_table_resume() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("个 人 简 历")
    rows = [
        ["姓名", "欧阳明", "性别", "男"],
        ["联系电话", "138-2345-6789", "电子邮箱", "ouyangming@example.com"],
        ["学历", "本科", "现居住地", "深圳市南山区"],
        ["求职意向", "运维工程师", "期望薪资", "25-35K·14薪"],
    ]
    table = document.add_table(rows=len(rows), cols=4)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    document.add_paragraph("工作经历")
    jobs = document.add_table(rows=2, cols=3)
    for r, row in enumerate(
        [
            ["2016/07—2020/03", "深圳市迅雷网络技术有限公司", "运维工程师"],
            ["2020/04—今", "华为技术有限公司", "高级运维工程师"],
        ]
    ):
        for c, cell in enumerate(row):
            jobs.cell(r, c).text = cell
    document.add_paragraph("教育经历")
    school = document.add_table(rows=1, cols=4)
    for c, cell in enumerate(["2012/09—2016/06", "深圳大学", "网络工程", "本科"]):
        school.cell(0, c).text = cell
    document.add_paragraph("专业技能：Linux、Terraform、Ansible、Prometheus、Grafana")
    document.add_paragraph("语言：粤语、英语CET-6")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def english_pdf_resume() -> bytes:
    from reportlab.pdfgen import canvas

    lines = [
        "PRIYA NAIR",
        "Registered Nurse",
        "priya.nair@example.com | (+86) 177-2233-4455 | Shanghai",
        "Work Experience",
        "Registered Nurse, Shanghai United Family Hospital, Jul 2019 - Present",
        "Staff Nurse, Apollo Hospitals, Jun 2015 - Jun 2019",
        "Education",
        "Bachelor of Science in Nursing, Manipal University, 2011 - 2015",
        "Skills: Critical Care, BLS, ACLS",
        "Languages: English, Hindi",
        "Expected salary: 20k-26k RMB/month, 13 months",
    ]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for i, line in enumerate(lines):
        pdf.drawString(50, 800 - 18 * i, line)
    pdf.save()
    return buffer.getvalue()


async def upload(api: Api, name: str, content: bytes) -> dict:
    response = await api.client.post(
        "/v1/candidates/files", files=[("files", (name, content))], headers=api.auth("acme")
    )
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "created", result
    profile = (await api.get(f"/v1/candidates/{result['id']}", "acme")).json()
    return dict(profile)


def spanned(profile: dict, name: str) -> str:
    start, end = profile["extraction"][name]["span"]
    return str(profile["resume_text"][start:end])


async def test_word_table_resume_becomes_a_full_profile(api: Api) -> None:
    profile = await upload(api, "欧阳明.docx", word_table_resume())
    assert profile["name"] == "欧阳明"
    assert profile["phone"] == "13823456789"
    assert profile["city"] == "深圳"
    assert profile["experience"] == [
        {"title": "运维工程师", "company": "深圳市迅雷网络技术有限公司", "start": "2016-07",
         "end": "2020-03"},
        {"title": "高级运维工程师", "company": "华为技术有限公司", "start": "2020-04",
         "end": "present"},
    ]  # fmt: skip
    # Work from 2016-07 to the present; the school years 2012–2016 are not counted.
    assert profile["years_experience"] >= 10.0
    assert profile["years_experience"] < 14.0
    assert {"Terraform", "Ansible", "Prometheus", "Grafana"} <= set(profile["skills"])
    assert "粤语" not in profile["skills"] and "Cantonese" not in profile["skills"]
    assert profile["languages"] == ["粤语", "英语"]
    assert (profile["desired_salary_min"], profile["desired_salary_max"]) == (25000, 35000)
    assert profile["desired_salary_months"] == 14
    assert profile["education"]["level"] == "bachelor"
    assert profile["education"]["school"] == "深圳大学"
    assert spanned(profile, "name") == "欧阳明"
    assert spanned(profile, "phone") == "138-2345-6789"
    assert spanned(profile, "desired_salary_max") == "25-35K·14薪"
    assert "华为技术有限公司" in spanned(profile, "experience")
    assert "深圳大学" in spanned(profile, "school")
    assert "2016/07—2020/03" in spanned(profile, "years_experience")


async def test_english_pdf_with_month_names_becomes_a_full_profile(api: Api) -> None:
    profile = await upload(api, "priya.pdf", english_pdf_resume())
    assert profile["name"] == "Priya Nair"
    assert profile["phone"] == "17722334455"
    assert profile["city"] == "上海"
    assert [(e["title"], e["company"], e["start"], e["end"]) for e in profile["experience"]] == [
        ("Registered Nurse", "Shanghai United Family Hospital", "2019-07", "present"),
        ("Staff Nurse", "Apollo Hospitals", "2015-06", "2019-06"),
    ]
    assert profile["years_experience"] >= 11.0  # from 2015-06, the degree not counted
    assert profile["years_experience"] < 15.0
    assert {"Critical Care", "BLS", "ACLS"} <= set(profile["skills"])
    assert profile["languages"] == ["英语", "印地语"]
    assert (profile["desired_salary_min"], profile["desired_salary_max"]) == (20000, 26000)
    assert profile["desired_salary_months"] == 13
    assert spanned(profile, "name") == "PRIYA NAIR"
    assert spanned(profile, "email") == "priya.nair@example.com"
    assert "Manipal University" in spanned(profile, "school")
    for name, found in profile["extraction"].items():
        start, end = found["span"]
        assert 0 <= start < end <= len(profile["resume_text"]), name
        assert 0 < found["confidence"] <= 1, name


async def test_desired_pay_range_is_stored_and_a_reversed_one_refused(api: Api) -> None:
    created = await api.post(
        "/v1/candidates",
        "acme",
        {"name": "Li Na", "desired_salary_min": 20000, "desired_salary_max": 30000,
         "desired_salary_months": 13},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["desired_salary_min"], body["desired_salary_max"]) == (20000, 30000)
    assert body["desired_salary_months"] == 13
    response = await api.post(
        "/v1/candidates",
        "acme",
        {"name": "Li Na", "desired_salary_min": 30000, "desired_salary_max": 20000},
    )
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["error"]["details"]]
    assert any("desired_salary_max" in f for f in fields)
    assert (await api.get("/v1/candidates", "acme")).json()["total"] == 1
