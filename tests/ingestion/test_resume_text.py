"""Field extraction from free résumé text; nothing is guessed."""

from __future__ import annotations

from datetime import date

from ingestion.resume_text import extract_from_resume

TODAY = date(2026, 11, 1)


def values(text: str) -> dict[str, object]:
    return {k: v.value for k, v in extract_from_resume(text, today=TODAY).fields.items()}


def test_chinese_resume() -> None:
    found = values(
        "王芳\n手机：+86 137-0000-1111\n所在城市：广州\n工作经验：三年\n大专\n熟悉Excel、金蝶、税务申报"
    )
    assert found["name"] == "王芳"
    assert found["phone"] == "+8613700001111"
    assert found["city"] == "广州"
    assert found["years_experience"] == 3
    assert found["education_level"] == "associate"
    assert {"Excel", "金蝶", "税务"} <= set(found["skills"])  # type: ignore[arg-type]


def test_english_resume_years_from_dates_skip_education() -> None:
    found = values(
        "Amy Lee\nEXPERIENCE\nMar 2020 - Present Data Engineer: Spark, Kafka\n"
        "EDUCATION\n2014 - 2018 Peking University, BSc"
    )
    assert found["years_experience"] == 6.8  # Mar 2020 .. Nov 2026, months inclusive
    assert found["education_level"] == "bachelor"
    assert {"Spark", "Kafka"} <= set(found["skills"])  # type: ignore[arg-type]


def test_scrum_master_is_not_a_degree_and_nothing_is_invented() -> None:
    found = values("Certified Scrum Master. Likes hiking.")
    assert "education_level" not in found
    assert "years_experience" not in found
    assert "city" not in found
    assert "email" not in found and "phone" not in found


def test_hong_kong_phone_and_email() -> None:
    found = values("Contact: tom@mail.hk, +852 6123 4567")
    assert found["email"] == "tom@mail.hk"
    assert found["phone"] == "+85261234567"


def test_entries_certificates_languages_and_salary_expectation() -> None:
    text = (
        "张伟\n求职意向：Java后端开发工程师  期望薪资：20-25K\n教育背景\n"
        "2012.09 - 2016.06 华南理工大学 计算机科学与技术专业 本科（统招）\n工作经历\n"
        "2016.07 - 2019.12 深圳市腾讯计算机系统有限公司 后端开发 负责微服务架构\n"
        "2020.01 - 至今 平安科技有限公司 高级工程师\n证书：英语六级、PMP；语言：普通话、粤语\n"
    )
    found = values(text)
    assert found["education_entries"] == [
        {"level": "bachelor", "school": "华南理工大学", "major": "计算机科学与技术专业",
         "start": "2012-09", "end": "2016-06", "full_time": True}
    ]  # fmt: skip
    assert found["experience"] == [
        {
            "title": "后端开发",
            "company": "深圳市腾讯计算机系统有限公司",
            "start": "2016-07",
            "end": "2019-12",
        },
        {
            "title": "高级工程师",
            "company": "平安科技有限公司",
            "start": "2020-01",
            "end": "present",
        },
    ]
    assert found["certificates"] == ["CET-6", "PMP"]
    assert found["languages"] == ["普通话", "粤语", "英语"]
    assert found["desired_salary_min"] == 20000
    assert found["years_experience"] == 10.4  # 2016-07 .. 2026-11 inclusive, school years excluded
