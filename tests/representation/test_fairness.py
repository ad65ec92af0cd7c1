"""Protected attributes never move a score: the same résumé with another name, gender,
birth year, marital status or a photo line ranks the same. And blind mode hides them."""

from __future__ import annotations

import pytest

from representation.fairness import (
    blind_text,
    blind_view,
    neutralize,
    person_names,
    protected_terms,
)
from tests.conftest import Api

ZH_RESUME = """{name}
{gender_line}
电话：13800000001  邮箱：cf@example.com
现居地：深圳
求职意向：Python后端开发工程师
工作经验：6年
技能：Python、Django、MySQL、Redis、Kafka
教育背景
深圳大学 本科
工作经历
2019.03 - 至今 腾讯 后端工程师 负责订单系统的 Python 微服务开发，{pronoun}主导了 Kafka 消息链路改造。
2016.07 - 2019.02 华为 软件工程师 参与 MySQL 数据库性能优化。"""

EN_RESUME = """{name}
cf@example.com | 13800000001 | Based in Shenzhen
{gender_line}
Objective: Backend Engineer
6 years of experience
Skills: Python, Django, MySQL, Redis, Kafka
EDUCATION
Bachelor's degree, Shenzhen University
EXPERIENCE
2019-03 - Present Backend Engineer, Tencent: {pronoun} built Python microservices for the order system and led the Kafka pipeline.
2016-07 - 2019-02 Software Engineer, Huawei: MySQL performance tuning."""

ZH_VARIANTS = [
    {"name": "张伟", "gender_line": "性别：男 | 1990年出生 | 已婚已育 | 汉族", "pronoun": "他"},
    {"name": "李娜", "gender_line": "性别：女 | 1978年出生 | 未婚 | 回族", "pronoun": "她"},
    {"name": "王芳", "gender_line": "女 | 32岁 | 籍贯：湖南 | 照片：见附件", "pronoun": "她"},
    {"name": "陈强", "gender_line": "男 | 45岁 | 户口：农业户口 | 健康状况：良好", "pronoun": "他"},
]
EN_VARIANTS = [
    {"name": "John Smith", "gender_line": "Gender: Male | Born in 1990 | Married", "pronoun": "He"},
    {"name": "Mary Johnson", "gender_line": "Gender: Female | Date of birth: 1976-05-02 | Photo attached", "pronoun": "She"},
    {"name": "Aisha Khan", "gender_line": "Female, aged 29 | Marital status: single | Ethnicity: Asian", "pronoun": "She"},
]  # fmt: skip


# The same person as structured fields: the protected mentions sit in the summary (the
# start of the embedding text), an experience description and the résumé, so that without
# neutralization they reach the vectors, the keyword index and every factor built on them.
ZH_SUMMARY = "{gender_line}。六年 Python 后端开发经验，{pronoun}熟悉 Kafka 与 MySQL。{family}"
ZH_FAMILY = [
    "已婚已育，育有一子一女",
    "未婚",
    "目前怀孕中，有两个孩子",
    "丈夫在深圳工作，有一个孩子",
]
EN_SUMMARY = "{gender_line}. Backend engineer, six years of Python; {pronoun} knows Kafka and MySQL. {family}"
EN_FAMILY = ["Father of two; my wife is a teacher.", "Mother of two, returning from maternity leave.",
             "Currently pregnant, my husband works in Shenzhen."]  # fmt: skip


