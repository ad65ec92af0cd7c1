"""Discriminatory requirements in job postings (``../shared/reference/posting_compliance.md``):
the one set of patterns every write path checks a posting with, and the text that explains a
flag in Chinese or English.

``check_posting`` is pure and fast (precompiled patterns; well under a millisecond for a
posting): it normalizes each field (full-width to half-width, traditional to simplified
characters, case, the spaces that split Chinese words or digits) and matches on that, and
keeps every span on the original text. A flag is stored language-neutral
(``Flag.as_stored``); ``render_flag`` adds the legal basis, the explanation and the
suggestion in the reader's language when a response shows it.

Not flagged: 男女不限 / 性别不限; product and department words (女装, 母婴用品, 妇产科);
lawful certificates (餐饮健康证); benefits (产假); a legal minimum age (年满18周岁); invitations
(欢迎残疾人士); language skills; a sex limit stated with its lawful reason (井下作业依法不招用
女职工, the 女职工禁忌劳动范围); a duty that names school tiers (负责985高校的校园招聘).

Example::

    >>> result = check_posting("仓管", "限男性，35岁以下。")
    >>> result.status, [f.category for f in result.flags]
    ('unlawful', ['sex', 'age'])
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

UNLAWFUL, ADVISORY, OK = "unlawful", "advisory", "ok"
STATUSES = (OK, ADVISORY, UNLAWFUL)
LEVELS = (UNLAWFUL, ADVISORY)

# How serious each category is, as the reference grades it.
LEVEL_OF: dict[str, str] = {
    "sex": UNLAWFUL,
    "marital_childbearing": UNLAWFUL,
    "pregnancy_test": UNLAWFUL,
    "age": ADVISORY,
    "ethnicity_religion": UNLAWFUL,
    "hukou_origin": UNLAWFUL,
    "health": UNLAWFUL,
    "disability": UNLAWFUL,
    "school_tier": ADVISORY,
    "appearance": ADVISORY,
}
CATEGORIES = tuple(LEVEL_OF)

# ---------------------------------------------------------------------------------------
# Normalization: length-preserving character mapping, then removal of the spaces that split
# Chinese words and digits ("限 男 性", "9 8 5"), with a map back to the original offsets.

# Traditional forms of the characters the patterns use (and their neighbours in postings).
_TRADITIONAL = (
    "優优 戶户 漢汉 歲岁 齡龄 檢检 體体 擾扰 攜携 帶带 殘残 須须 畢毕 業业 氣气 質质 職职 週周 滿满 應应 屆届 歡欢 錄录 僅仅 祇只 衹只 齊齐 婦妇 "
    "產产 務务 區区 縣县 書书 學学 歷历 統统 級级 類类 賓宾 長长 顏颜 標标 準准 嬰婴 試试 驗验 陽阳 與与 說说 計计 劃划 畫划 實实 際际 關关 係系 "
    "無无 啞哑 聾聋 視视 聽听 瘋疯 廠厂 倉仓 場场 員员 們们 動动 勞劳 護护 醫医 療疗 藥药 規规 門门 個个 條条 範范 圍围 經经 後后 內内 裡里 裏里 "
    "為为 於于 這这 樣样 對对 歸归 屬属 貫贯 農农 廣广 東东 陝陕 蘇苏 濟济 維维 爾尔 鮮鲜 稱称 礎础 專专 雙双 紀纪 選选 輕轻 華华 麗丽 閱阅 讀读 "
    "懷怀 測测 報报 項项 兩两 陰阴 觀观 執执 證证 礦矿 幹干 責责 禮礼 儀仪 態态 臉脸 聲声 顧顾 慮虑 謝谢 絕绝 誠诚 聯联 參参 團团 邊边 頭头 腦脑 "
    "聰聪 齒齿 顯显 環环 進进 遠远 電电 話话 運运 營营 銷销 險险 額额 數数 擁拥 斷断 將将 狀状 況况 "
)
_CHAR_MAP: dict[int, str] = {}
for _pair in _TRADITIONAL.split():
    _CHAR_MAP[ord(_pair[0])] = _pair[1]
for _code in range(0xFF01, 0xFF5F):  # full-width ASCII
    _CHAR_MAP[_code] = chr(_code - 0xFEE0)
_CHAR_MAP.update({0x3000: " ", ord("～"): "~", ord("－"): "-", ord("—"): "-", ord("–"): "-"})
_TRANSLATION = str.maketrans(_CHAR_MAP)

# A space run goes when it touches a non-ASCII character or sits between two digits.
_SPLITTING_SPACE = re.compile(r"(?<=[^\x00-\x7f])[ \t]+|[ \t]+(?=[^\x00-\x7f])|(?<=\d)[ \t]+(?=\d)")
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")


@dataclass(frozen=True)
class _Normalized:
    text: str
    # (position in the normalized text, characters removed before it) at each removal.
    removed_at: tuple[int, ...]
    removed_before: tuple[int, ...]

    def original(self, position: int) -> int:
        """The original offset of a normalized offset."""
        i = bisect_right(self.removed_at, position)
        return position + (self.removed_before[i - 1] if i else 0)


def _normalize(text: str) -> _Normalized:
    mapped = text.translate(_TRANSLATION)
    lowered = mapped.lower()
    if len(lowered) != len(mapped):  # a letter whose lower case is longer ("İ"): keep case
        lowered = mapped
    pieces: list[str] = []
    at: list[int] = []
    before: list[int] = []
    last = removed = 0
    for match in _SPLITTING_SPACE.finditer(lowered):
        pieces.append(lowered[last : match.start()])
        removed += match.end() - match.start()
        at.append(match.start() - (removed - (match.end() - match.start())))
        before.append(removed)
        last = match.end()
    if not at:
        return _Normalized(lowered, (), ())
    pieces.append(lowered[last:])
    return _Normalized("".join(pieces), tuple(at), tuple(before))


# ---------------------------------------------------------------------------------------
# Patterns, on normalized text (simplified, half-width, lower case, Chinese unspaced).

_SEX = r"(?:男|女)(?:性|生|士|的)?"
_PROVINCES = (
    r"(?:河南|河北|湖南|湖北|山东|山西|广东|广西|福建|江西|安徽|四川|贵州|云南|新疆|西藏|甘肃|青海|"
    r"宁夏|内蒙古?|黑龙江|吉林|辽宁|东北|江苏|浙江|陕西|海南|重庆|潮汕|外地|外省|本地|本市|本省|"
    r"深圳|北京|上海|广州|天津)"
)
_EN_SEX = r"(?:male|female|men|women|man|woman)"
_AGE_BOUND = r"(?:以下|以内|之内|及以下)"

_PATTERNS: dict[str, list[str]] = {
    "sex": [
        rf"(?<!不)(?:只|仅|限)(?:限|招|招聘|要|收)?{_SEX}(?![女男装科]|职工禁忌)",
        rf"{_SEX}(?:者)?(?:优先|更佳|为佳)",
        rf"不(?:招|要|收|考虑|录用)(?:用|收)?{_SEX}",
        rf"{_SEX}勿扰",
        rf"性别(?:要求)?[:：]?{_SEX}(?![女男不])",
        r"(?:^|(?<=[:：，,。；;、\s]))(?:男|女)(?=[，,、;；])(?![、，,]女|[、，,]男)",
        r"招(?:聘)?(?:一名)?(?:年轻)?(?:男|女)(?:性)?(?:前台|文员|秘书|助理|司机|保安|客服|主播|模特|"
        r"员工|工人|普工|销售)",
        rf"适合{_SEX}",
        rf"\b{_EN_SEX}(?: candidates| applicants)? only\b",
        rf"\bonly {_EN_SEX}\b",
        rf"\b{_EN_SEX}(?: candidates| applicants)? (?:are )?preferred\b",
        rf"\bpreference (?:will be |is )?given to {_EN_SEX}",
        r"\bgender: ?(?:male|female)\b",
        r"\b(?:female|male) (?:receptionist|secretary|assistant|driver|staff|model)s?\b",
        r"(?:^|(?<=[.;!?\n] )|(?<=\n))(?:male|female)(?=[,;])",
    ],
    "marital_childbearing": [
        r"(?:已婚|未婚)(?:已育|未育)(?:者)?(?:优先(?:考虑)?|勿扰)?",
        r"(?:限|要求|须|需|必须)(?:为)?(?:未婚|已婚|单身)",
        r"(?:未婚|已婚|单身)(?:者|人士)?(?:优先|勿扰|不考虑)",
        r"婚育状况[:：](?:已婚|未婚)",
        r"(?:^|(?<=[，,：:；;、]))(?:未婚|已婚|单身)(?=[，,。；;]|$)",
        r"(?:\d|[一二两三四五])年内(?:无|不得|不能|不可|暂无)(?:生育|生孩子|怀孕|要孩子)(?:计划)?",
        r"(?:说明|告知|填写|提供)(?:婚育|婚姻|生育)(?:情况|状况|计划)",
        r"\bmarried (?:with children )?(?:preferred|only)\b",
        r"\bmust be (?:single|married)\b",
        r"\b(?:unmarried|single|married) (?:candidates|applicants)(?: only| preferred)\b",
        r"\bno plans? to have (?:children|kids|a baby)",
        r"\b(?:state|disclose|provide) (?:your )?marital status",
        r"\bmust not (?:become|get) pregnant",
    ],
    "pregnancy_test": [
        r"孕检|验孕|妊娠(?:检测|试验|检查)|hcg(?:检测|检查)",
        r"\bpregnancy test",
    ],
    "age": [
        rf"\d{{2}}周?岁{_AGE_BOUND}",
        r"\d{2}(?:周?岁)?(?:-|~|至|到)\d{2}周?岁",
        r"(?:不超过|不大于|不高于|小于|低于)\d{2}周?岁",
        r"(?:限|要求|仅限|只要)(?:[789]0|[789]5|00)后",
        r"(?:[789]0|[789]5|00)后优先",
        r"\bunder \d{2}(?=\s*(?:years|yrs|y\.?o\.?|only|[,.;)]|$))",
        r"\bage[ds]?:? ?\d{2} ?(?:-|to) ?\d{2}\b",
        r"\b(?:maximum|max\.?) age:? ?\d{2}",
        r"\bage limit:? ?\d{2}",
        r"\b(?:below|younger than|not older than|no older than) \d{2}\b",
    ],
    "ethnicity_religion": [
        r"(?<!不)(?:限|仅招|只招|仅限|要求|只要)汉族",
        r"民族[:：]汉族",
        r"(?:[\u4e00-\u9fff]{1,3}族|少数民族|穆斯林|回民|基督徒|佛教徒)(?:人员|员工|人士)?"
        r"(?:勿扰|不考虑|不予录用|谢绝)",
        r"不招(?:收)?(?:少数民族|[\u4e00-\u9fff]{1,3}族|穆斯林|回民)",
        r"(?:无宗教信仰|信仰[\u4e00-\u9fff]{1,4}教|信教)(?:者|人士)?(?:优先|勿扰)",
        r"不招(?:收)?有宗教信仰",
        r"\bhan (?:chinese|ethnicity)\b",
        r"\bno (?:muslims|christians|buddhists|uyghurs|tibetans|minorities)\b",
        r"\b(?:christians|muslims|buddhists|atheists) (?:preferred|only)\b",
        r"\bno religious affiliation (?:preferred|only|required)",
    ],
    "hukou_origin": [
        rf"(?:{_PROVINCES}|农村|非农|城镇|[京沪穗深])户口(?!迁移|不限)",
        r"(?:本地|本市|本省|深圳|北京|上海|广州)户籍(?!政策|不限|迁移)",
        r"(?:限|需|须|要求|仅限)[深京沪穗]户|[深京沪穗]户(?:者|人员)?优先",
        rf"{_PROVINCES}(?:省|市)?(?:籍|人)(?:人员|人士|者)?(?:勿扰|不要|不招|免谈|谢绝|不予录用|不考虑)",
        rf"不(?:招|要|收|录用|考虑)(?:{_PROVINCES})(?:省|市)?(?:籍|人)",
        rf"(?:限|仅限|只招|只要|仅招)(?:{_PROVINCES})(?:省|市)?(?:籍|人)",
        r"\blocals? only\b",
        r"\blocal (?:candidates|residents|applicants) only\b",
        r"\bhukou (?:required|only|preferred)\b",
        r"\bmust hold an? [a-z]+ hukou\b",
        r"\bhousehold registration only\b",
        r"\bno (?:applicants|candidates|one|people) from [a-z]+",
    ],
    "health": [
        r"(?:乙肝|hbv|大三阳|小三阳|艾滋病?|hiv)(?:病毒)?(?:表面抗原)?(?:携带者?|患者|阳性者?|者)?"
        r"(?:勿扰|不予录用|不录用|不要|谢绝|免谈)",
        r"乙肝(?:五项|两对半)|(?:hbv|乙肝)(?:检测|检查)报告",
        r"无(?:乙肝|传染病)",
        r"\b(?:hepatitis b|hbv|hiv)(?:\s+|-)(?:carriers?|positive)",
        r"\b(?:hepatitis b|hbv|hiv) (?:test|screening|report)",
        r"\bnegative for (?:hepatitis b|hbv|hiv)",
        r"\bno (?:hiv|hepatitis)",
    ],
    "disability": [
        r"无(?:任何)?残疾|四肢健全|身体健全",
        r"(?:肢体|视力|听力|智力|精神)?残疾(?:人|者|人士)?(?:勿扰|不予[\u4e00-\u9fff]{0,2}|不考虑|免谈|谢绝)",
        r"不(?:招|要|收)(?:收)?残疾",
        r"聋哑人?(?:勿扰|不招|不予[\u4e00-\u9fff]{0,2}|免谈)",
        r"\bno disabled\b",
        r"\b(?:have )?no (?:physical )?disabilit",
        r"\bdisabilities will not\b",
        r"\bable-bodied\b",
    ],
    "school_tier": [
        r"(?<![\d号室])(?:985|211)(?:[/、,，和或及与](?:985|211))*(?![\d号室])",
        r"第一学历|统招本科|全日制统招|双一流|qs(?:排名)?前?\d+|二本及以下|专升本勿扰|名校毕业",
        r"\bqs top \d+",
        r"\btop[- ]tier universit",
        r"\bdouble first[- ]class\b",
    ],
    "appearance": [
        r"身高\d{3}(?:cm|厘米|公分)?(?:以上|及以上|\+)?",
        r"形象(?:气质)?(?:佳|好)|气质(?:佳|好)|五官端正|颜值|相貌端[正庄]|长相(?:甜美|好|出众|端正)|"
        r"身材(?:匀称|好|高挑)|体重(?:不超过|\d)",
        r"\b(?:attractive|good[- ]looking|pleasant appearance|good image)\b",
        r"\bheight:? ?\d{3} ?cm",
        r"\bminimum height\b",
    ],
}
# A category's patterns run only on text holding one of its trigger words: a cheap scan
# that spares most of the patterns on most postings (the budget is < 1 ms a posting).
_TRIGGERS: dict[str, str] = {
    "sex": r"[男女]|male|men|man|gender",
    "marital_childbearing": r"[婚育孕身生]|marri|single|child|kids|baby|pregnan|marital",
    "pregnancy_test": r"[孕娠]|hcg|pregnancy",
    "age": r"[岁后]|under|age|below|younger|older",
    "ethnicity_religion": r"[族教穆回徒]|han|muslim|christian|buddhist|uyghur|tibetan|minorit|"
    r"atheist|religio",
    "hukou_origin": r"[户籍]|人(?:员|士|者)?(?:勿扰|不要|不招|免谈|谢绝|不予|不考虑)|不(?:招|要|收|录用|考虑)|"
    r"[限招要]|local|hukou|household|from",
    "health": r"[肝阳艾传]|hbv|hiv|hepatitis",
    "disability": r"[残健聋]|disab|able-bodied",
    "school_tier": r"985|211|[统学双名本]|qs|top|double",
    "appearance": r"[身形气五颜相长体]|attractive|looking|appearance|image|height",
}


def _is_chinese_pattern(pattern: str) -> bool:
    """Whether a pattern needs Chinese text (Chinese inside a character class does not count:
    "985" is written the same in English postings)."""
    return bool(re.search(r"[\u4e00-\u9fff]", re.sub(r"\[[^\]]*\]", "", pattern)))


_COMPILED: dict[str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = {
    category: (
        re.compile(_TRIGGERS[category]),
        re.compile("|".join(f"(?:{p})" for p in patterns if _is_chinese_pattern(p))),
        re.compile("|".join(f"(?:{p})" for p in patterns if not _is_chinese_pattern(p))),
    )
    for category, patterns in _PATTERNS.items()
}
_HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_HAS_LATIN = re.compile(r"[a-z0-9]")
# A sex limit stated with its lawful reason (jobs women may not be given by law).
_LAWFUL_SEX_REASON = re.compile(r"依法|依照|根据.{0,20}规定|禁忌|井下|矿山")
# School tiers in a duty, not a requirement ("负责985高校的校园招聘").
_DUTY = re.compile(r"^(?:负责|维护|对接|拓展)")
# A school-tier number counts only next to words about schooling.
_SCHOOLING = re.compile(r"院校|高校|大学|名校|学校|毕业|本科|以上|勿扰|学历|universit|graduate")


@dataclass(frozen=True)
class Flag:
    """One discriminatory requirement: where it is (``field``, ``span`` on the original text)
    and a neutral rewrite of its sentence, in the posting's own language."""

    category: str
    level: str
    field: str
    text: str
    span: tuple[int, int]
    rewrite: str

    def as_stored(self) -> dict[str, Any]:
        """The language-neutral form kept on the posting."""
        return {
            "category": self.category, "level": self.level, "field": self.field,
            "text": self.text, "span": list(self.span), "rewrite": self.rewrite,
        }  # fmt: skip


