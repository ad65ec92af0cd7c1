"""Résumé extraction on the layouts recruiters receive: each failure issue 15 lists (phones
read as job dates, school years counted as work, table dates, names in capitals, skills
lines read in part, pay ranges cut to their minimum) as a case of its own."""

from __future__ import annotations

import io
from datetime import date

import pytest

from ingestion.readers import read_document
from ingestion.resume_text import extract_from_resume

TODAY = date(2026, 12, 1)


def extracted(text: str) -> dict[str, object]:
    return {k: v.value for k, v in extract_from_resume(text, today=TODAY).fields.items()}


def test_phone_numbers_never_become_job_dates() -> None:
    text = (
        "陈晨\n手机：138-2345-6789\n(+86) 177-2233-4455 | linkedin.com/in/chenchen-2019-2021\n"
        "工作经历\n2019.07-至今 深圳市云帆科技有限公司 软件工程师\n"
    )
    found = extracted(text)
    assert found["phone"] == "13823456789"
    assert found["experience"] == [
        {"title": "软件工程师", "company": "深圳市云帆科技有限公司", "start": "2019-07",
         "end": "present"}
    ]  # fmt: skip
    assert found["years_experience"] == 7.5  # 2019-07 .. 2026-12, not 2345 .. 6789


def test_school_years_are_kept_apart_from_work() -> None:
    text = (
        "工作经历\n2016.07-2019.06 广州银讯软件有限公司 测试工程师\n"
        "2012.09-2016.06 华南理工大学 软件工程 本科\n"  # a school line among the jobs
        "教育经历\n2019.09-2022.06 中山大学 计算机技术 硕士\n"
    )
    found = extracted(text)
    assert found["years_experience"] == 3.0
    assert [e["company"] for e in found["experience"]] == ["广州银讯软件有限公司"]  # type: ignore[attr-defined]
    english = extracted(
        "Experience\nQA Engineer, Agoda — Mar 2017 - Jun 2021\n"
        "Bachelor of Science in Computer Science, Indian Institute of Technology Delhi, 2013 - 2017\n"
    )
    assert english["years_experience"] == 4.3  # the degree's four years are not work
    schools = found["education_entries"]
    assert [(e["school"], e["start"], e["end"]) for e in schools] == [  # type: ignore[attr-defined]
        ("华南理工大学", "2012-09", "2016-06"),
        ("中山大学", "2019-09", "2022-06"),
    ]


def test_word_table_rows_give_entries_and_years() -> None:
    text = (
        "姓名 | 王建国 | 性别 | 男\n工作经历\n"
        "2017/07—2020/03 | 深圳市云帆科技有限公司 | 高级Java工程师\n"
        "2020/04—今 | 深圳前海微众银行 | 技术经理\n"
    )
    found = extracted(text)
    assert found["experience"] == [
        {"title": "高级Java工程师", "company": "深圳市云帆科技有限公司", "start": "2017-07",
         "end": "2020-03"},
        {"title": "技术经理", "company": "深圳前海微众银行", "start": "2020-04", "end": "present"},
    ]  # fmt: skip
    assert found["years_experience"] == 9.5  # 2017-07 .. 2026-12


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("2019.07 - 2021.03", "2019-07", "2021-03"),
        ("2019/07-2021/03", "2019-07", "2021-03"),
        ("2019年7月-2021年3月", "2019-07", "2021-03"),
        ("2019年7月至今", "2019-07", "present"),
        ("Jul 2019 – Mar 2021", "2019-07", "2021-03"),
        ("July 2019 to March 2021", "2019-07", "2021-03"),
        ("07/2019 - 03/2021", "2019-07", "2021-03"),
        ("2019.07-今", "2019-07", "present"),
        ("Sep 2019 - Present", "2019-09", "present"),
        ("04/2020 - now", "2020-04", "present"),
    ],
)
def test_dates_in_every_common_form(written: str, start: str, end: str) -> None:
    found = extracted(f"Experience\nData Analyst, Acme Ltd\n{written}\n")
    assert found["experience"] == [
        {"title": "Data Analyst", "company": "Acme Ltd", "start": start, "end": end}
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("RAJ PATEL\nSenior Site Reliability Engineer\n", "Raj Patel"),
        ("MICHAEL O'BRIEN\nData Scientist\n", "Michael O'Brien"),
        ("个 人 简 历\n姓名 | 王建国 | 性别 | 男\n", "王建国"),
        ("Sarah Johnson — Product Manager\nEmail: s@example.com\n", "Sarah Johnson"),
        ("HANNAH LEE  |  Senior Accountant\n", "Hannah Lee"),
        ("姓名：郑雅文    性别：女    年龄：35\n", "郑雅文"),
        ("Name 姓名: Linda Wu 吴琳\n", "Linda Wu"),
    ],
)
def test_names_in_capitals_in_table_cells_and_beside_a_title(text: str, name: str) -> None:
    found = extract_from_resume(text, today=TODAY).fields["name"]
    assert found.value == name
    assert text[found.start : found.end].casefold() == name.casefold()


