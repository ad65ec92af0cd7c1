"""Contacts and names in free text: the one set of patterns that extraction (ingestion),
masking (responses to keys without ``candidates:contact``) and removal (search index,
embeddings, blind screening) all use, so that what one of them recognizes the others do too.

Recognized: e-mail addresses; mainland mobiles (+86 optional); resident ID numbers; mainland
landlines (``0755-26881234``, ``(0755) 2688 1234``, ``0755 26881234``); international
numbers written with ``+`` or ``00`` (``+852 9123 4567``, ``+1 415 555 0134``); Taiwan
mobiles (``0912-345-678``); any number after a phone label (``电话：9123 4567``,
``Tel: 2688 1234``); WeChat ids after a WeChat label (``微信：zhang_wei88``, ``wx: abc123``);
QQ numbers after a QQ label (``QQ号 123456789``).

Not contacts, and left alone: salaries (``15-25K``), dates (``2019.07-2021.03``), years,
prices, version numbers, posting ids — a bare number is a contact only in a phone's shape
(leading 0 area code, 1[3-9] mobile prefix, + country code) or after a label.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEP = r"[ \t-]"  # inside a number; never a newline: a phone does not continue on the next line

# The groups of EMAIL, MOBILE and ID_NUMBER are what masking keeps visible.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*"
    r"(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
# Never inside a longer token (a UUID's "-0103-4230-8756-", a hex digest, a product code).
_START = r"(?<![A-Za-z0-9_.-])"
_END = r"(?![A-Za-z0-9_]|[.-][A-Za-z0-9])"
MOBILE = re.compile(
    rf"{_START}((?:(?:\+|00)?86{_SEP}?)?1[3-9]\d){_SEP}?\d{{4}}{_SEP}?(\d{{4}}){_END}"
)
ID_NUMBER = re.compile(r"(?<![A-Za-z0-9_])(\d{6})(?:19|20)\d{6}(\d{3}[\dXx])(?![\dA-Za-z])")
# An area code (0 and 2-3 digits, never 00) and a 7-8 digit local number, an extension.
LANDLINE = re.compile(
    rf"(?:\(0[1-9]\d{{1,2}}\)[ \t]?|{_START}0[1-9]\d{{1,2}}{_SEP}?)\d{{3,4}}{_SEP}?\d{{4}}"
    rf"(?:[ \t]*(?:转|ext\.?|x)[ \t]*\d{{1,5}})?{_END}"
)
# + or 00, a country code, then groups: at least 8 digits in all.
INTERNATIONAL = re.compile(
    r"(?:(?<![\w+])\+|(?<![^\s(（:：])00)(?=(?:[ ().-]{0,2}\d){8,15}(?!\d))"
    r"\d{1,3}(?:[ .-]{0,2}\(?\d{1,4}\)?){1,5}(?!\d)"
)
TAIWAN_MOBILE = re.compile(rf"{_START}09\d{{2}}{_SEP}?\d{{3}}{_SEP}?\d{{3}}{_END}")
_PHONE_LABEL = (
    r"(?:联系)?电话(?:号码)?|手机(?:号码?)?|联系方式|移动电话|座机|"
    r"(?<![A-Za-z])(?:tel|telephone|phone|mobile|mob|cell|contact)(?:\s*(?:no|number|#))?\.?(?![A-Za-z])"
)
# Any number written after a phone label (Hong Kong and Macau numbers have no prefix).
LABELLED_PHONE = re.compile(
    rf"(?i)(?:{_PHONE_LABEL})(?:[ \t]*[:：][ \t]*| ?)"
    r"(\(?\+?\d(?=(?:[ \t().-]{0,2}\d){6,14}(?!\d))(?:[ \t().-]{0,2}\d){6,14})(?!\d)"
)
_WECHAT_LABEL = r"微信|weixin|wechat|wx|vx|v信|威信"
WECHAT = re.compile(
    rf"(?i)(?<![A-Za-z])(?:(?:{_WECHAT_LABEL})(?:[ \t]*(?:号|id))?[ \t]*[:：]|"
    r"(?:微信|wechat|weixin)[ \t]*(?:号|id)[ \t]+)"
    r"[ \t]*([A-Za-z0-9][-_A-Za-z0-9]{3,19})(?![-_A-Za-z0-9])"
)
QQ = re.compile(r"(?i)(?<![A-Za-z])QQ(?:[ \t]*号码?)?[ \t]*[:：]?[ \t]*(\d{5,11})(?!\d)")

_PHONE_NUMBERS = (MOBILE, INTERNATIONAL, TAIWAN_MOBILE, LANDLINE)
_ALL = (EMAIL, WECHAT, QQ, LABELLED_PHONE, *_PHONE_NUMBERS, ID_NUMBER)
# Any contact, for removing contacts outright (index texts, blind screening). The labelled
# alternatives come first so that a label goes with its number.
CONTACT = re.compile("|".join(f"(?:{p.pattern.removeprefix('(?i)')})" for p in _ALL), re.I)


def _mask_number(number: str) -> str:
    """``0755-26881234`` → ``0755-******34``: the country or area code and the last two
    digits stay (enough to tell numbers apart), every other digit is hidden."""
    prefix = re.match(r"\+\d{1,3}|00\d{1,3}|\(?0\d{1,3}\)?|", number)
    head = prefix.group(0) if prefix else ""
    body = number[len(head) :]
    digits = [i for i, ch in enumerate(body) if ch.isdigit()]
    keep = set(digits[-2:])
    return head + "".join(
        "*" if ch.isdigit() and i not in keep else ch for i, ch in enumerate(body)
    )


def _masked(match: re.Match[str]) -> str:
    text = match.group(0)
    for pattern, mask in _MASKS:
        found = pattern.fullmatch(text)
        if found:
            return mask(found)
    return "****"


def _mask_labelled(match: re.Match[str]) -> str:
    return match.group(0)[: match.start(1) - match.start(0)] + "****"


def _mask_labelled_number(match: re.Match[str]) -> str:
    label = match.group(0)[: match.start(1) - match.start(0)]
    mobile = MOBILE.fullmatch(match.group(1))
    return label + (
        f"{mobile.group(1)}****{mobile.group(2)}" if mobile else _mask_number(match.group(1))
    )


_MASKS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (EMAIL, lambda m: f"{m.group(1)}***{m.group(2)}"),
    (WECHAT, _mask_labelled),
    (QQ, _mask_labelled),
    (LABELLED_PHONE, _mask_labelled_number),
    (MOBILE, lambda m: f"{m.group(1)}****{m.group(2)}"),
    (ID_NUMBER, lambda m: f"{m.group(1)}********{m.group(2)}"),
    (INTERNATIONAL, lambda m: _mask_number(m.group(0))),
    (TAIWAN_MOBILE, lambda m: _mask_number(m.group(0))),
    (LANDLINE, lambda m: _mask_number(m.group(0))),
)


def mask_contacts(text: str) -> str:
    """Every contact in the text masked: ``z***@example.com``, ``138****5678``,
    ``0755-******34``, ``微信：****``; the text around them unchanged."""
    return CONTACT.sub(_masked, text) if text else text


def remove_contacts(text: str, replacement: str = "") -> str:
    """Every contact in the text replaced. Labels stay ("电话：", "微信："): the same text
    with its contacts deleted by hand then reads the same, for duplicate detection."""

    def removed(match: re.Match[str]) -> str:
        for pattern in (WECHAT, QQ, LABELLED_PHONE):
            found = pattern.fullmatch(match.group(0))
            if found:
                return found.group(0)[: found.start(1)] + replacement
        return replacement

    return CONTACT.sub(removed, text) if text else text


def find_phone(text: str) -> re.Match[str] | None:
    """The first phone number of a text: a mainland mobile where there is one (what a
    résumé's owner answers), else the first number in any other phone shape."""
    mobile = MOBILE.search(text)
    if mobile:
        return mobile
    found = [m for p in (INTERNATIONAL, TAIWAN_MOBILE, LANDLINE) if (m := p.search(text))]
    return min(found, key=lambda m: m.start()) if found else None


# -- names ------------------------------------------------------------------------------------

# "姓名：李娜" / "Name: Wei Zhang" / a table row "姓名 | 王建国" / bilingual "Name 姓名: Linda Wu"
# (the value up to a separator; ``name_value`` trims what follows it on the line).
NAME_LABEL = re.compile(
    r"(?:姓\s*名|name)(?:\s+(?:姓\s*名|name))?\s*[:：|｜]\s*([^\n|｜,，;；]{1,40})", re.I
)
# A résumé that opens with a bare name: 2–4 Chinese characters or 2–3 capitalized words.
FIRST_LINE_NAME = re.compile(
    r"\s*([\u4e00-\u9fff]{2,4}|[A-Z][a-z]+(?: [A-Z][a-z]+){1,2})\s*(?:\n|$)"
)
# What separates a name from a title or contacts on a header line: "张伟 | 后端工程师",
# "Sarah Johnson — Product Manager", "HANNAH LEE  |  Senior Accountant", "吴磊  男  29岁",
# "Mary Major (F, 38)".
_HEADER_SPLIT = re.compile(r"\s*(?:[|｜/,，·•(（]|\s[-–—]{1,2}\s|[ \t]{2,}|\t)\s*")
_SCRIPT_RUNS = re.compile(r"[\u4e00-\u9fff·]+|[^\u4e00-\u9fff\s\d]+(?:\s+[^\u4e00-\u9fff\s\d]+)*")
# Lines that head a résumé without naming anyone: "个 人 简 历", "Resume 个人简历", "CV".
_DOCUMENT_HEADINGS = re.compile(
    r"(?:个人简历|求职简历|简历|个人信息|基本信息|应聘登记表|求职登记表|个人资料|resume|résumé|cv"
    r"|curriculumvitae)+",
    re.I,
)
# A board export's first lines about the document, not the person: "简历编号：ID:3021".
_DOCUMENT_META = re.compile(
    r"(?:简历编号|简历ID|更新时间|更新日期|投递时间|简历来源|resume id)\s*[:：]", re.I
)
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳"
    "甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边"
    "卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Characters of job titles and résumé headings, never after the surname in a name of 2–4.
_NOT_IN_NAMES = set("师员理经发计管监历职售营程务习教术工专销级端岗位简介绍")
_NOT_NAME_WORDS = {
    "resume", "curriculum", "vitae", "cv", "engineer", "developer", "manager", "senior",
    "junior", "lead", "software", "profile", "summary", "designer", "analyst", "personal",
    "contact", "information", "objective", "experience", "education", "skills", "data",
    "product", "project", "sales", "marketing", "backend", "frontend", "full", "stack",
    "intern", "director", "consultant", "scientist", "architect", "specialist", "assistant",
    "officer", "executive", "accountant", "teacher", "technical", "work", "career",
    "languages", "employment", "professional", "history", "references", "certificates",
    "nurse", "registered", "researcher", "coordinator", "administrator", "associate",
    "mechanical", "research", "clinical", "supply", "chain", "devops", "reliability",
}  # fmt: skip


def _name_word(word: str) -> bool:
    """A capitalized or all-capital word of letters: Raj, PATEL, O'Brien, MÜLLER, Jean-Luc."""
    letters = re.sub(r"['’.-]", "", word)
    if not letters.isalpha() or not letters.isascii() and not letters.isalpha():
        return False
    if re.search(r"[\u4e00-\u9fff]", letters) or not word[0].isupper():
        return False
    parts = re.split(r"['’-]", word)
    return word.isupper() or all(p[:1].isupper() and p[1:] == p[1:].lower() for p in parts if p)


def looks_like_name(value: str) -> bool:
    """Whether a short string reads as a person's name: 2–4 Chinese characters starting with
    a common surname, or 1–3 capitalized (or all-capital) words that are not a job title or
    heading."""
    value = value.strip()
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", value):
        return (
            value[0] in _SURNAMES or value[:2] in {"欧阳", "司马", "上官", "诸葛", "东方"}
        ) and (not _NOT_IN_NAMES & set(value[1:]))
    words = value.split()
    return (
        1 <= len(words) <= 3
        and all(_name_word(w) and (len(w) > 1 or w.isupper()) for w in words)
        and not (len(words) == 1 and words[0].isupper() and len(words[0]) <= 3)
        and not any(w.lower().strip(".'") in _NOT_NAME_WORDS for w in words)
    )


def display_name(name: str) -> str:
    """A name as it is shown: an all-capital Latin name in title case (``RAJ PATEL`` → ``Raj
    Patel``, ``O'BRIEN`` → ``O'Brien``); anything else as written."""
    if not re.search(r"[A-Za-z]", name) or name != name.upper():
        return name.strip()
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name.strip())


