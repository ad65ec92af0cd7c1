"""Re-ranking of candidate search: after hybrid retrieval every retrieved résumé is scored by a
weighted sum of six signals it has against the query, and the result is ordered by it:

    score = w_section · best cosine of the query with the résumé's title or section vectors
          + w_title · cos(query, title vector)      (desired and recent job titles)
          + w_content · cos(query, content vector)  (the whole résumé, averaged)
          + w_keyword · BM25 / best BM25 of the query   (0 where keyword retrieval missed it)
          + w_skills · share of the skills named in the query that the résumé lists
          + w_occupation · occupation proximity of the résumé's code to the query's coded
                           occupations (``search_index.rerank.occupation_signal``)

with one set of weights for résumés in the query's language and one for the others.

Recruiter queries are short ("DevOps Engineer", "注册会计师"); against a whole-résumé vector
their cosines crowd into 0.2–0.45, so plain RRF gives a badly ordered vector list as much say
as BM25. A section as short as the query (a headline, one job, the skills line) separates
them, and scores keep each signal's strength. The weights are fitted for mean average
precision on the tuning half of the hand-written résumé set (``talentmatch eval candidates
--fit``, ``bench/candidate_search_eval.py``) and ship in ``data/candidate_reranker.json``::

    reranker = default_candidate_reranker()
    scores = reranker.score(candidate_signals(query_vector, stored, bm25, skills), "en",
                            stored.languages)
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from search_index.rerank import occupation_signal

if TYPE_CHECKING:
    from search_index.protocol import StoredFields

CANDIDATE_RERANKER_PATH = Path(__file__).parent / "data" / "candidate_reranker.json"
SIGNALS = ("section", "title", "content", "keyword", "skills", "occupation")


@dataclass(frozen=True)
class CandidateWeights:
    section: float
    title: float
    content: float
    keyword: float
    skills: float = 0.0
    occupation: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in SIGNALS])


@dataclass(frozen=True)
class CandidateReranker:
    """Weights for résumés in the query's language (``same``) and in another (``cross``:
    BM25 matches little there but stray tokens); ``default`` where either language is
    unknown."""

    version: str
    weights: dict[str, CandidateWeights]
    provenance: dict[str, object] = field(default_factory=dict)
    # The content cosine below which vector retrieval ignores a résumé in hybrid candidate
    # search (None: the index's ``semantic_floor``). Whole-résumé cosines of short queries
    # are low, and the re-ranking, not the floor, decides what a low one is worth.
    semantic_floor: float | None = None

    def weights_for(
        self, query_language: str | None, document_language: str | None
    ) -> CandidateWeights:
        """The weights for one résumé, by whether it shares the query's language."""
        if query_language is None or document_language is None:
            key = "default"
        else:
            key = "same" if query_language == document_language else "cross"
        return self.weights.get(key, self.weights["default"])

    def score(
        self, signals: np.ndarray, query_language: str | None,
        document_languages: Sequence[str | None],
    ) -> np.ndarray:  # fmt: skip
        """Scores of résumés from their signals (``candidate_signals``) and languages."""
        if not len(document_languages):
            return np.zeros(0)
        weights = np.array(
            [self.weights_for(query_language, d).vector() for d in document_languages]
        )
        return np.sum(signals * weights, axis=1)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)