def _profile(
    template: str, summary: str, variant: dict[str, str], family: str, n: int
) -> dict[str, object]:
    text = summary.format(**variant, family=family)
    return {
        "name": variant["name"], "email": f"cf{n}@example.com", "phone": f"1380000{n:04d}",
        "city": "深圳", "desired_titles": ["Python后端开发工程师"], "years_experience": 6,
        "skills": ["Python", "Django", "MySQL", "Redis", "Kafka"],
        "summary": text,
        "experience": [{"title": "后端工程师", "company": "腾讯", "start": "2019-03", "end": "present",
                        "description": f"{text} 负责订单系统的 Python 微服务开发。"}],
        "resume_text": template.format(**variant) + "\n" + family,
    }  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("template", "summary", "variants", "families"),
    [
        (ZH_RESUME, ZH_SUMMARY, ZH_VARIANTS, ZH_FAMILY),
        (EN_RESUME, EN_SUMMARY, EN_VARIANTS, EN_FAMILY),
    ],
)
async def test_swapping_protected_attributes_moves_no_signal(
    api: Api, template: str, summary: str, variants: list[dict[str, str]], families: list[str]
) -> None:
    job = await api.create_job("employer", title="Python后端开发工程师",
                               required_skills=["Python", "Kafka", "MySQL"], preferred_skills=["Redis"])  # fmt: skip
    people = []
    for i, (variant, family) in enumerate(zip(variants, families, strict=True)):
        tenant = f"agency{i}"
        # In every tenant the same other candidate, a denser keyword hit: keyword relevance
        # is relative to the best hit, so the variant's own BM25 shows in its factor.
        await api.create_candidate(tenant, name="赵敏", desired_titles=["Python后端开发工程师"],
                                   skills=["Python", "Kafka", "MySQL", "Redis"],
                                   summary="Python后端开发工程师 Python Kafka MySQL Redis")  # fmt: skip
        response = await api.post(
            "/v1/candidates", tenant, _profile(template, summary, variant, family, i)
        )
        assert response.status_code == 201, response.text
        people.append((tenant, response.json()))
    # The protected mentions were there to be removed: the stored texts differ in them.
    summaries = {person["summary"] for _, person in people}
    assert len(summaries) == len(people)
    seeker, recruiter = [], []
    for tenant, person in people:
        matches = (await api.get(f"/v1/candidates/{person['id']}/matches", tenant)).json()[
            "matches"
        ]
        [match] = [m for m in matches if m["id"] == job["id"]]
        seeker.append(match)
        ranked = (await api.get(f"/v1/jobs/{job['id']}/matches", tenant)).json()["matches"]
        [mine] = [m for m in ranked if m["id"] == person["id"]]
        recruiter.append(mine)
    for side in (seeker, recruiter):
        assert max(m["score"] for m in side) - min(m["score"] for m in side) <= 0.002, side
        # Each factor on its own (a saturated score would hide a moved one).
        for factor in ("semantic", "title", "skills", "keyword"):
            values = [m["breakdown"][factor]["score"] for m in side]
            assert None not in values, (factor, values)
            assert max(values) - min(values) <= 0.002, (factor, values)
        # Exact text where the factor explains itself (cosine similarity to two decimals).
        assert len({m["breakdown"]["semantic"]["detail"] for m in side}) == 1


def test_neutralize_removes_protected_mentions_and_keeps_the_work() -> None:
    text = ZH_RESUME.format(**ZH_VARIANTS[1])
    clean = neutralize(text, "李娜")
    for word in ("李娜", "女", "1978", "未婚", "回族", "她"):
        assert word not in clean
    assert "Kafka 消息链路改造" in clean and "深圳大学 本科" in clean
    english = neutralize(EN_RESUME.format(**EN_VARIANTS[1]), "Mary Johnson")
    for word in ("Mary", "Johnson", "Female", "1976", "Photo", "She "):
        assert word not in english
    assert "built Python microservices" in english


def test_blind_view_hides_identity_and_contacts() -> None:
    person = {"name": "李娜", "email": "cf@example.com", "phone": "13800000001",
              "resume_text": ZH_RESUME.format(**ZH_VARIANTS[1]), "summary": "李娜，女，6年经验",
              "experience": [{"title": "后端", "description": "她负责 Kafka"}],
              "extraction": {"name": {"value": "李娜"}, "skills": {"value": ["Python"]}},
              "sources": [{"external_id": "x"}], "external_id": "crm-1"}  # fmt: skip
    blind = blind_view(person)
    assert blind["name"] is None and blind["email"] is None and blind["phone"] is None
    assert blind["external_id"] is None and blind["sources"] == []
    flat = str(blind)
    for secret in ("李娜", "13800000001", "cf@example.com", "1978", "未婚", "她"):
        assert secret not in flat
    assert "name" not in blind["extraction"] and "skills" in blind["extraction"]
    assert "Kafka" in blind["resume_text"]


