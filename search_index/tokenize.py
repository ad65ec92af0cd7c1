"""Segmentation for keyword search: jieba for Chinese, lower-cased word tokens for English,
and Chinese character unigrams and bigrams beside the words.

tantivy's tokenizers cannot split Chinese, so both documents and queries are segmented
here and indexed as space-joined tokens. jieba runs as jieba-rs (the ``rjieba`` binding:
same dictionary and algorithm, about 80x faster than the pure-Python package, measured).

Words alone miss short titles that share characters but no word (药剂师 / 药学, 警探 /
警官), so the characters are indexed too, in a field of their own, as a character-level
BM25 and Elasticsearch's ``cjk_bigram`` filter with ``output_unigrams`` do. Latin text has
no character grams: English search reads words only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import rjieba

from taxonomy.skills import skill_vocabulary

# Job-market words jieba's default dictionary splits ("后端" → 后 / 端).
JOB_TERMS = [
    "后端",
    "前端",
    "全栈",
    "运维",
    "测试开发",
    "嵌入式",
    "算法工程师",
    "数据分析师",
    "产品经理",
    "项目经理",
    "架构师",
    "实习生",
    "校招",
    "社招",
    "五险一金",
    "双休",
    "年终奖",
    "股票期权",
    "带薪年假",
    "大专",
    "本科",
    "硕士",
    "博士",
    "跨境电商",
    "新媒体",
    "直播带货",
    "外贸",
    "报关",
    "质检",
    "品质",
    "采购",
    "仓管",
    "叉车",
    "普工",
    "技工",
    "电工",
    "焊工",
    "会计",
    "出纳",
    "财务",
    "审计",
    "税务",
    "人力资源",
    "招聘专员",
    "行政",
    "前台",
    "客服",
    "销售",
    "商务拓展",
    "大客户",
    "硬件工程师",
    "软件工程师",
    "测试工程师",
    "开发工程师",
    "机器学习",
    "深度学习",
    "计算机视觉",
    "自然语言处理",
    "微服务",
    "分布式",
    "高并发",
    "小程序",
    "用户体验",
    "交互设计",
    "视觉设计",
    "平面设计",
]

# Tokens that carry no meaning for search.
STOP_TOKENS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "在",
        "是",
        "有",
        "对",
        "为",
        "以",
        "于",
        "并",
        "将",
        "我",
        "我们",
        "你",
        "您",
        "他",
        "她",
        "a",
        "an",
        "and",
        "or",
        "the",
        "of",
        "to",
        "in",
        "for",
        "on",
        "with",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "be",
        "we",
        "you",
        "our",
        "your",
        "will",
    ]
)

# The weights (boosts) of a character and of a character bigram in keyword retrieval, a
# word's being 1: chosen on the tuning half of `talentmatch eval relevance`, never on the
# reported half. There, zh keyword MAP@100 rose from 0.316 (words only) to 0.39 with any
# weights from 1 to 4, a little more as characters weigh more (0.397 at 4 / 1); 2 / 1 is
# within 0.005 of the best and keeps lone characters, the least specific grams of a long
# description, from outweighing words by much.
UNIGRAM_WEIGHT = 2.0
BIGRAM_WEIGHT = 1.0

_init_lock = threading.Lock()
_segmenter: rjieba.Jieba | None = None
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]|[\u4e00-\u9fff]+")
_HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")


def segmenter() -> rjieba.Jieba:
    """The shared jieba instance with the job-term dictionary added (built once)."""
    global _segmenter
    if _segmenter is not None:
        return _segmenter
    with _init_lock:
        if _segmenter is None:
            instance = rjieba.Jieba()
            for term in JOB_TERMS:
                instance.add_word(term, 20000, None)
            for name in skill_vocabulary().all_names():
                if not name.isascii() and len(name) >= 2:
                    instance.add_word(name, 20000, None)
            _segmenter = instance
    return _segmenter


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text`` (documents and queries alike), lower-cased, in order."""
    tokens: list[str] = []
    for piece in segmenter().cut_for_search(text.lower(), True):
        for token in _TOKEN_RE.findall(piece):
            if token not in STOP_TOKENS:
                tokens.append(token)
    return tokens


def segment(text: str) -> str:
    """``text`` as space-joined search tokens, ready for a whitespace tokenizer."""
    return " ".join(tokenize(text))


def _run_grams(run: str) -> list[str]:
    # A stop character alone matches nearly everything; inside a bigram it is harmless.
    unigrams = [char for char in run if char not in STOP_TOKENS]
    return unigrams + [run[i : i + 2] for i in range(len(run) - 1)]


def char_grams(text: str) -> list[str]:
    """Chinese character unigrams and bigrams of ``text`` (of each run of Han characters,
    so no bigram spans punctuation or Latin), with repeats; none for Latin text."""
    grams: list[str] = []
    for run in _HAN_RUN_RE.findall(text.lower()):
        grams += _run_grams(run)
    return grams


def query_char_grams(terms: Sequence[str]) -> list[str]:
    """The character grams of query ``terms`` (``tokenize`` output, in order), once each.

    Search receives tokens, not the text: the grams of each Chinese token, and the bigram
    across two tokens that follow each other in the text. ``cut_for_search`` emits a
    word's parts before the word (药剂, 药剂师), so a pair where one holds the other, or
    where they overlap (农学, 学家), is one word seen twice, not a boundary.
    """
    grams: list[str] = []
    previous = ""
    for term in terms:
        if not _HAN_RUN_RE.fullmatch(term):
            previous = ""
            continue
        grams += _run_grams(term)
        if previous and not _overlapping(previous, term):
            grams.append(previous[-1] + term[0])
        previous = term
    return list(dict.fromkeys(grams))


def _overlapping(a: str, b: str) -> bool:
    if a in b or b in a:
        return True
    return any(a.endswith(b[:n]) or b.endswith(a[:n]) for n in range(1, min(len(a), len(b))))


def segment_chars(text: str) -> str:
    """``text``'s character grams, space-joined for a whitespace tokenizer."""
    return " ".join(char_grams(text))


def char_weight(gram: str) -> float:
    """The boost of a character gram in keyword retrieval (see ``UNIGRAM_WEIGHT``)."""
    return UNIGRAM_WEIGHT if len(gram) == 1 else BIGRAM_WEIGHT
