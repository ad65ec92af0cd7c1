"""The query syntax parser: structure, precedence, exclusions, fields, positions of errors."""

from __future__ import annotations

import pytest

from search_index.query_syntax import (
    Clause,
    Match,
    QuerySyntaxError,
    body_tokens,
    parse_search,
)


def body(*tokens: str, phrase: bool = False) -> Match:
    return Match("body", tokens, phrase=phrase)


def test_the_issue_query() -> None:
    parsed = parse_search("Java AND (Spring OR 微服务) NOT 外包")
    assert not parsed.plain
    assert parsed.keyword == Clause(
        must=(body("java"), Clause(should=(body("spring"), body("微服", "服务", "微服务"))))
    )
    assert parsed.excluded == (body("外包"),)
    assert parsed.positive_text == "Java Spring 微服务"


@pytest.mark.parametrize(
    "query", ["", "Java 后端", "sales and marketing", "python or java", "not java", "C++ node.js"]
)
def test_a_query_without_operators_is_plain(query: str) -> None:
    parsed = parse_search(query)
    assert parsed.plain and parsed.keyword is None and parsed.excluded == ()
    assert parsed.positive_text == query.strip()


def test_precedence_not_then_and_then_or() -> None:
    assert parse_search("a1 OR b1 AND c1").keyword == Clause(
        should=(body("a1"), Clause(must=(body("b1"), body("c1"))))
    )
    # Side by side is OR, as without operators.
    assert parse_search("b1 AND c1 d1").keyword == Clause(
        should=(Clause(must=(body("b1"), body("c1"))), body("d1"))
    )


def test_minus_and_not_exclude_from_their_group() -> None:
    root = parse_search("java -外包 -实习")
    assert root.keyword == body("java") and root.excluded == (body("外包"), body("实习"))
    nested = parse_search("(java -外包) OR python")
    assert nested.excluded == ()
    assert nested.keyword == Clause(
        should=(Clause(must=(body("java"),), must_not=(body("外包"),)), body("python"))
    )
    only = parse_search("-外包")
    assert only.keyword is None and only.excluded == (body("外包"),)
    assert only.positive_text == ""


def test_a_hyphen_inside_or_doubled_is_text() -> None:
    assert parse_search("front-end").plain
    assert parse_search("-- x").plain


def test_phrases_and_fields() -> None:
    assert parse_search('"Spring Cloud"').keyword == body("spring", "cloud", phrase=True)
    assert parse_search("title:架构师").keyword == Match("title", ("架构", "架构师"))
    assert parse_search('title:"Java 工程师"').keyword == Match(
        "title", ("java", "工程", "工程师"), phrase=True
    )
    # Skills are canonicalized as filters are (a synonym finds the canonical id).
    assert parse_search("skill:golang").keyword == Match("skills", ("go",))
    assert parse_search('company:"Acme Inc"').keyword == Match("company", ("Acme Inc",))
    assert parse_search("title:(java OR go)").keyword == Clause(
        should=(Match("title", ("java",)), Match("title", ("go",)))
    )


def test_company_without_a_company_field_is_a_phrase_in_the_text() -> None:
    parsed = parse_search("company:华为 技术", company_field=False)
    assert parsed.keyword == Clause(should=(body("华为"), body("技术")))
    assert parse_search("company:Acme Inc", company_field=False).keyword == Clause(
        should=(body("acme"), body("inc"))
    )


def test_body_tokens_are_the_positive_text_tokens() -> None:
    parsed = parse_search('Java AND "Spring Cloud" -外包 skill:go')
    assert parsed.keyword is not None
    assert body_tokens(parsed.keyword) == ["java", "spring", "cloud"]


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("((((", 3),
        ("(Java AND Spring", 0),
        ("Java)", 4),
        ('say "Spring Cloud', 4),
        ("Java AND", 5),
        ("AND Java", 0),
        ("OR", 0),
        ("Java OR", 5),
        ("Java NOT", 5),
        ("Java -(", 6),
        ("()", 0),
        ("title:", 0),
        ("title: Java", 0),
        ("Java AND OR Go", 5),
    ],
)
def test_malformed_syntax_names_the_position(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_search(query)
    assert raised.value.position == position
