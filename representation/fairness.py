"""Protected attributes stay out of ranking, and out of sight in blind screening.

China's Employment Promotion Law and PIPL (and equal-opportunity law elsewhere) forbid
screening on gender, age, marital or childbearing status, ethnicity, hukou/origin, health
or looks. TalentMatch has no such fields; but résumés mention them ("性别：女", "1990年出生",
"已婚已育", "she led…", "photo attached"). ``neutralize`` removes those mentions, and the
candidate's name, from every text that matching or semantic search reads, so two résumés
that differ only there get the same vectors and the same scores (tests/matching/
test_fairness.py swaps them and checks). ``blind_view`` hides them from people too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.contacts import names_in, remove_contacts

HIDDEN = "[hidden]"
_LABELS = (
    r"性\s*别|年\s*龄|出生(?:年月|日期|年份|地)?|生\s*日|婚姻(?:状况)?|婚\s*否|婚育(?:状况|情况)?|"
    r"生育(?:状况|情况)?|民\s*族|籍\s*贯|户\s*[口籍](?:所在地|性质)?|身份证(?:号码?)?|"
    r"健康(?:状况)?|身\s*高|体\s*重|照\s*片|头\s*像|政治面貌|"
    r"gender|sex|age|date\s+of\s+birth|d\.?o\.?b\.?|birth\s*(?:date|day|year|place)|born|"
    r"marital\s+status|married|children|ethnicity|race|nationality|hukou|place\s+of\s+origin|"
    r"native\s+place|health|height|weight|photo(?:graph)?"
)
# "label: value" up to the next separator (newline, |, ；, ，, two spaces).
_LABELLED = re.compile(
    rf"(?i)(?<![A-Za-z])(?:{_LABELS})\s*[:：]\s*[^\n|｜；;，,]*?(?=\s{{2,}}|[\n|｜；;，,]|$)"
)
_FREE = re.compile(
    r"(?i)"
    r"(?<![\w])[男女](?=\s*[|｜，,、/]|\s*$|\s+\d)"  # 张伟 | 男 | …
    r"|\d{1,2}\s*(?:岁|周岁)"  # 28岁
    r"|(?:19|20)\d{2}\s*年\s*(?:\d{1,2}\s*月\s*)?(?:出生|生人|生)(?![产活])"  # 1990年出生
    r"|(?:已婚|未婚|离异|丧偶)(?:已育|未育)?|(?:已育|未育|有子女|无子女)"
    r"|汉族|回族|满族|壮族|维吾尔族|藏族|苗族|彝族|蒙古族|朝鲜族|土家族"
    r"|农业户口|非农业?户口|城镇户口|农村户口"
    r"|(?:(?:附|见)?(?:个人)?(?:近期)?(?:免冠)?(?:彩色)?(?:一寸|二寸)?照片(?:见附件|附后|已附)?)"
    r"|\b(?:aged?\s+\d{1,2}|\d{1,2}\s*(?:years?\s*old|y/?o)\b)"
    r"|\bborn\s+(?:in\s+|on\s+)?(?:\w+\s+)?(?:\d{1,2},?\s+)?(?:19|20)\d{2}\b"
    r"|\b(?:single|married|divorced|widowed)\b(?=\s*(?:[,;|]|$|with|,?\s*(?:no\s+)?\d*\s*(?:children|kids)))"
    r"|\b(?:photo|picture)\s+(?:attached|enclosed|included|available)\b"
    r"|\b(?:male|female)\b"
)
_PRONOUNS = {
    "he": "they", "she": "they", "him": "them", "her": "their", "his": "their", "hers": "theirs",
    "himself": "themselves", "herself": "themselves", "mr": "", "mrs": "", "ms": "", "miss": "",
    "他": "其", "她": "其",
}  # fmt: skip
_PRONOUN = re.compile(
    r"(?i)\b(?:he|she|him|her|his|hers|himself|herself)\b|\b(?:mr|mrs|ms|miss)\b\.?|[他她](?![们])"
)


def _name_pattern(names: str | Sequence[str] | None) -> re.Pattern[str] | None:
    wholes = [names] if isinstance(names, str) else list(names or [])
    wholes = [n.strip() for n in wholes if n and n.strip()]
    parts = [
        p
        for whole in wholes
        for p in re.split(r"\s+", whole)
        if len(p) >= 2 or re.search(r"[\u4e00-\u9fff]", p)
    ]
    if not parts:
        return None
    alternatives = [re.escape(w) for w in sorted(wholes, key=len, reverse=True)]
    alternatives += [rf"\b{re.escape(p)}\b" for p in sorted(set(parts), key=len, reverse=True)]
    return re.compile("(?i)" + "|".join(alternatives))


def person_names(name: str | None, *texts: str | None) -> tuple[str, ...]:
    """Every way the person's name is written: the name field, and the names the texts give
    (姓名：李娜, a header line "张伟 | 后端工程师"), which may be in another script or the only
    name there is."""
    found = [name.strip()] if name and name.strip() else []
    for text in texts:
        found += names_in(text)
    return tuple(dict.fromkeys(found))


def neutralize(text: str, name: str | Sequence[str] | None = None) -> str:
    """The text with protected attributes, gendered pronouns and the person's name (or each
    of its ``names``) removed."""
    if not text:
        return text
    text = _LABELLED.sub("", text)
    text = _FREE.sub("", text)
    text = _PRONOUN.sub(lambda m: _PRONOUNS.get(m.group(0).lower().rstrip("."), ""), text)
    pattern = _name_pattern(name)
    if pattern is not None:
        text = pattern.sub("", text)
    # Leftover separators of removed fields ("张伟 |  | 本科" → "本科").
    text = re.sub(r"(?:\s*[|｜]\s*){2,}", " | ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"^[\s|｜,，]+|[\s|｜,，]+$", "", text, flags=re.MULTILINE)


def strip_contacts(text: str) -> str:
    """Text without e-mail addresses, phone and ID numbers, WeChat ids and QQ numbers: none
    of them is evidence of fit, and the search index must not hold them."""
    return remove_contacts(text) if text else text


def blind_text(text: str, name: str | Sequence[str] | None) -> str:
    """Text as blind screening shows it: no protected attributes, name or contacts."""
    return remove_contacts(neutralize(text, name), HIDDEN) if text else text


def _blind_strings(value: Any, names: Sequence[str]) -> Any:
    if isinstance(value, str):
        return blind_text(value, names)
    if isinstance(value, dict):
        return {k: _blind_strings(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_blind_strings(v, names) for v in value]
    return value


def blind_view(candidate: dict[str, Any]) -> dict[str, Any]:
    """A candidate as blind screening shows it: no name, contacts, age, gender, photo or
    other protected attributes, in the fields or in the texts (however the name is written
    there)."""
    names = person_names(candidate.get("name"), candidate.get("resume_text"),
                         candidate.get("summary"))  # fmt: skip
    out = dict(candidate)
    out.update(name=None, email=None, phone=None, external_id=None)
    for field in ("summary", "resume_text", "desired_titles", "experience", "education",
                  "languages", "certificates"):  # fmt: skip
        out[field] = _blind_strings(candidate.get(field), names)
    out["experience"] = out["experience"] or []
    extraction = candidate.get("extraction")
    if extraction:
        out["extraction"] = _blind_strings(
            {f: v for f, v in extraction.items() if f not in {"name", "email", "phone"}}, names
        )
    out["sources"] = []
    return out
