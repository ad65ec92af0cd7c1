"""Reads places out of free-text queries: "Python 后端 深圳" means Python backend jobs *in*
Shenzhen, so 深圳 becomes a city filter instead of a keyword that every Shenzhen company
name would match."""

from __future__ import annotations

import re
from dataclasses import dataclass

from search_index.tokenize import segmenter
from taxonomy.regions import Region, region_directory
from taxonomy.skills import skill_vocabulary

# "深圳 大学" is a university, not a place filter.
_INSTITUTION_WORDS = frozenset(
    [
        "大学",
        "学院",
        "中学",
        "小学",
        "职业技术学院",
        "医院",
        "银行",
        "机场",
        "地铁",
        "分行",
        "分公司",
        "总部",
        "University",
        "College",
    ]
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query without the place words
    cities: tuple[Region, ...]


def parse_query(query: str) -> ParsedQuery:
    """Split city names (Chinese, full or pinyin, as whole words) from the rest of the query."""
    regions = region_directory()
    cities: list[Region] = []
    kept: list[str] = []
    # jieba's precise mode keeps "深圳大学" whole, so a school is not mistaken for a city.
    tokens = segmenter().cut(query, True)
    for position, token in enumerate(tokens):
        stripped = token.strip()
        following = next((t.strip() for t in tokens[position + 1 :] if t.strip()), "")
        region = (
            regions.city_named(stripped)
            if _could_be_place(stripped) and following not in _INSTITUTION_WORDS
            else None
        )
        if region is not None:
            if region not in cities:
                cities.append(region)
        else:
            kept.append(token)
    text = re.sub(r"\s+", " ", "".join(kept)).strip()
    if not text:  # a query that is only a place keeps its words for keyword search
        return ParsedQuery(text=query.strip(), cities=tuple(cities))
    return ParsedQuery(text=text, cities=tuple(cities))


def _could_be_place(token: str) -> bool:
    if len(token) < 2:
        return False
    # Pinyin city names are capitalised words of 4+ letters ("Shenzhen"), never short words.
    return not token.isascii() or len(token) >= 4


def skills_in(text: str) -> tuple[str, ...]:
    """The canonical skills a query names ("JavaScript 前端" → javascript), in any language."""
    return tuple(skill.id for skill, _, _ in skill_vocabulary().find_in_text(text))