@dataclass(frozen=True)
class Compliance:
    status: str
    flags: tuple[Flag, ...]


def status_of(flags: Iterable[Mapping[str, Any]]) -> str:
    """A posting's status from its stored flags; a flag reviewed as a false positive counts
    for nothing."""
    levels = {
        f["level"] for f in flags if (f.get("review") or {}).get("decision") != "false_positive"
    }
    if UNLAWFUL in levels:
        return UNLAWFUL
    return ADVISORY if ADVISORY in levels else OK


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def _is_english(text: str) -> bool:
    return not re.search(r"[\u4e00-\u9fff]", text)


_SEPARATORS = "，,、;；:： \t"


_CLAUSE_END = re.compile(r"[，,、;；]")


def _rewrite(original: str, sentence: tuple[int, int], spans: list[tuple[int, int]],
             categories: list[str]) -> str:  # fmt: skip
    """The sentence without the clauses that hold its flagged phrases, or a neutral phrase
    where nothing is left."""
    start, end = sentence
    clauses, last = [], start
    for match in _CLAUSE_END.finditer(original, start, end):
        clauses.append((last, match.start()))
        last = match.end()
    clauses.append((last, end))
    kept = []
    for a, b in clauses:
        if any(s < b and a < e for s, e in spans):
            continue
        part = original[a:b].strip(_SEPARATORS + "。.!！?？")
        if part:
            kept.append(part)
    english = _is_english(original[start:end])
    joiner = ", " if english else "，"
    stop = "." if english else "。"
    if not kept:
        return (
            joiner.join(dict.fromkeys(NEUTRAL[c]["en" if english else "zh"] for c in categories))
            + stop
        )
    text = joiner.join(kept)
    if english:
        text = text[0].upper() + text[1:]
    return text + stop


