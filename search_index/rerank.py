"""Re-ranking of search results: after hybrid retrieval (BM25 and vectors fused by RRF), every
retrieved document is scored again by a weighted sum of five signals it has against the
query, and the result is ordered by that score:

    score = w_content · cos(query, content vector) + w_title · cos(query, title vector)
          + w_keyword · BM25 / best BM25 of the query   (0 where keyword retrieval missed it)
          + w_skills · share of the skills named in the query that the document lists
          + w_occupation · occupation proximity (``occupation_signal``)

with one set of weights for documents in the query's language and one for the others.

RRF counts a document that only keyword retrieval found as much as one only the vectors
found. For a query in one language over documents in the other, BM25 matches little but
stray tokens, and those rank-only votes push aside documents the vectors found relevant;
scores keep each signal's strength. Relevance is occupational ("调解员" wants arbitrators and
lawyers, not "调度员"), which neither words nor these vectors see: the query's title is coded
(its few likeliest occupations, with confidences) and each document's occupation code is
compared with them, across languages through the CSCO ↔ ISCO-08 crosswalk. The weights ship
in ``data/search_reranker.json``, whose provenance names the set they were fitted on.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from taxonomy.crosswalk import occupation_group

RERANKER_PATH = Path(__file__).parent / "data" / "search_reranker.json"
SKILLS_SUFFIX = "+skills"  # the weights key for queries that name skills


@dataclass(frozen=True)
class Weights:
    content: float
    title: float
    keyword: float
    # Skills match across languages and synonyms (the skill vocabulary), where BM25 cannot.
    skills: float = 0.0
    # Occupation identity and neighbourhood with the query's coded title.
    occupation: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([self.content, self.title, self.keyword, self.skills, self.occupation])


@dataclass(frozen=True)
class SearchReranker:
    """Weights per query language → document language (``zh→en`` …) and a ``default`` for
    text of unknown language: BM25 means little across languages, where it matches stray
    tokens, while skills match across them."""

    version: str
    weights: dict[str, Weights]
    provenance: dict[str, object] = field(default_factory=dict)

    def weights_for(
        self, query_language: str | None, document_language: str | None, *, skills: bool
    ) -> Weights:
        """The weights for one document: by language pair, and by whether the query names
        skills (without them the other signals must rank on their own)."""
        key = f"{query_language}→{document_language}{SKILLS_SUFFIX if skills else ''}"
        return self.weights.get(key, self.weights["default"])

    def score(
        self, signals: np.ndarray, query_language: str | None,
        document_languages: Sequence[str | None], *, skills: bool,
    ) -> np.ndarray:  # fmt: skip
        """Scores of documents from their signals (``rerank_signals``) and languages."""
        languages = list(dict.fromkeys(document_languages))  # a handful: zh, en, unknown
        table = np.array(
            [self.weights_for(query_language, d, skills=skills).vector() for d in languages]
        )
        rows = {language: i for i, language in enumerate(languages)}
        weights = table[[rows[d] for d in document_languages]].reshape(len(document_languages), -1)
        # Signals without the later columns (an older caller's four) weigh those as 0.
        weights = weights[:, : signals.shape[1]]
        return np.clip(np.sum(signals * weights, axis=1), 0.0, None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def text_language(text: str) -> str | None:
    """``zh`` when the text has any CJK character (a query like "Java Python 招聘" comes from
    someone who reads Chinese), ``en`` when it has Latin letters only, else None. Documents
    are classified by their opening text, where a Chinese posting shows Chinese at once."""
    if _CJK.search(text):
        return "zh"
    return "en" if _LATIN.search(text) else None


# Occupation proximity: the same code, the same unit group (CSCO 小类 or, across the
# crosswalk, ISCO-08 unit group), the same ISCO-08 minor group.
SAME_OCCUPATION, SAME_UNIT_GROUP, SAME_MINOR_GROUP = 1.0, 0.6, 0.3


@cache
def occupation_proximity(query_code: str, document_code: str) -> float:
    """How close two occupation codes are (CSCO 2022 or ISCO-08, in any pairing): 1 for the
    same code, ``SAME_UNIT_GROUP`` / ``SAME_MINOR_GROUP`` for a shared group, else 0."""
    if query_code == document_code:
        return SAME_OCCUPATION
    both_csco = not query_code.startswith("ISCO") and not document_code.startswith("ISCO")
    if both_csco and query_code[:7] == document_code[:7] and not query_code.endswith("00-00"):
        return SAME_UNIT_GROUP
    unit = occupation_group(query_code)
    if unit is not None and unit == occupation_group(document_code):
        return SAME_UNIT_GROUP
    minor = occupation_group(query_code, level="minor")
    if minor is not None and minor == occupation_group(document_code, level="minor"):
        return SAME_MINOR_GROUP
    return 0.0


def occupation_signal(
    query_occupations: Sequence[tuple[str, float]], document_codes: Sequence[str | None]
) -> np.ndarray:
    """Per document, the best over the query's coded occupations (code, confidence) of
    confidence × proximity to the document's code (0 for a document without one)."""
    if not query_occupations:
        return np.zeros(len(document_codes))
    # Retrieved documents share a few dozen codes: score each distinct code once.
    best = {
        document: max((confidence * occupation_proximity(code, document) for code, confidence
                       in query_occupations), default=0.0) if document else 0.0
        for document in dict.fromkeys(document_codes)
    }  # fmt: skip
    return np.fromiter(map(best.__getitem__, document_codes), dtype=np.float64,
                       count=len(document_codes))  # fmt: skip


