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
from typing import Any

from store.pii import CONTACT

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


def _name_pattern(name: str | None) -> re.Pattern[str] | None:
    parts = [
        p
        for p in re.split(r"\s+", (name or "").strip())
        if len(p) >= 2 or re.search(r"[\u4e00-\u9fff]", p)
    ]
    if not parts:
        return None
    whole = re.escape((name or "").strip())
    return re.compile(rf"(?i){whole}|" + "|".join(rf"\b{re.escape(p)}\b" for p in parts))


def neutralize(text: str, name: str | None = None) -> str:
    """The text with protected attributes, gendered pronouns and the person's name removed."""
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
    """Text without e-mail addresses, phone and ID numbers: none of them is evidence of fit,
    and the search index must not hold them."""
    return CONTACT.sub("", text) if text else text


def blind_text(text: str, name: str | None) -> str:
    """Text as blind screening shows it: no protected attributes, name or contacts."""
    return CONTACT.sub(HIDDEN, neutralize(text, name)) if text else text


def blind_view(candidate: dict[str, Any]) -> dict[str, Any]:
    """A candidate as blind screening shows it: no name, contacts, age, gender, photo or
    other protected attributes, in the fields or in the texts."""
    name = candidate.get("name")

    def clean(text: str | None) -> str | None:
        return blind_text(text, name) if text else text

    out = dict(candidate)
    out.update(name=None, email=None, phone=None, external_id=None)
    out["summary"] = clean(candidate.get("summary"))
    out["resume_text"] = clean(candidate.get("resume_text"))
    out["experience"] = [
        {**entry, "description": clean(entry.get("description"))}
        for entry in candidate.get("experience") or []
    ]
    extraction = candidate.get("extraction")
    if extraction:
        out["extraction"] = {
            field: value
            for field, value in extraction.items()
            if field not in {"name", "email", "phone"}
        }
    out["sources"] = []
    return out
