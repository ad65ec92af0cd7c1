"""The posting-compliance checker: every category in Chinese and English, the variants real
postings use, spans on the original text, and the hard negatives it must leave alone."""

from __future__ import annotations

import pytest

from core.compliance import check_posting, render_flag


def categories(text: str) -> set[str]:
    return {flag.category for flag in check_posting("", text).flags}


def test_the_issue_example_is_unlawful_with_five_categories() -> None:
    result = check_posting(
        "仓库管理员", "限男性，35岁以下，已婚已育优先，身高165cm以上，本地户口，不招河南籍"
    )
    assert result.status == "unlawful"
    assert {f.category for f in result.flags} == {
        "sex", "age", "marital_childbearing", "appearance", "hukou_origin",
    }  # fmt: skip
    levels = {f.category: f.level for f in result.flags}
    assert levels["sex"] == "unlawful" and levels["age"] == "advisory"
    assert levels["appearance"] == "advisory" and levels["hukou_origin"] == "unlawful"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("男性优先考虑", "sex"),
        ("限男生，需倒班", "sex"),
        ("Female only, night shift.", "sex"),
        ("ｆｅｍａｌｅ　ｏｎｌｙ", "sex"),  # full-width
        ("男士優先", "sex"),  # traditional
        ("限 男 性", "sex"),  # spaced
        ("25岁以内", "age"),
        ("３５岁以下", "age"),
        ("Under 30 only.", "age"),
        ("Locals only.", "hukou_origin"),
        ("深户优先", "hukou_origin"),
        ("入職體檢含孕檢", "pregnancy_test"),
        ("乙 肝 携 带 者 勿扰", "health"),
        ("限汉族", "ethnicity_religion"),
        ("四肢健全", "disability"),
        ("限 9 8 5 院校", "school_tier"),
        ("形象气质佳", "appearance"),
        ("两年内无生育计划", "marital_childbearing"),
    ],
)
def test_variants_are_flagged(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "男女不限", "性别不限", "性 别 不 限", "负责女装品类运营", "男装买手", "母婴用品门店店长",
        "妇产科护士", "需持有餐饮健康证", "享受产假、育儿假", "年满18周岁", "年滿18週歲",
        "欢迎残疾人士投递简历", "熟练掌握粤语和英语", "井下作业依法不招用女职工",
        "Candidates with disabilities are encouraged to apply.", "Respond in under 30 minutes.",
        "Knowledge of the local market is a plus.", "负责985、211高校的校园招聘渠道维护",
        "熟悉乙肝疫苗的冷链管理", "Single point of contact for key accounts.",
    ],
)  # fmt: skip
def test_hard_negatives_are_not_flagged(text: str) -> None:
    assert check_posting("", text).flags == ()
    assert check_posting(text, text).status == "ok"


def test_spans_point_at_the_original_text_in_each_field() -> None:
    description = (
        "岗位职责：仓储管理。\n要求：限 男 性，ｆｅｍａｌｅ ｏｎｌｙ 不行，年齡３５歲以下。"
    )
    result = check_posting("仓管（男士優先）", description)
    for flag in result.flags:
        source = description if flag.field == "description" else "仓管（男士優先）"
        assert source[flag.span[0] : flag.span[1]] == flag.text
    assert {(f.field, f.text) for f in result.flags} >= {
        ("title", "男士優先"), ("description", "限 男 性"), ("description", "３５歲以下"),
    }  # fmt: skip


def test_skills_are_checked_too() -> None:
    result = check_posting("会计", "", extra={"required_skills.1": "女性优先"})
    assert [(f.field, f.category) for f in result.flags] == [("required_skills.1", "sex")]


def test_the_rewrite_drops_the_requirement_and_keeps_the_rest() -> None:
    [flag] = check_posting("", "限男性，能适应长期出差。").flags
    assert flag.rewrite == "能适应长期出差。"
    [only] = check_posting("", "性别：男。").flags
    assert only.rewrite == "男女不限。"
    [english] = check_posting("", "Male only, must be able to lift 25 kg.").flags
    assert english.rewrite == "Must be able to lift 25 kg."


def test_explanations_in_chinese_and_english_cite_the_law() -> None:
    [flag] = check_posting("", "入职体检含孕检。").flags
    zh, en = render_flag(flag.as_stored(), "zh"), render_flag(flag.as_stored(), "en")
    assert "妇女权益保障法" in zh["explanation"] and "第43条" in zh["explanation"]
    assert "Women's Rights" in en["explanation"] and "art. 43" in en["explanation"]
    assert zh["suggestion"].startswith("改为") and en["suggestion"].startswith("Rewrite as")
    assert {"law": "妇女权益保障法", "article": "43"} in zh["basis"]
