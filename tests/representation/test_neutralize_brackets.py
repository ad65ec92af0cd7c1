"""Removing a protected attribute from inside brackets leaves no empty brackets or stray
separators behind ("护士（女，32岁）" reads "护士", not "护士（，）"): such leftovers reached
explanations and the texts that are embedded and indexed."""

from __future__ import annotations

import pytest

from representation.fairness import neutralize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("护士（女，32岁）", "护士"),
        ("护士（女）", "护士"),
        ("项目经理【女】", "项目经理"),
        ("护士（女，五年经验）", "护士（五年经验）"),
        ("资深护士 (已婚) 五年经验", "资深护士 五年经验"),
        ("(已婚) 护士", "护士"),
        ("Registered nurse (female, ICU)", "Registered nurse (ICU)"),
    ],
)
def test_brackets_emptied_by_neutralizing_go(text: str, expected: str) -> None:
    assert neutralize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Java (Spring) 开发", "Python (Django, Flask)", "call f() then g()", "数组 a[] 与 b[i]"],
)
def test_brackets_that_held_no_protected_attribute_stay(text: str) -> None:
    assert neutralize(text) == text