# Fast checks of each layout and phrase (the mutation run of representation/fairness.py uses
# these; the API tests above show the same end to end).
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("性别 | 女 | 出生年月 | 1992.05\n技能 | Java", "技能 | Java"),
        ("| 婚姻状况 | 已婚 | 民族 | 汉族 |\n五年 Java 开发", "五年 Java 开发"),
        ("姓名\t李娜\t性别\t女\t专业\t计算机", "专业 | 计算机"),
        ("性别\n女\n出生年月\n1992.05\n工作经历\n2019 腾讯", "工作经历\n2019 腾讯"),
        ("性别：女 工作经验：5年", "工作经验：5年"),
        ("年龄 30 | 学历 本科", "学历 本科"),
        ("Gender Female\nDate of birth 1992-05-02\nAge 30\nSkills: Java", "Skills: Java"),
        ("目前怀孕中，有两个孩子，已婚已育。负责支付系统", "负责支付系统"),
        ("育有一子一女，丈夫在深圳工作。负责支付系统", "负责支付系统"),
        ("Mother of two, my husband works at Huawei. Currently pregnant. Java developer.",
         "Java developer."),
        ("Java developer, father of three kids, back from paternity leave", "Java developer"),
        ("Married. Java developer", "Java developer"),
        ("她负责 Kafka；his wife", "其负责 Kafka"),
        ("35岁，本地户口，身体健康，无病史", ""),
        ("照片：见附件  Python", "Python"),
    ],
)  # fmt: skip
def test_neutralize_removes_each_layout_and_phrase(text: str, kept: str) -> None:
    assert neutralize(text) == kept


@pytest.mark.parametrize(
    "text",
    ["负责客户口碑管理，健康管理系统开发", "Health insurance products sales", "女装设计师",
     "Skills: .NET, C#\n.NET developer", "2019.03 - 至今 腾讯 后端工程师", "single sign-on",
     "健康 管理系统开发", "年龄 结构分析", "Race condition debugging", "Weight training coach",
     "户口 迁移手续办理流程优化", "Age of Empires modding"],
)  # fmt: skip
def test_neutralize_keeps_work_that_only_looks_protected(text: str) -> None:
    assert neutralize(text) == text


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("女 已婚", [("女", "sex"), ("已婚", "marital_status")]),
        ("男性 Java", [("男性", "sex")]),
        ("限女性 30-35岁", [("限女性", "sex"), ("30-35岁", "age")]),
        ("90后 产品经理", [("90后", "age")]),
        ("female under 30 married", [("female", "sex"), ("under 30", "age"),
                                     ("married", "marital_status")]),
        ("未育 宝妈", [("未育", "childbearing"), ("宝妈", "childbearing")]),
        ("汉族 穆斯林", [("汉族", "ethnicity"), ("穆斯林", "religion")]),
        ("本地户口 深户", [("本地户口", "hukou_or_origin"), ("深户", "hukou_or_origin")]),
        ("身体健康 身高", [("身体健康", "health"), ("身高", "health")]),
        ("女工程师", [("女", "sex")]),
        ("客户口碑 女装 manager single sign-on healthcare", []),
    ],
)  # fmt: skip
def test_protected_terms_of_a_query(query: str, found: list[tuple[str, str]]) -> None:
    assert [(term, reason) for term, reason, _, _ in protected_terms(query)] == found
    for term, _, start, end in protected_terms(query):
        assert query[start:end] == term


def test_blind_text_hides_contacts_and_names_too() -> None:
    text = "张伟 | 女 | 13800000001 | zw@example.com\n五年 Java 开发"
    assert blind_text(text, "张伟") == "[hidden] | [hidden]\n五年 Java 开发"
    assert blind_text("", "张伟") == ""