# Titles and skills repeat across postings (a bulk load sends the same few hundred): their
# flags, which depend on the text alone, are kept for the next posting that says the same.
_SHORT_TEXT = 80


def _check_field(field: str, original: str) -> list[Flag]:
    if not original:
        return []
    if len(original) <= _SHORT_TEXT:
        return [replace(flag, field=field) for flag in _short_text_flags(original)]
    return _flags_of(field, original)


@lru_cache(maxsize=16384)
def _short_text_flags(original: str) -> tuple[Flag, ...]:
    return tuple(_flags_of("", original))


def _flags_of(field: str, original: str) -> list[Flag]:
    norm = _normalize(original)
    text = norm.text
    found: list[tuple[str, int, int]] = []  # category, start, end (normalized)
    sentences = _sentences(text)
    chinese, latin = bool(_HAS_CHINESE.search(text)), bool(_HAS_LATIN.search(text))
    starts = [a for a, _ in sentences]
    for category, (trigger, zh_pattern, en_pattern) in _COMPILED.items():
        # Only the sentences holding a trigger word are matched against the patterns.
        holding = sorted({bisect_right(starts, m.start()) - 1 for m in trigger.finditer(text)})
        for index in holding:
            a, b = sentences[index]
            context = text[a:b]
            matches = [
                *(zh_pattern.finditer(text, a, b) if chinese else ()),
                *(en_pattern.finditer(text, a, b) if latin else ()),
            ]
            for match in matches:
                s, e = match.span()
                if s == e:
                    continue
                if category == "sex" and _LAWFUL_SEX_REASON.search(context):
                    continue
                if category == "school_tier":
                    if _DUTY.match(context.strip()):
                        continue
                    if match.group()[0].isdigit() and not _SCHOOLING.search(context):
                        continue
                if any(c == category and s < fe and fs < e for c, fs, fe in found):
                    continue
                found.append((category, s, e))
    if not found:
        return []
    flags: list[Flag] = []
    by_sentence: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
    original_sentences = _sentences(original)
    for category, s, e in found:
        a, b = norm.original(s), norm.original(e - 1) + 1
        sentence = next(((x, y) for x, y in original_sentences if x <= a < y), (0, len(original)))
        by_sentence.setdefault(sentence, []).append((category, a, b))
    for sentence, items in by_sentence.items():
        rewrite = _rewrite(original, sentence, [(a, b) for _, a, b in items],
                           [c for c, _, _ in items])  # fmt: skip
        for category, a, b in items:
            flags.append(Flag(category, LEVEL_OF[category], field, original[a:b], (a, b), rewrite))
    return sorted(flags, key=lambda f: (f.span, CATEGORIES.index(f.category)))