def rerank_signals(
    query: np.ndarray, contents: np.ndarray, titles: np.ndarray, bm25: Sequence[float],
    query_skills: Sequence[str] = (), document_skills: Sequence[Sequence[str]] = (),
    query_occupations: Sequence[tuple[str, float]] = (),
    document_occupations: Sequence[str | None] = (),
) -> np.ndarray:  # fmt: skip
    """(documents, 5): each document's content and title cosine with the query vector (all
    L2-normalized), its BM25 relative to the best of the query (0 where it had none), the
    share of the query's canonical skills among its own (0 when the query names none) and
    its occupation proximity to the query's coded occupations (``occupation_signal``)."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    keyword = np.asarray(bm25, dtype=np.float64)
    best = keyword.max(initial=0.0)
    relative = keyword / best if best > 0 else np.zeros_like(keyword)
    asked = set(query_skills)
    skills = np.zeros(len(keyword))
    if asked and document_skills:
        skills = np.array([len(asked.intersection(d)) / len(asked) for d in document_skills])
    occupation = np.zeros(len(keyword))
    if query_occupations and document_occupations:
        occupation = occupation_signal(query_occupations, document_occupations)
    return np.column_stack([contents @ vector, titles @ vector, relative, skills, occupation])


@cache
def default_search_reranker() -> SearchReranker:
    data = json.loads(RERANKER_PATH.read_text())
    weights = {pair: Weights(**values) for pair, values in data["weights"].items()}
    return SearchReranker(version=str(data["version"]), weights=weights,
                          provenance=dict(data.get("provenance") or {}))  # fmt: skip


@dataclass(frozen=True)
class RerankExample:
    """One query's retrieved documents: their signals and whether each is relevant."""

    signals: np.ndarray  # (documents, 5): content, title, keyword, skills, occupation
    relevant: np.ndarray  # (documents,) 0/1
    # The scores of the other documents of the same result, which another slice's weights
    # score (the query's own language, when a cross-language slice is fitted): they share the
    # page with these documents and are not judged themselves.
    rivals: np.ndarray | None = None