@pytest.mark.parametrize(
    ("text", "names", "kept"),
    [
        # A label cell whose value comes on the next line, unless that line is a label itself,
        # holds cells, or is too long to be a value (prose), as in a DOCX table read cell by cell.
        ("性别\n出生年月\n1992.05\n工作", None, "工作"),
        ("籍贯\n" + "深圳" * 15 + "\n工作", None, "工作"),
        ("籍贯\n" + "深圳" * 15 + "市\n工作", None, "深圳" * 15 + "市\n工作"),
        ("性别\n技能 | Java", None, "技能 | Java"),
        ("性别 | 出生年月 | 1992.05 | 技能 | Java", None, "技能 | Java"),
        # Fields removed from the middle of a row, or from the start of a later line.
        ("Java | 男 | 32岁 | Python", None, "Java | Python"),
        ("Java\n男 | Python", None, "Java\nPython"),
        ("负责 32岁 Kafka", None, "负责 Kafka"),
        ("Backend engineer. Married, with two kids. Python", None, "Backend engineer. Python"),
        ("She led the team", None, "they led the team"),
        # The name however it is written: a part of it, a one-character part, the longer of
        # two written forms first.
        ("Li led the Kafka migration", "Li Na", "led the Kafka migration"),
        ("娜 负责 Kafka", "李 娜", "负责 Kafka"),
        ("张伟伟负责支付", ["张伟", "张伟伟"], "负责支付"),
    ],
)  # fmt: skip
def test_neutralize_edges(text: str, names: str | list[str] | None, kept: str) -> None:
    assert neutralize(text, names) == kept


def test_person_names_come_from_the_field_and_the_texts() -> None:
    assert person_names(None, "姓名：李娜\n五年经验") == ("李娜",)
    assert person_names("  ", None) == ()
    assert person_names(" 张伟 ", "Zhang Wei | Backend engineer") == ("张伟", "Zhang Wei")


def test_blind_view_finds_the_name_in_the_resume_and_the_summary() -> None:
    person = {"name": None, "resume_text": "姓名：李娜\n李娜负责 Kafka 迁移",
              "summary": "Lina Li | Backend engineer\nLina Li led the Kafka migration",
              "experience": [{"title": "后端", "description": "李娜负责 Kafka"}]}  # fmt: skip
    blind = blind_view(person)
    assert "李娜" not in str(blind) and "Lina" not in str(blind)
    assert "负责 Kafka 迁移" in blind["resume_text"]
    assert "led the Kafka migration" in blind["summary"]
    assert blind["experience"] == [{"title": "后端", "description": "负责 Kafka"}]


def test_blind_view_cleans_every_text_field() -> None:
    person = {"name": "李娜", "desired_titles": ["李娜的 HR 专员 32岁"],
              "education": {"school": "深圳大学", "note": "李娜 1990年出生"},
              "languages": ["英语（李娜）"], "certificates": ["PMP 李娜"], "experience": None,
              "resume_text": "五年 HR", "summary": None}  # fmt: skip
    blind = blind_view(person)
    assert blind["desired_titles"] == ["的 HR 专员"]
    assert blind["education"] == {"school": "深圳大学", "note": ""}
    assert blind["languages"] == ["英语"] and blind["certificates"] == ["PMP"]
    assert blind["experience"] == [] and blind["summary"] is None
    assert "extraction" not in blind or blind["extraction"] is None


def test_blind_view_drops_contacts_and_names_from_the_extraction() -> None:
    person = {"name": "李娜", "resume_text": "李娜 | 后端",
              "extraction": {"name": {"value": "李娜"}, "email": {"value": "ln@example.com"},
                             "phone": {"value": "13800000001"},
                             "desired_titles": {"value": ["李娜的后端职位"]}}}  # fmt: skip
    blind = blind_view(person)
    assert blind["extraction"] == {"desired_titles": {"value": ["的后端职位"]}}