def test_skills_lines_keep_tools_outside_the_vocabulary_and_languages_apart() -> None:
    text = (
        "Skills: Kubernetes, Terraform, Ansible, Go, Prometheus, Grafana, Jenkins\n"
        "专业技能：Critical Care、BLS、静脉输液\n语言：粤语、英语CET-6\n"
    )
    fields = extract_from_resume(text, today=TODAY).fields
    skills = set(fields["skills"].value)  # type: ignore[call-overload]
    for tool in ("Terraform", "Ansible", "Prometheus", "Grafana", "Critical Care", "BLS", "Go"):
        assert tool in skills, tool
    assert {"粤语", "Cantonese", "英语CET-6"}.isdisjoint(skills)
    assert set(fields["free_skills"].value) >= {"Terraform", "Ansible", "BLS"}  # type: ignore[call-overload]
    assert fields["languages"].value == ["粤语", "英语"]


@pytest.mark.parametrize(
    ("text", "low", "high", "months"),
    [
        ("期望薪资：2万-3万\n", 20000, 30000, None),
        ("Expected salary: 45k-60k RMB/month, 14 months\n", 45000, 60000, 14),
        ("期望：Android开发工程师 · 深圳 · 20-28K·13薪\n", 20000, 28000, 13),
        ("| 期望薪资 | 8千-1万 |\n", 8000, 10000, None),
        ("期望薪资\n18K-25K\n", 18000, 25000, None),
    ],
)
def test_desired_pay_is_a_range_with_months(
    text: str, low: float, high: float, months: int | None
) -> None:
    found = extracted(text)
    assert (found["desired_salary_min"], found["desired_salary_max"]) == (low, high)
    assert found.get("desired_salary_months") == months


def test_every_field_has_a_real_span_and_a_confidence() -> None:
    text = (
        "RAJ PATEL\nraj.patel@example.com | +86 138 2468 1357 | Shenzhen\n"
        "EXPERIENCE\nSite Reliability Engineer, Agoda\nMar 2017 - Jun 2021\n"
        "EDUCATION\nB.Tech, Indian Institute of Technology Delhi, 2013 - 2017\n"
        "SKILLS\nKubernetes, Terraform\nLanguages: English, Hindi\n"
        "Expected salary: 45k-60k RMB/month\n"
    )
    fields = extract_from_resume(text, today=TODAY).fields
    for name, found in fields.items():
        assert 0 <= found.start < found.end <= len(text), name
        assert 0 < found.confidence <= 1, name
    span = lambda name: text[fields[name].start : fields[name].end]  # noqa: E731
    assert span("email") == "raj.patel@example.com"
    assert span("years_experience") == "Site Reliability Engineer, Agoda\nMar 2017 - Jun 2021"
    assert span("experience") == span("years_experience")
    assert "Indian Institute of Technology" in span("education_entries")
    assert span("skills") == "Kubernetes, Terraform"
    # An explicit list is surer than a mention in prose.
    prose = extract_from_resume("用过 Kubernetes 部署服务", today=TODAY).fields["skills"]
    assert fields["skills"].confidence > prose.confidence


