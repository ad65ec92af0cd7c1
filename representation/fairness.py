"""Protected attributes stay out of ranking, and out of sight in blind screening.

China's Employment Promotion Law and PIPL (and equal-opportunity law elsewhere) forbid
screening on gender, age, marital or childbearing status, ethnicity, hukou/origin, health
or looks. TalentMatch has no such fields; but résumés mention them ("性别：女", "1990年出生",
"已婚已育", "she led…", "photo attached"). ``neutralize`` removes those mentions, and the
candidate's name, from every text that matching or semantic search reads, so two résumés
that differ only there get the same vectors and the same scores (tests/representation/
test_fairness.py swaps them and checks). ``blind_view`` hides them from people too.
It reads every layout a résumé uses: table rows (性别 | 女 | 出生年月 | 1992.05), a table
read a cell per line, labelled lines, and prose about family and childbearing (怀孕中,
有两个孩子, "mother of two", "my husband"). ``protected_terms`` finds the same attributes in
a search query, which candidate search drops (``matching.search``).
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
# "label: value" up to the next separator (newline, |, ；, ，, two spaces) or the next
# "label:" of the same line ("性别：女 工作经验：5年" keeps the experience).
_LABELLED = re.compile(
    rf"(?i)(?<![A-Za-z])(?:{_LABELS})\s*[:：]\s*[^\n|｜；;，,。]*?"
    r"(?=\s{2,}|[\n|｜；;，,。]|\.\s|\s+[^\s:：|｜]{1,12}[:：]|$)"
)
# "label value" without a colon at the start of a line or cell ("年龄 30", "性别 女",
# "Gender Female", "Date of birth 1990-05-02"): only values of the attribute's own shape, as
# a line may start with a label word and go on with work ("健康 管理系统", "Race condition").
_CELL_START = r"(?:^|(?<=[\n\t|｜]))[ \t]*"
_SPACED = re.compile(
    rf"(?im){_CELL_START}(?:"
    r"性\s*别[ \t]+[男女]"
    r"|年\s*龄[ \t]+\d{1,2}\s*(?:岁|周岁)?"
    r"|(?:出生(?:年月|日期|年份)?|生\s*日)[ \t]+\d{4}[\d.\-/年月日]{0,8}"
    r"|(?:出生地|籍\s*贯|户\s*[口籍](?:所在地|性质)?)[ \t]+[\u4e00-\u9fff]{2,8}(?=[ \t]*(?:[\n|｜；;，,]|$))"
    r"|(?:婚姻(?:状况)?|婚\s*否|婚育(?:状况|情况)?|生育(?:状况|情况)?)[ \t]+"
    r"(?:[已未]婚(?:[已未]育)?|[已未]育|离异|丧偶|是|否|无|有)"
    r"|民\s*族[ \t]+[\u4e00-\u9fff]{1,4}(?=[ \t]*(?:[\n|｜；;，,]|$))"
    r"|(?:身\s*高|体\s*重)[ \t]+\d{2,3}(?:\.\d)?\s*(?:cm|kg|公斤|厘米|斤)?"
    r"|健康(?:状况)?[ \t]+(?:良好|健康|优|一般|好)"
    r"|政治面貌[ \t]+(?:中共党员|预备党员|党员|共青团员|团员|群众)"
    r"|(?:照\s*片|头\s*像)[ \t]+(?:见附件|附后|已附)"
    r"|(?:gender|sex)[ \t]+(?:male|female|m|f)\b"
    r"|(?:age|aged)[ \t]+\d{1,2}\b"
    r"|(?:date\s+of\s+birth|d\.?o\.?b\.?|birth\s*(?:date|day)|born)[ \t]+[\d./-]{4,10}"
    r"|marital\s+status[ \t]+(?:single|married|divorced|widowed)\b"
    r"|(?:height|weight)[ \t]+\d{2,3}(?:\.\d)?\s*(?:cm|kg|lbs?)?"
    r")"
)
# A table cell that holds only a label: its value is the next cell (性别 | 女 | 出生年月 |
# 1992.05), or, where a DOCX/PDF table comes out a cell per line, the next line.
_BARE_LABEL = re.compile(rf"(?i)^(?:{_LABELS}|姓\s*名|name)\s*[:：]?$")
_CELL_SEP = re.compile(r"(\t+|[ \t]*[|｜][ \t]*|[ \t]{2,})")
_VALUE_LINE_CHARS = 30


def _without_label_cells(text: str) -> str:
    """Drop protected label cells and the value cell after each."""
    out: list[str] = []
    value_pending = False  # the last line ended in a label: this line may hold its value
    for line in text.split("\n"):
        stripped = line.strip()
        if value_pending:
            value_pending = False
            if (stripped and len(stripped) <= _VALUE_LINE_CHARS
                    and not _BARE_LABEL.match(stripped) and not _CELL_SEP.search(stripped)):  # fmt: skip
                continue
        cells = _CELL_SEP.split(line)[0::2]
        kept: list[str] = []
        i = 0
        while i < len(cells):
            if _BARE_LABEL.match(cells[i].strip()):
                if i + 1 == len(cells):
                    value_pending = True
                elif not _BARE_LABEL.match(cells[i + 1].strip()):
                    i += 1  # the value
                i += 1
                continue
            kept.append(cells[i])
            i += 1
        if len(kept) == len(cells):
            out.append(line)  # nothing dropped: the line as written
        elif any(c.strip() for c in kept):
            out.append(" | ".join(c.strip() for c in kept if c.strip()))
    return "\n".join(out)


_CHILD_COUNT = r"(?:[一二两三四1-4]|one|two|three|four|\d)"
_FREE = re.compile(
    r"(?i)"
    r"(?<![\w])(?:男|女)(?:性|士)?(?![\w])"  # 张伟 | 男 | …, a table cell of its own
    r"|\d{1,2}\s*(?:岁|周岁)(?:以下|以上|以内|左右)?"  # 28岁
    r"|(?:19|20)\d{2}\s*年\s*(?:\d{1,2}\s*月\s*)?(?:出生|生人|生)(?![产活])"  # 1990年出生
    r"|(?:已婚|未婚|离异|丧偶|单身)(?:已育|未育)?|(?:已育|未育|有子女|无子女)"
    # Childbearing and family, however the prose puts it (怀孕中, 有两个孩子, 育有一子).
    r"|(?:目前|现)?(?:怀孕|孕期|备孕|哺乳期|休产假|产假)(?:中|期间)?|二胎|三胎|丁克|宝妈|宝爸"
    r"|育有(?:[一二两三\d][子女孩个]){1,4}"
    rf"|(?:育有|有|生有){_CHILD_COUNT}\s*(?:个|名)?\s*(?:孩子|小孩|子女|儿子|女儿|宝宝|孩)"
    r"|(?:一|二|两)(?:子|女)(?:一(?:子|女))?(?=[，,。；;\s]|$)"
    r"|(?:我的|我)?(?:丈夫|老公|妻子|老婆|爱人)[^，,。；;\n]*"  # the clause: 丈夫在深圳工作
    r"|汉族|回族|满族|壮族|维吾尔族|藏族|苗族|彝族|蒙古族|朝鲜族|土家族|侗族|瑶族|白族|"
    r"哈萨克族|傣族|黎族|畲族|少数民族"
    r"|(?:农业|非农业?|城镇|农村|本地|外地|深圳|广州|北京|上海)(?:户口|户籍)|深户"
    r"|身体健康|(?:健康|身体)状况良好|无(?:重大)?(?:疾病|病)史|无传染病"
    r"|(?:(?:附|见)?(?:个人)?(?:近期)?(?:免冠)?(?:彩色)?(?:一寸|二寸)?照片(?:见附件|附后|已附)?)"
    r"|\b(?:aged?\s+\d{1,2}|\d{1,2}\s*(?:years?\s*old|y/?o)\b)"
    r"|\bborn\s+(?:in\s+|on\s+)?(?:\w+\s+)?(?:\d{1,2},?\s+)?(?:19|20)\d{2}\b"
    r"|\b(?:single|married|divorced|widowed)\b(?=\s*(?:[,;|.]|$|with|,?\s*(?:no\s+)?\d*\s*(?:children|kids)))"
    r"|\b(?:photo|picture)\s+(?:attached|enclosed|included|available)\b"
    # Family in English prose: "mother of two", "my husband", "pregnant", "maternity leave".
    rf"|\b(?:single\s+|stay-at-home\s+|working\s+)?(?:mother|father|mom|mum|dad|parent)\s+of\s+{_CHILD_COUNT}\b"
    r"(?:\s+(?:children|kids|boys|girls|sons|daughters))?"
    r"|\b(?:single|stay-at-home|working)\s+(?:mother|father|mom|mum|dad|parent)\b"
    r"|\b(?:my|his|her|their|our)\s+(?:husband|wife|spouse)\b[^,.;\n]*"
    r"|\b(?:my|his|her|their|our)\s+(?:sons?|daughters?|children|kids|child|bab(?:y|ies))\b"
    rf"|\b(?:(?:has|have|with)\s+)?(?:{_CHILD_COUNT}|a|no)\s+(?:young\s+)?(?:children|kids|sons?|daughters?|child)\b"
    r"|\b(?:currently\s+)?(?:pregnant|pregnancy|expecting\s+a\s+(?:baby|child))\b"
    r"|\b(?:(?:returning|back)\s+from\s+|on\s+|after\s+)?(?:maternity|paternity|parental)(?:\s+leave)?\b"
    r"|\b(?:husband|wife|mother|father|mom|mum|woman|women|girl|lady)\b"
    r"|\b(?:male|female)\b"
)
# An English age written as a bare number beside the person or the title, where no unit
# says it is one: "Jane Doe (32)", "Registered Nurse, 32, Shanghai", "(F, 32)", "(32/M)".
# Only a two-digit number of working age, and only in those places: right after the
# capitalized words a line starts with (a header: name or title), or in a bracket beside a
# sex letter. Years of experience ("5 years"), pay ("25k"), counts ("team of 32"), versions
# ("Python 3.11"), dates and phone numbers have a unit, a longer number, or another place.
_AGE_NUMBER = r"(?:1[6-9]|[2-6]\d)"
_HEADER_AGE = re.compile(
    r"(?m)^([ \t]*[A-Z][\w.'’-]*(?:[ \t]+[A-Z][\w.'’-]*){0,3})[ \t]*"
    rf"(?:[(（][ \t]*{_AGE_NUMBER}[ \t]*[)）]"
    rf"|,[ \t]*{_AGE_NUMBER}(?=[ \t]*(?:[,;|｜]|\.(?:\s|$)|$)))"
)
_SEX_MARK = r"(?:[MF]|male|female)"
_SEXED_AGE = re.compile(
    rf"(?i)[ \t]*[(（][ \t]*(?:{_SEX_MARK}(?:[ \t]*[,，/;][ \t]*|[ \t]+){_AGE_NUMBER}"
    rf"|{_AGE_NUMBER}[ \t]*[,，/;][ \t]*{_SEX_MARK})[ \t]*[)）]"
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


_BRACKET_LEAD = re.compile(r"([（(【\[])[ \t]*(?:[,，、;；][ \t]*)+")
_BRACKET_TRAIL = re.compile(r"(?:[ \t]*[,，、;；])+[ \t]*([)）】\]])")
# Full-width brackets left empty, or ASCII ones standing apart ("经验 () 五年"); "f()" stays.
_EMPTY_BRACKETS = re.compile(
    r"[ \t]*(?:[（【][ \t]*[）】]|(?:(?<=\s)|^)(?:\([ \t]*\)|\[[ \t]*\]))", re.MULTILINE
)


def neutralize(text: str, name: str | Sequence[str] | None = None) -> str:
    """The text with protected attributes, gendered pronouns and the person's name (or each
    of its ``names``) removed."""
    if not text:
        return text
    text = _without_label_cells(text)
    text = _LABELLED.sub("", text)
    text = _SPACED.sub("", text)
    text = _SEXED_AGE.sub("", text)
    text = _HEADER_AGE.sub(r"\1", text)
    text = _FREE.sub("", text)
    text = _PRONOUN.sub(lambda m: _PRONOUNS.get(m.group(0).lower().rstrip("."), ""), text)
    pattern = _name_pattern(name)
    if pattern is not None:
        text = pattern.sub("", text)
    # Leftover separators of removed fields ("张伟 |  | 本科" → "本科").
    text = re.sub(r"(?:\s*[|｜]\s*){2,}", " | ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    # Punctuation left behind a removed clause ("Python. , returning" → "Python.").
    text = re.sub(r"(?<=[.。;；,，:：])[ \t]*(?:[,，;；.。][ \t]*)+(?=\s|$)", "", text)
    # Brackets that held a removed attribute ("护士（女，32岁）" → "护士", "(female, 5 years)" →
    # "(5 years)"): separators left at their edges go, then brackets left empty.
    text = _BRACKET_LEAD.sub(r"\1", text)
    text = _BRACKET_TRAIL.sub(r"\1", text)
    text = _EMPTY_BRACKETS.sub("", text)
    return re.sub(r"^(?:[\s|｜,，。；;]|\.(?=\s|$))+|[\s|｜,，;；]+$", "", text, flags=re.MULTILINE)


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


# -- protected terms in a search query ------------------------------------------------------

# What a candidate query may not select people on, by the reason reported back. Queries are
# short, so single words count here that prose neutralization leaves alone ("女", "married").
_CJK = r"\u4e00-\u9fff"
_QUERY_TERMS: dict[str, str] = {
    "sex": rf"男女不限|不限男女|性别(?:不限)?|限(?:男|女)(?:性|生)?|(?:男|女)(?:性|生|士)(?![装鞋包童款式])"
    rf"|(?<![{_CJK}])(?:男|女)(?:孩)?(?![装鞋包童款式])"
    r"|\b(?:females?|males?|wom[ae]n|m[ae]n|girls?|boys?|lad(?:y|ies)|gentlem[ae]n|sex|gender"
    r"|she|he|her|him|his)\b",
    "age": r"\d{1,2}\s*(?:[-~～到至]\s*\d{1,2}\s*)?(?:岁|周岁)(?:以下|以上|以内|左右|之间)?"
    r"|(?:19|20)?\d[05]后|年龄(?:\s*[:：]?\s*\d{1,2}(?:\s*[-~～到至]\s*\d{1,2})?\s*(?:岁|周岁)?"
    r"(?:以下|以上|以内)?)?|年轻|年纪"
    r"|\b(?:under|over|below|above|younger\s+than|older\s+than)\s+\d{2}\b"
    r"|\baged?\s+\d{1,2}(?:\s*[-–]\s*\d{1,2})?\b|\b\d{2}\s*(?:years?\s*old|y/?o)\b"
    r"|\b(?:young|age|aged)\b",
    "marital_status": r"已婚|未婚|离异|丧偶|单身|婚否|婚姻(?:状况)?"
    r"|\b(?:married|unmarried|divorced|widowed|spouse|marital)\b"
    r"|\bsingle\b(?![\s-]*(?:sign|page|source|thread|board|point))",
    "childbearing": r"已育|未育|已生育|未生育|生育|怀孕|孕妇|孕期|备孕|哺乳期|产假|二胎|三胎|无子女|有子女"
    r"|有孩子|没孩子|丁克|宝妈|宝爸"
    r"|\b(?:pregnant|pregnancy|maternity|paternity|mothers?|fathers?|moms?|mums?|dads?"
    r"|childless|children|kids?)\b",
    "ethnicity": r"少数民族|民族|汉族|回族|满族|壮族|维吾尔族|藏族|苗族|彝族|蒙古族|朝鲜族|土家族|侗族|瑶族|白族"
    r"|哈萨克族|傣族|黎族|畲族"
    r"|\b(?:ethnicity|ethnic|race|han\s+chinese|uyghurs?|uighurs?|tibetans?|kazakhs?)\b",
    "religion": r"宗教|信仰|穆斯林|基督徒|佛教徒"
    r"|\b(?:religion|religious|muslims?|christians?|buddhists?|hindus?|jewish)\b",
    # Not the 户口 of 客户口碑 (客户, 用户, 账户 end in 户).
    "hukou_or_origin": r"(?:(?:本地|外地|农业|非农业?|城镇|农村|深圳|广州|北京|上海|广东)(?:户口|户籍)"
    r"|(?<![客用住账商散开])(?:户口|户籍))(?:优先)?"
    r"|深户|本地人|外地人|籍贯|老乡|[京沪粤深穗津渝]籍"
    r"|\b(?:hukou|native\s+of|locals?\s+only|place\s+of\s+origin|nationality|hometown)\b",
    "health": r"身体健康|健康状况|无病史|乙肝|残疾|残障|体检合格|身高|体重|五官端正|形象好|相貌|颜值|长相"
    r"|\b(?:healthy|disabled|disabilit(?:y|ies)|hiv|hepatitis|height|weight|attractive"
    r"|good[- ]looking|in\s+good\s+health)\b",
}  # fmt: skip
_QUERY_TERM = re.compile(
    "(?i)" + "|".join(f"(?P<{reason}>{pattern})" for reason, pattern in _QUERY_TERMS.items())
)


def protected_terms(query: str) -> list[tuple[str, str, int, int]]:
    """The protected terms of a search query: (term, reason, start, end), in order. Reasons:
    sex, age, marital_status, childbearing, ethnicity, religion, hukou_or_origin, health."""
    return [
        (m.group(0), str(m.lastgroup), m.start(), m.end())
        for m in _QUERY_TERM.finditer(query or "")
        if m.group(0).strip()
    ]