def candidate_signals(
    query: np.ndarray, stored: StoredFields, bm25: Sequence[float],
    query_skills: Sequence[str] = (), query_occupations: Sequence[tuple[str, float]] = (),
) -> np.ndarray:  # fmt: skip
    """(résumés, 6) in ``SIGNALS`` order, row i for ``stored.ids[i]``: the best cosine over the
    title and section vectors, the title and content cosines (all L2-normalized), BM25
    relative to the best of the query, the share of the query's canonical skills the
    résumé lists (0 when the query names none), and the occupation proximity of the
    résumé's code to the query's coded occupations (0 when either is unknown)."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    titles = stored.title_vectors @ vector
    contents = stored.vectors @ vector
    best_section = titles.copy()
    for i, sections in enumerate(stored.sections):
        if len(sections):
            best_section[i] = max(best_section[i], float(np.max(sections @ vector)))
    keyword = np.asarray(bm25, dtype=np.float64)
    best = keyword.max(initial=0.0)
    relative = keyword / best if best > 0 else np.zeros_like(keyword)
    asked = set(query_skills)
    skills = np.zeros(len(keyword))
    if asked:
        skills = np.array([len(asked.intersection(d)) / len(asked) for d in stored.skills])
    occupation = np.zeros(len(keyword))
    if query_occupations and stored.occupation_codes:
        occupation = occupation_signal(query_occupations, stored.occupation_codes)
    return np.column_stack([best_section, titles, contents, relative, skills, occupation])


@cache
def default_candidate_reranker() -> CandidateReranker:
    """The shipped weights (``data/candidate_reranker.json``)."""
    data = json.loads(CANDIDATE_RERANKER_PATH.read_text())
    weights = {key: CandidateWeights(**values) for key, values in data["weights"].items()}
    return CandidateReranker(version=str(data["version"]), weights=weights,
                             provenance=dict(data.get("provenance") or {}),
                             semantic_floor=data.get("semantic_floor"))  # fmt: skip


@dataclass(frozen=True)
class CandidateExample:
    """One query's retrieved résumés: their signals, whether each is relevant and whether
    each is in another language than the query."""

    signals: np.ndarray  # (résumés, 6), ``SIGNALS`` order
    relevant: np.ndarray  # (résumés,) 0/1
    relevant_total: int  # relevant résumés in the whole set (retrieved or not)
    cross: np.ndarray  # (résumés,) bool


def average_precision_of(scores: np.ndarray, example: CandidateExample, k: int = 50) -> float:
    """AP@k of the résumés ordered by ``scores`` (ties: retrieval order), over
    min(relevant in the set, k)."""
    order = np.argsort(-scores, kind="stable")[:k]
    hits = example.relevant[order]
    if not hits.any():
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(order) + 1)
    return float(np.sum(precision * hits) / min(example.relevant_total, k))


@cache
def _grid(step: float) -> tuple[CandidateWeights, ...]:
    """Every weight set on the simplex at ``step`` (53,130 at 0.05 for six signals: made once)."""
    steps = round(1 / step)
    return tuple(
        CandidateWeights(*(round(n / steps, 3) for n in (*parts, steps - sum(parts))))
        for parts in itertools.product(range(steps + 1), repeat=len(SIGNALS) - 1)
        if sum(parts) <= steps
    )


def _average_precisions(scores: np.ndarray, example: CandidateExample, k: int) -> np.ndarray:
    """``average_precision_of`` for every column of ``scores`` (résumés, weight sets) at once."""
    order = np.argsort(-scores, axis=0, kind="stable")[:k]
    hits = example.relevant[order]  # (k, weight sets)
    precision = np.cumsum(hits, axis=0) / np.arange(1, len(order) + 1)[:, None]
    return np.sum(precision * hits, axis=0) / max(min(example.relevant_total, k), 1)


def _fit(
    examples: Sequence[CandidateExample], same: CandidateWeights | None, step: float, k: int
) -> tuple[CandidateWeights, float]:
    """The grid weights with the best MAP@k: for every résumé (``same`` None) or, with the
    same-language weights fixed at ``same``, for the other-language résumés only (ties: the
    first in grid order)."""
    grid = _grid(step)
    table = np.array([w.vector() for w in grid]).T  # (signals, weight sets)
    total = np.zeros(len(grid))
    for e in examples:
        scores = e.signals @ table
        if same is not None:
            scores = np.where(e.cross[:, None], scores, (e.signals @ same.vector())[:, None])
        total += _average_precisions(scores, e, k)
    best = int(np.argmax(total))
    return grid[best], float(total[best] / len(examples))


def _above_floor(example: CandidateExample, floor: float) -> CandidateExample | None:
    """The example as retrieval with ``floor`` would have found it: keyword hits, and vector
    hits whose content cosine reaches the floor (None when nothing is left)."""
    kept = (example.signals[:, 3] > 0) | (example.signals[:, 2] >= floor)
    if not kept.any():
        return None
    return CandidateExample(example.signals[kept], example.relevant[kept],
                            example.relevant_total, example.cross[kept])  # fmt: skip


def fit_candidate_reranker(
    examples: Sequence[CandidateExample], *, version: str, step: float = 0.05, k: int = 50,
    floors: Sequence[float] = (0.0, 0.05, 0.1, 0.15, 0.2), provenance: dict[str, object] | None = None,
) -> CandidateReranker:  # fmt: skip
    """For each semantic floor (``examples`` must be retrieved without one), weights on a grid
    over the simplex with the best MAP@k: one set for every résumé, then the other-language
    résumés' own set with the first fixed (kept only where it does better); the floor and
    weights with the best MAP win (ties: the higher floor). ``default`` takes the first set."""
    if not examples:
        raise ValueError("no examples to fit candidate re-ranking weights on")
    best: tuple[float, float, CandidateWeights, CandidateWeights, float] | None = None
    for floor in sorted(floors, reverse=True):
        found = [e for e in (_above_floor(e, floor) for e in examples) if e is not None]
        # A query whose retrieval finds nothing scores 0 at this floor.
        missed = len(examples) - len(found)
        shared, shared_map = _fit(found, None, step, k) if found else (_grid(step)[0], 0.0)
        cross, cross_map = shared, shared_map
        if any(e.cross.any() for e in found):
            cross, cross_map = _fit(found, shared, step, k)
            if cross_map <= shared_map + 1e-9:
                cross, cross_map = shared, shared_map
        overall = cross_map * len(found) / (len(found) + missed)
        if best is None or overall > best[0] + 1e-9:
            best = (overall, floor, shared, cross, shared_map * len(found) / (len(found) + missed))
    assert best is not None
    overall, floor, shared, cross, shared_map = best
    return CandidateReranker(
        version=version,
        weights={"same": shared, "cross": cross, "default": shared},
        provenance={**(provenance or {}), f"map@{k} shared weights": round(shared_map, 4),
                    f"map@{k} with cross-language weights": round(overall, 4),
                    "queries": len(examples)},
        semantic_floor=floor,
    )  # fmt: skip
