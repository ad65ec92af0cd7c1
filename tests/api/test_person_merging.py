"""Profiles merge on identity evidence (the same e-mail, phone or external id, or a
near-identical résumé under the same name), never on résumé similarity alone; a merge
unites both arrivals' facts and says why in ``sources``."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

RESUME = """{name}
求职意向：{title}
现居地：深圳
工作经验：8年
技能：Linux、Docker、Kubernetes、Ansible、Python、Shell、Prometheus、Jenkins
教育背景
深圳大学 本科 计算机科学与技术
工作经历
2016.07 - 至今 深圳市某科技有限公司 运维工程师
负责公司生产环境的运维体系建设，搭建 Kubernetes 集群与 CI/CD 流水线，推动监控告警平台落地，保障核心业务可用性达到 99.99%。
2014.07 - 2016.06 某互联网公司 系统工程师
负责服务器运维与自动化脚本开发，编写 Ansible 剧本与 Shell 脚本，管理三百台以上服务器，参与机房迁移与容量规划。"""


async def test_near_identical_resumes_of_different_people_stay_apart(api: Api) -> None:
    # Two people from one résumé template: they differ in the name, the title sought and the
    # contacts only (the résumé fingerprints are 2 bits apart).
    first = await api.post("/v1/candidates", "acme",
                           {"resume_text": RESUME.format(name="张伟", title="运维经理"),
                            "email": "zhang.wei@example.com"})  # fmt: skip
    second = await api.post("/v1/candidates", "acme",
                            {"resume_text": RESUME.format(name="李娜", title="运维主管"),
                             "email": "li.na@example.com"})  # fmt: skip
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["name"] == "李娜" and second.json()["desired_titles"] == ["运维主管"]
    listed = (await api.get("/v1/candidates", "acme")).json()
    assert listed["total"] == 2
    assert {p["name"] for p in listed["items"]} == {"张伟", "李娜"}


async def test_the_same_resume_under_the_same_name_still_merges(api: Api) -> None:
    first = await api.post("/v1/candidates", "acme",
                           {"resume_text": RESUME.format(name="张伟", title="运维经理"),
                            "email": "zhang.wei@example.com"})  # fmt: skip
    again = await api.post("/v1/candidates", "acme",
                           {"resume_text": RESUME.format(name="张伟", title="运维主管"),
                            "external_id": "board-9"})  # fmt: skip
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["sources"][-1] == {**again.json()["sources"][-1],
                                           "external_id": "board-9", "matched_on": "resume"}  # fmt: skip


async def test_a_crm_record_with_the_same_email_keeps_the_extracted_skills(api: Api) -> None:
    parsed = await api.post("/v1/candidates", "acme",
                            {"resume_text": RESUME.format(name="张伟", title="运维经理"),
                             "email": "zhang.wei@example.com"})  # fmt: skip
    assert parsed.status_code == 201
    extracted = set(parsed.json()["skills"])
    assert len(extracted) >= 6 and "skills" in parsed.json()["extracted_fields"]
    crm = await api.post("/v1/candidates", "acme",
                         {"external_id": "crm-77", "name": "张伟", "email": "Zhang.Wei@example.com",
                          "skills": ["Go", "Linux"], "languages": ["英语"],
                          "experience": [{"title": "运维经理", "company": "某银行",
                                          "start": "2024-01", "end": "present"}]})  # fmt: skip
    assert crm.status_code == 200, crm.text
    merged = crm.json()
    assert merged["id"] == parsed.json()["id"]
    # The union of both arrivals: none of the extracted skills is dropped.
    assert set(merged["skills"]) == extracted | {"Go", "Linux"}
    assert "skills" in merged["extracted_fields"]
    assert merged["languages"] == ["英语"]
    companies = {e.get("company") for e in merged["experience"]}
    assert "某银行" in companies and len(merged["experience"]) == 3
    assert [(s["external_id"], s["matched_on"]) for s in merged["sources"]] == [
        (None, None),
        ("crm-77", "email"),
    ]
    # And the profile is still found by what the résumé gave it.
    assert "Kubernetes" in extracted
    found = (await api.post("/v1/search/candidates", "acme",
                            {"query": "skill:Kubernetes", "mode": "keyword"})).json()  # fmt: skip
    assert [h["id"] for h in found["hits"]] == [merged["id"]]