def check_posting(
    title: str, description: str | None = None, *, extra: Mapping[str, str] | None = None
) -> Compliance:
    """The discriminatory requirements a posting states, in its title, description and any
    ``extra`` fields (name → text, e.g. ``{"required_skills.0": "男性优先"}``)."""
    fields = {"title": title or "", "description": description or "", **(extra or {})}
    flags = [flag for name, text in fields.items() for flag in _check_field(name, text)]
    return Compliance(status_of(f.as_stored() for f in flags), tuple(flags))


# ---------------------------------------------------------------------------------------
# What a flag says to its reader (rendered at response time, zh or en).

_LAWS: dict[str, dict[str, str]] = {
    "EPL": {"zh": "就业促进法", "en": "Employment Promotion Law"},
    "WRPL": {"zh": "妇女权益保障法", "en": "Law on the Protection of Women's Rights and Interests"},
    "HRMR": {"zh": "人力资源市场暂行条例", "en": "Interim Regulations on the Human Resources Market"},
    "ORSR": {"zh": "网络招聘服务管理规定",
             "en": "Provisions on the Administration of Online Recruitment Services"},
    "N2019": {"zh": "人社部等九部门通知（人社部发〔2019〕17号）",
              "en": "MOHRSS and eight departments' notice (人社部发〔2019〕17号)"},
    "N2010": {"zh": "人社部 教育部 卫生部通知（人社部发〔2010〕12号）",
              "en": "MOHRSS, MOE and MOH notice (人社部发〔2010〕12号)"},
    "DER": {"zh": "残疾人就业条例", "en": "Regulations on the Employment of Persons with Disabilities"},
    "GO2013": {"zh": "国办发〔2013〕35号；教育部 教学厅〔2013〕5号",
               "en": "State Council General Office 国办发〔2013〕35号; MOE 教学厅〔2013〕5号"},
}  # fmt: skip
_BASIS: dict[str, tuple[tuple[str, str], ...]] = {
    "sex": (("EPL", "27"), ("WRPL", "43"), ("HRMR", "24"), ("ORSR", "15")),
    "marital_childbearing": (("WRPL", "43"), ("EPL", "27"), ("N2019", "—")),
    "pregnancy_test": (("WRPL", "43"), ("N2019", "—")),
    "age": (("GO2013", "—"),),
    "ethnicity_religion": (("EPL", "3"), ("EPL", "28"), ("HRMR", "24"), ("ORSR", "15")),
    "hukou_origin": (("HRMR", "11"), ("ORSR", "15"), ("EPL", "31")),
    "health": (("EPL", "30"), ("N2010", "—")),
    "disability": (("EPL", "29"), ("DER", "4")),
    "school_tier": (("GO2013", "—"),),
    "appearance": (("EPL", "26"),),
}
_NAMES: dict[str, dict[str, str]] = {
    "sex": {"zh": "性别", "en": "sex"},
    "marital_childbearing": {"zh": "婚育状况", "en": "marital or childbearing status"},
    "pregnancy_test": {"zh": "孕检", "en": "a pregnancy test"},
    "age": {"zh": "年龄", "en": "age"},
    "ethnicity_religion": {"zh": "民族或宗教信仰", "en": "ethnicity or religion"},
    "hukou_origin": {"zh": "户籍或地域", "en": "hukou or regional origin"},
    "health": {
        "zh": "传染病病原携带（如乙肝）",
        "en": "carrying an infectious pathogen (e.g. HBV)",
    },
    "disability": {"zh": "残疾", "en": "disability"},
    "school_tier": {"zh": "院校层次", "en": "school tier"},
    "appearance": {"zh": "外貌", "en": "appearance"},
}
# What a sentence says once its discriminatory phrase is gone and nothing else is left.
NEUTRAL: dict[str, dict[str, str]] = {
    "sex": {"zh": "男女不限", "en": "Open to all genders"},
    "marital_childbearing": {"zh": "婚育状况不限", "en": "Regardless of marital or family status"},
    "pregnancy_test": {"zh": "入职体检按国家规定项目进行",
                       "en": "Pre-employment medical as required by law"},
    "age": {"zh": "年满18周岁", "en": "Applicants aged 18 or over"},
    "ethnicity_religion": {"zh": "民族、宗教信仰不限", "en": "Open to all ethnicities and beliefs"},
    "hukou_origin": {"zh": "户籍不限", "en": "Open to applicants from anywhere"},
    "health": {"zh": "入职体检按国家规定项目进行",
               "en": "Pre-employment medical as required by law"},
    "disability": {"zh": "欢迎残疾人士应聘", "en": "Candidates with disabilities are welcome"},
    "school_tier": {"zh": "本科及以上学历", "en": "Bachelor's degree or above"},
    "appearance": {"zh": "仪表整洁", "en": "Neat, professional presentation"},
}  # fmt: skip