def _average_precision(
    scores: np.ndarray, relevant: np.ndarray, rivals: np.ndarray | None = None,
    page: int | None = None,
) -> np.ndarray:  # fmt: skip
    """AP of each column of ``scores`` (documents, candidates) against ``relevant``; with
    ``rivals`` (their fixed scores) and ``page``, only the documents that rank among the first
    ``page`` of the merged result count as found (those after it are relevant ones missed)."""
    order = np.argsort(-scores, axis=0, kind="stable")
    ranked = relevant[order]
    hits = np.cumsum(ranked, axis=0)
    if hits[-1, 0] == 0:
        return np.zeros(scores.shape[1])
    ranks = np.arange(1, len(relevant) + 1)[:, None]
    precision = ranked * hits / ranks
    if rivals is not None and page is not None:
        # The r-th of these documents sits at r + (rivals scoring above it) in the merged
        # result; the ones that make the page are a prefix of this order.
        ahead = np.sort(np.clip(rivals, 0.0, None))
        sorted_scores = np.clip(np.take_along_axis(scores, order, axis=0), 0.0, None)
        above = len(ahead) - np.searchsorted(ahead, sorted_scores.ravel(), side="right")
        merged_rank = ranks - 1 + above.reshape(sorted_scores.shape)
        precision = np.where(merged_rank < page, precision, 0.0)
    return np.sum(precision, axis=0) / hits[-1, 0]


def _simplex(dims: int, step: float) -> np.ndarray:
    """Every weight vector on a grid of ``step`` whose ``dims`` weights sum to 1, in
    lexicographic order of the leading weights."""
    units = round(1 / step)
    rows = [
        (*leading, units - sum(leading))
        for leading in itertools.product(range(units + 1), repeat=dims - 1)
        if sum(leading) <= units
    ]
    return np.array(rows, dtype=np.float64) / units


def fit_weights(
    examples: Sequence[RerankExample], *, skills: bool = True, occupation: bool = False,
    step: float = 0.05, page: int | None = None,
) -> tuple[Weights, float]:  # fmt: skip
    """The weights (on a grid over the simplex; without the skills signal when ``skills`` is
    False, with the occupation signal when ``occupation`` is True) with the best MAP over
    ``examples``, and that MAP. ``page``: the examples' documents count only where they rank
    among the first ``page`` with their ``rivals`` (see ``_average_precision``)."""
    useful = [e for e in examples if 0 < e.relevant.sum() < len(e.relevant)]
    if not useful:
        return Weights(1.0, 0.0, 0.0), float("nan")  # nothing to learn from: content alone
    columns = [0, 1, 2] + ([3] if skills else []) + ([4] if occupation else [])
    grid = _simplex(len(columns), step)
    total = np.zeros(len(grid))
    for e in useful:
        signals = np.zeros((len(e.relevant), 5))
        signals[:, : e.signals.shape[1]] = e.signals
        total += _average_precision(signals[:, columns] @ grid.T, e.relevant, e.rivals, page)
    scores = total / len(useful)
    # The first grid point within rounding of the best: ties keep the earlier weights.
    best = int(np.argmax(scores >= scores.max() - 1e-9))
    values = dict.fromkeys(("content", "title", "keyword", "skills", "occupation"), 0.0)
    names = list(values)
    for column, weight in zip(columns, grid[best], strict=True):
        values[names[column]] = round(float(weight), 3)
    return Weights(**values), float(scores[best])


def fit_search_reranker(
    examples: Mapping[str, Sequence[RerankExample]], *, version: str, occupation: bool = False
) -> SearchReranker:
    """``examples`` are keyed like the weights (``zh→en``, ``zh→en+skills`` …). Same-language
    pairs share one fit and cross-language pairs another (each fit sees twice the queries),
    separately for queries that name skills and those that do not; ``default`` (unknown
    language) takes the same-language weights. ``occupation``: fit the occupation signal's
    weight too (the examples carry it)."""
    weights: dict[str, Weights] = {}
    provenance: dict[str, object] = {}
    kinds = [("same language", ("zh→zh", "en→en")), ("cross-language", ("zh→en", "en→zh"))]
    for (kind, pairs), skills in itertools.product(kinds, (False, True)):
        keys = [pair + (SKILLS_SUFFIX if skills else "") for pair in pairs]
        group = [e for key in keys for e in examples.get(key, ())]
        fitted, fitted_map = fit_weights(group, skills=skills, occupation=occupation)
        weights |= dict.fromkeys(keys, fitted)
        name = f"{kind}{', skills named' if skills else ''}"
        provenance[f"map {name}"] = round(fitted_map, 4)
        provenance[f"queries {name}"] = len(group)
    weights["default"] = weights["zh→zh"]
    return SearchReranker(version=version, weights=weights, provenance=provenance)