def _docx(blocks: list[str | list[list[str]]]) -> bytes:
    import docx

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        table = document.add_table(rows=len(block), cols=len(block[0]))
        for r, row in enumerate(block):
            for c, cell in enumerate(row):
                table.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_tables_are_read_where_they_stand() -> None:
    content = _docx(
        [
            "个人简历",
            [["姓名", "王建国"], ["电话", "138-2345-6789"]],
            "工作经历",
            [["2017/07—2020/03", "深圳市云帆科技有限公司", "高级Java工程师"]],
            "教育经历",
            [["2013/09—2017/06", "华南理工大学", "计算机科学与技术", "本科"]],
        ]
    )
    text = read_document("cv.docx", content).text
    assert text.splitlines() == [
        "个人简历",
        "姓名 | 王建国",
        "电话 | 138-2345-6789",
        "工作经历",
        "2017/07—2020/03 | 深圳市云帆科技有限公司 | 高级Java工程师",
        "教育经历",
        "2013/09—2017/06 | 华南理工大学 | 计算机科学与技术 | 本科",
    ]
    found = extracted(text)
    assert found["name"] == "王建国"
    assert found["years_experience"] == 2.8  # the school period is not work


def test_blind_screening_hides_a_name_written_in_capitals() -> None:
    from representation.fairness import blind_view

    person = {"name": None, "resume_text": "RAJ PATEL | Site Reliability Engineer\nGo, Python"}
    shown = str(blind_view(person))
    assert "RAJ PATEL" not in shown and "Raj Patel" not in shown
    assert "Site Reliability Engineer" in shown


def test_project_periods_are_neither_jobs_nor_schooling() -> None:
    found = extracted(
        "工作经验：\n2019.9-至今 | 广州虎牙信息科技有限公司 | 运营经理\n"
        "项目经历\n2020.03-2020.12 直播活动增长项目：负责拉新活动策划\n"
    )
    assert [e["title"] for e in found["experience"]] == ["运营经理"]  # type: ignore[attr-defined]
    assert found["years_experience"] == 7.3


def test_board_export_notes_and_titles_on_their_own_line() -> None:
    found = extracted(
        "工作经验\n2017 /7--2023 /2：深圳市大族激光科技产业集团股份有限公司 (5000-10000人) [ 5 年8个月]\n"
        "所属行业：仪器仪表/工业自动化\n销售工程师 | 销售一部\n"
    )
    assert found["experience"] == [
        {"title": "销售工程师", "company": "深圳市大族激光科技产业集团股份有限公司",
         "start": "2017-07", "end": "2023-02"}
    ]  # fmt: skip


def test_vertical_table_rows_and_an_employer_over_several_roles() -> None:
    vertical = extracted(
        "工作经历\n工作时间 | 2018.03-2022.08\n公司名称 | 深圳市汇川技术股份有限公司\n职位 | 硬件工程师\n"
    )
    assert vertical["experience"] == [
        {"title": "硬件工程师", "company": "深圳市汇川技术股份有限公司", "start": "2018-03",
         "end": "2022-08"}
    ]  # fmt: skip
    roles = extracted(
        "EXPERIENCE\nMicrosoft Research Asia\nSoftware Engineer II, Jan. 2022 - Present\n"
        "Software Engineer, Sept 2019 - Dec. 2021\n"
    )
    assert [(e["title"], e["company"]) for e in roles["experience"]] == [  # type: ignore[attr-defined]
        ("Software Engineer II", "Microsoft Research Asia"),
        ("Software Engineer", "Microsoft Research Asia"),
    ]


def test_markdown_headings_and_a_period_in_parentheses() -> None:
    found = extracted(
        "# 刘思远\n## 工作经历\n### 腾讯音乐娱乐集团 | 前端负责人 | 2021.9 - 至今\n"
        "## 技能\nReact、TypeScript、微前端\n"
        "Registered Nurse - Queen Mary Hospital (Aug 2018 - Present)\n"
    )
    assert found["name"] == "刘思远"
    assert found["experience"] == [
        {"title": "前端负责人", "company": "腾讯音乐娱乐集团", "start": "2021-09", "end": "present"},
        {"title": "Registered Nurse", "company": "Queen Mary Hospital", "start": "2018-08",
         "end": "present"},
    ]  # fmt: skip
    assert "微前端" in found["skills"]  # type: ignore[operator]
