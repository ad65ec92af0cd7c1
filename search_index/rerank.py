"""Re-ranking of search results: after hybrid retrieval (BM25 and vectors fused by RRF), every
retrieved document is scored again by a weighted sum of four signals it has against the
query, and the result is ordered by that score:

    score = w_content · cos(query, content vector) + w_title · cos(query, title vector)
          + w_keyword · BM25 / best BM25 of the query   (0 where keyword retrieval missed it)
          + w_skills · share of the skills named in the query that the document lists

with one set of weights for documents in the query's language and one for the others.

RRF counts a document that only keyword retrieval found as much as one only the vectors
found. For a query in one language over documents in the other, BM25 matches little but
stray tokens, and those rank-only votes push aside documents the vectors found relevant;
scores keep each signal's strength. The weights are fitted for mean average precision on a
generated corpus and query set that the evaluation does not use
(``talentmatch eval ranking --fit-default``) and ship in ``data/search_reranker.json``.
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

RERANKER_PATH = Path(__file__).parent / "data" / "search_reranker.json"
SKILLS_SUFFIX = "+skills"  # the weights key for queries that name skills


@dataclass(frozen=True)
class Weights:
    content: float
    title: float
    keyword: float
    # Skills match across languages and synonyms (the skill vocabulary), where BM25 cannot.
    skills: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([self.content, self.title, self.keyword, self.skills])


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


def rerank_signals(
    query: np.ndarray, contents: np.ndarray, titles: np.ndarray, bm25: Sequence[float],
    query_skills: Sequence[str] = (), document_skills: Sequence[Sequence[str]] = (),
) -> np.ndarray:  # fmt: skip
    """(documents, 4): each document's content and title cosine with the query vector (all
    L2-normalized), its BM25 relative to the best of the query (0 where it had none), and
    the share of the query's canonical skills among its own (0 when the query names none)."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    keyword = np.asarray(bm25, dtype=np.float64)
    best = keyword.max(initial=0.0)
    relative = keyword / best if best > 0 else np.zeros_like(keyword)
    asked = set(query_skills)
    skills = np.zeros(len(keyword))
    if asked and document_skills:
        skills = np.array([len(asked.intersection(d)) / len(asked) for d in document_skills])
    return np.column_stack([contents @ vector, titles @ vector, relative, skills])


@cache
def default_search_reranker() -> SearchReranker:
    data = json.loads(RERANKER_PATH.read_text())
    weights = {pair: Weights(**values) for pair, values in data["weights"].items()}
    return SearchReranker(version=str(data["version"]), weights=weights,
                          provenance=dict(data.get("provenance") or {}))  # fmt: skip


@dataclass(frozen=True)
class RerankExample:
    """One query's retrieved documents: their three signals and whether each is relevant."""

    signals: np.ndarray  # (documents, 4): content, title, keyword, skills
    relevant: np.ndarray  # (documents,) 0/1


def _average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(relevant[order])
    if hits[-1] == 0:
        return 0.0
    return float(np.sum(relevant[order] * hits / np.arange(1, len(order) + 1)) / hits[-1])


def fit_weights(
    examples: Sequence[RerankExample], *, skills: bool = True, step: float = 0.05
) -> tuple[Weights, float]:
    """The weights (on a grid over the simplex; without the skills signal when ``skills`` is
    False) with the best MAP over ``examples``, and that MAP."""
    useful = [e for e in examples if 0 < e.relevant.sum() < len(e.relevant)]
    if not useful:
        return Weights(1.0, 0.0, 0.0), float("nan")  # nothing to learn from: content alone
    grid = np.arange(0.0, 1.0 + step / 2, step)
    best: tuple[float, Weights] = (-1.0, Weights(1.0, 0.0, 0.0))
    for content, title, keyword in itertools.product(grid, grid, grid):
        skills_weight = 1.0 - content - title - keyword
        if skills_weight < -1e-9 or (not skills and skills_weight > 1e-9):
            continue
        weights = Weights(
            *(round(float(w), 3) for w in (content, title, keyword, max(skills_weight, 0.0)))
        )
        score = float(
            np.mean([_average_precision(e.signals @ weights.vector(), e.relevant) for e in useful])
        )
        if score > best[0] + 1e-9:
            best = (score, weights)
    return best[1], best[0]


def fit_search_reranker(
    examples: Mapping[str, Sequence[RerankExample]], *, version: str
) -> SearchReranker:
    """``examples`` are keyed like the weights (``zh→en``, ``zh→en+skills`` …). Same-language
    pairs share one fit and cross-language pairs another (each fit sees twice the queries),
    separately for queries that name skills and those that do not; ``default`` (unknown
    language) takes the same-language weights."""
    weights: dict[str, Weights] = {}
    provenance: dict[str, object] = {}
    kinds = [("same language", ("zh→zh", "en→en")), ("cross-language", ("zh→en", "en→zh"))]
    for (kind, pairs), skills in itertools.product(kinds, (False, True)):
        keys = [pair + (SKILLS_SUFFIX if skills else "") for pair in pairs]
        group = [e for key in keys for e in examples.get(key, ())]
        fitted, fitted_map = fit_weights(group, skills=skills)
        weights |= dict.fromkeys(keys, fitted)
        name = f"{kind}{', skills named' if skills else ''}"
        provenance[f"map {name}"] = round(fitted_map, 4)
        provenance[f"queries {name}"] = len(group)
    weights["default"] = weights["zh→zh"]
    return SearchReranker(version=version, weights=weights, provenance=provenance)
