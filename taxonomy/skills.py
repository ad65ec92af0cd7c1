"""The bilingual skill vocabulary: one canonical id per skill, its English and Chinese
names, and aliases ("JS", "机器学习" …). The data is ``taxonomy/data/skills.csv``; grow it
there (a row per skill, aliases separated by ``|``)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources


@dataclass(frozen=True)
class Skill:
    id: str
    en: str
    zh: str
    aliases: tuple[str, ...]
    category: str

    def label(self, language: str = "en") -> str:
        return self.zh if language.startswith("zh") else self.en


# Aliases too ambiguous to find in free text ("go to market", "PS:", "R&D"): they still
# normalize an explicit skill list entry, but extraction from prose skips them.
_AMBIGUOUS_IN_PROSE = {
    "go",
    "r",
    "c",
    "ts",
    "tf",
    "ps",
    "cv",
    "ml",
    "dl",
    "bd",
    "qa",
    "es",
    "node",
    "rest",
    "spring",
    "swift",
    "ruby",
    "testing",
    "ui",
    "ux",
    "ios",
    "erp",
    "oracle",
    "tutor",
    "clinical",
    "ai设计",
    "selling",
    "audit",
    "b2b",
    "cad",
    "pcb",
    "chinese",
    "english",
    "architecture",
    "branding",
    "compliance",
    "lean",
    "collaboration",
    "communication",
    "container",
    "rust",
    "sales",
    "investment",
    "sourcing",
    "analytics",
    "容器",
    "施工",
    "建筑",
    "辅导",
    "临床",
    "投资",
    "直播",
    "物流",
    "电商",
    "外贸",
    "合规",
    "采购",
    "会计",
    "审计",
    "税务",
    "招聘",
    "行政",
    "教学",
    "护理",
    "驾驶",
    "焊接",
    "电工",
    "烹饪",
    "沟通",
    "中文",
    "英文",
    "英语",
    "销售",
    "文案",
    "谈判",
    "培训",
    "薪酬",
}


_WORD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789+#"


@lru_cache(maxsize=65536)
def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


class SkillVocabulary:
    """Maps any known name of a skill to its canonical ``Skill``."""

    def __init__(self, skills: list[Skill]) -> None:
        self.skills = {s.id: s for s in skills}
        self._by_name: dict[str, Skill] = {}
        for skill in skills:
            for name in (skill.id, skill.en, skill.zh, *skill.aliases):
                self._by_name.setdefault(_key(name), skill)
        self._prose_pattern = self._compile_prose_pattern()
        self._names_by_skill: dict[str, list[tuple[str, Skill]]] = {}

    def _compile_prose_pattern(self) -> re.Pattern[str]:
        names = sorted(
            (n for n in self._by_name if n not in _AMBIGUOUS_IN_PROSE and len(n) >= 2),
            key=len,
            reverse=True,
        )
        parts = []
        for name in names:
            escaped = re.escape(name)
            # ASCII names need word boundaries ("java" must not match "javascript");
            # Chinese has no spaces, so a substring is the unit.
            if name.isascii():
                parts.append(rf"(?<![a-z0-9+#.]){escaped}(?![a-z0-9+#])")
            else:
                parts.append(escaped)
        return re.compile("|".join(parts), re.IGNORECASE)

    def lookup(self, name: str) -> Skill | None:
        """The skill a name stands for, or None when the vocabulary does not know it."""
        return self._by_name.get(_key(name))

    def canonical_id(self, name: str) -> str:
        """The canonical id of a known skill; unknown skills keep their normalized text."""
        skill = self.lookup(name)
        return skill.id if skill else _key(name)

    def canonical_ids(self, names: list[str] | None) -> list[str]:
        seen: dict[str, None] = {}
        for name in names or []:
            if name and name.strip():
                seen.setdefault(self.canonical_id(name), None)
        return list(seen)

    def display_name(self, skill_id: str, language: str = "en") -> str:
        skill = self.skills.get(skill_id)
        return skill.label(language) if skill else skill_id

    def find_in_text(self, text: str) -> list[tuple[Skill, int, int]]:
        """Every skill mentioned in prose, with its span; the first mention of each."""
        found: dict[str, tuple[Skill, int, int]] = {}
        for match in self._prose_pattern.finditer(text):
            skill = self._by_name[_key(match.group(0))]
            found.setdefault(skill.id, (skill, match.start(), match.end()))
        return list(found.values())

    def first_mention(self, text: str, skill_id: str) -> tuple[int, int] | None:
        """The span of the earliest mention of one skill in prose (the same rules as
        ``find_in_text``, at a fraction of its cost when only a few skills matter)."""
        lowered = text.lower()
        best: tuple[int, int] | None = None
        for name, _skill in self._names_of(skill_id):
            start = lowered.find(name)
            while start != -1 and (best is None or start < best[0]):
                end = start + len(name)
                if not name.isascii() or (
                    (start == 0 or lowered[start - 1] not in _WORD_CHARS + ".")
                    and (end == len(lowered) or lowered[end] not in _WORD_CHARS)
                ):
                    best = (start, end)
                    break
                start = lowered.find(name, start + 1)
        return best

    def _names_of(self, skill_id: str) -> list[tuple[str, Skill]]:
        names = self._names_by_skill.get(skill_id)
        if names is None:
            names = [(n, s) for n, s in self._by_name.items()
                     if s.id == skill_id and n not in _AMBIGUOUS_IN_PROSE and len(n) >= 2]  # fmt: skip
            self._names_by_skill[skill_id] = names
        return names

    def all_names(self) -> list[str]:
        return list(self._by_name)


@cache
def skill_vocabulary() -> SkillVocabulary:
    """The vocabulary shipped with the project (loaded once)."""
    path = resources.files("taxonomy") / "data" / "skills.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    skills = [
        Skill(
            id=row["id"],
            en=row["en"],
            zh=row["zh"],
            aliases=tuple(a for a in row["aliases"].split("|") if a),
            category=row["category"],
        )
        for row in rows
    ]
    return SkillVocabulary(skills)
