"""Protected attributes never move a score: the same résumé with another name, gender,
birth year, marital status or a photo line ranks the same. And blind mode hides them."""

from __future__ import annotations

import pytest

from representation.fairness import blind_view, neutralize
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


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("template", "variants"), [(ZH_RESUME, ZH_VARIANTS), (EN_RESUME, EN_VARIANTS)]
)
async def test_swapping_protected_attributes_does_not_move_scores(
    api: Api, template: str, variants: list[dict[str, str]]
) -> None:
    job = await api.create_job("employer", title="Python后端开发工程师",
                               required_skills=["Python", "Kafka", "MySQL"], preferred_skills=["Redis"])  # fmt: skip
    seeker_scores, recruiter_scores = [], []
    for i, variant in enumerate(variants):
        tenant = f"agency{i}"  # one agency each: identical contacts would merge the profiles
        response = await api.post(
            "/v1/candidates", tenant, {"resume_text": template.format(**variant)}
        )
        assert response.status_code == 201, response.text
        person = response.json()
        matches = (await api.get(f"/v1/candidates/{person['id']}/matches", tenant)).json()[
            "matches"
        ]
        [match] = [m for m in matches if m["id"] == job["id"]]
        seeker_scores.append(match["score"])
        ranked = (await api.get(f"/v1/jobs/{job['id']}/matches", tenant)).json()["matches"]
        [mine] = [m for m in ranked if m["id"] == person["id"]]
        recruiter_scores.append(mine["score"])
    for scores in (seeker_scores, recruiter_scores):
        assert max(scores) - min(scores) <= 0.005, scores


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
