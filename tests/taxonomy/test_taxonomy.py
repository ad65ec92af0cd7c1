"""Skill vocabulary and regions: synonyms, languages, places."""

from __future__ import annotations

import pytest

from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary


@pytest.mark.parametrize(
    ("names", "skill_id"),
    [
        (["机器学习", "machine learning", "Machine Learning", "ML"], "machine_learning"),
        (["JS", "javascript", "JavaScript", "ES6"], "javascript"),
        (["K8s", "kubernetes"], "kubernetes"),
        (["golang", "Go", "go语言"], "go"),
        (["金蝶", "Kingdee"], "kingdee"),
        (["五险一金"], "五险一金"),  # unknown: kept as normalized text
    ],
)
def test_names_meet_at_one_canonical_id(names: list[str], skill_id: str) -> None:
    vocabulary = skill_vocabulary()
    assert {vocabulary.canonical_id(n) for n in names} == {skill_id}


def test_prose_extraction_respects_word_boundaries() -> None:
    found = {
        s.id
        for s, _, _ in skill_vocabulary().find_in_text(
            "Java and JavaScript; 熟悉机器学习; let's go"
        )
    }
    assert found == {"java", "javascript", "machine_learning"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("深圳", 440300),
        ("深圳市", 440300),
        ("Shenzhen", 440300),
        ("广东省深圳市", 440300),
        ("北京", 110000),
        ("Hong Kong", 810000),
        ("东莞", 441900),
    ],
)
def test_cities(text: str, code: int) -> None:
    region = region_directory().city(text)
    assert region is not None and region.code == code


def test_districts_resolve_within_their_city() -> None:
    regions = region_directory()
    shenzhen = regions.city("深圳")
    for name in ("南山", "南山区", "Nanshan"):
        district = regions.district(name, shenzhen)
        assert district is not None and district.code == 440305
    assert regions.district("龙华", shenzhen) is not None  # created 2016, added to the data
    assert regions.district("南山", regions.city("北京")) is None