def name_value(value: str) -> str | None:
    """The name in a labelled value or a header segment: what follows it on the line (a
    second label, a gender, a title after two spaces) is cut, and of a bilingual value
    ("陈嘉豪 Jason Chen", "Linda Wu 吴琳") the first script's name is kept."""
    value = re.split(r"[ \t]{2,}|\t|\s+\S{1,8}[:：]", value.strip())[0].strip()
    for run in _SCRIPT_RUNS.findall(value):
        run = run.strip()
        # One Latin word alone ("Company", "Python") is rarely the whole of a name.
        if looks_like_name(run) and (re.search(r"[\u4e00-\u9fff]", run) or " " in run):
            return run
    return None


def _at_field_start(text: str, position: int) -> bool:
    # A label that starts a line or a field: "Company Name: Tencent" names no person.
    return text[:position].rstrip(" \t")[-1:] in ("", "\n", "|", "｜", ",", "，", ";", "；")


def find_name(text: str) -> tuple[str, int, int, float] | None:
    """The person's name, its span and a confidence: a labelled name (0.95), else the head of
    one of the first lines that do not merely head the document (0.8)."""
    for match in NAME_LABEL.finditer(text):
        if not _at_field_start(text, match.start()):
            continue
        value = name_value(match.group(1))
        if value:
            start = text.index(value, match.start(1))
            return display_name(value), start, start + len(value), 0.95
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        position, offset = offset, offset + len(line)
        if not stripped:
            continue
        if _DOCUMENT_HEADINGS.fullmatch(re.sub(r"[\s【】\[\]:：#*]", "", stripped)):
            continue
        if _DOCUMENT_META.match(stripped):
            continue
        # Only the first line that is not a document heading: later lines are titles,
        # places and skills, which a name check alone cannot tell apart.
        value = name_value(_HEADER_SPLIT.split(stripped.lstrip("#* "), maxsplit=1)[0])
        if value:
            start = position + line.index(value)
            return display_name(value), start, start + len(value), 0.8
        return None
    return None


def names_in(text: str | None) -> list[str]:
    """The person's name as a résumé writes it: labelled (姓名：李娜, Name: …) or alone at
    the head of one of the first lines (张伟 | 后端工程师, RAJ PATEL), as written and as
    shown."""
    if not text:
        return []
    found = [
        value
        for m in NAME_LABEL.finditer(text)
        if _at_field_start(text, m.start()) and (value := name_value(m.group(1)))
    ]
    named = find_name(text)
    if named:
        start, end = named[1], named[2]
        found += [text[start:end], named[0]]
    return list(dict.fromkeys(found))