def _cited(category: str, language: str) -> str:
    if language == "zh":
        return "、".join(
            f"《{_LAWS[law]['zh']}》第{article}条" if article != "—" else _LAWS[law]["zh"]
            for law, article in _BASIS[category]
        )
    return "; ".join(
        f"{_LAWS[law]['en']} art. {article}" if article != "—" else _LAWS[law]["en"]
        for law, article in _BASIS[category]
    )


def _explanation(flag: Mapping[str, Any], language: str) -> str:
    category, text = flag["category"], flag["text"]
    name, cited = _NAMES[category][language], _cited(category, language)
    if language == "zh":
        if flag["level"] == UNLAWFUL:
            return f"「{text}」以{name}限制求职者，违反{cited}，平台不得发布此类歧视性内容。"
        return (
            f"「{text}」以{name}设限，属于应避免的要求（{cited}），建议删除或说明与岗位的必要联系。"
        )
    if flag["level"] == UNLAWFUL:
        return (f'"{text}" limits applicants by {name}, which Chinese law forbids in hiring '
                f"({cited}); a platform may not publish it.")  # fmt: skip
    return (f'"{text}" limits applicants by {name}: an advisory finding ({cited}); remove it '
            "or state why the job needs it.")  # fmt: skip


def render_flag(flag: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A stored flag as a response shows it: with its legal basis, explanation and suggestion
    in ``language`` (``zh`` or ``en``)."""
    language = "zh" if language == "zh" else "en"
    rewrite = flag.get("rewrite", "")
    suggestion = f"改为：{rewrite}" if language == "zh" else f"Rewrite as: {rewrite}"
    rendered = {
        "category": flag["category"], "level": flag["level"], "field": flag.get("field"),
        "text": flag["text"], "span": list(flag["span"]),
        "basis": [{"law": _LAWS[law][language], "article": article}
                  for law, article in _BASIS[flag["category"]]],
        "explanation": _explanation(flag, language), "suggestion": suggestion,
    }  # fmt: skip
    if flag.get("review"):
        rendered["review"] = dict(flag["review"])
    return rendered
