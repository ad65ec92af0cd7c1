"""Standard ranking metrics over binary relevance."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

Doc = TypeVar("Doc", bound=Hashable)


def average_precision(ranking: Sequence[int], relevant: set[int]) -> float:
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for k, doc in enumerate(ranking, start=1):
        if doc in relevant:
            hits += 1
            total += hits / k
    return total / len(relevant)


def ndcg_at(ranking: Sequence[int], relevant: set[int], k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, doc in enumerate(ranking[:k]) if doc in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def precision_at(ranking: Sequence[int], relevant: set[int], k: int = 5) -> float:
    return sum(1 for doc in ranking[:k] if doc in relevant) / k


def recall_at(ranking: Sequence[int], relevant: set[int], k: int = 100) -> float:
    if not relevant:
        return 0.0
    return sum(1 for doc in ranking[:k] if doc in relevant) / len(relevant)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def average_precision_at(ranking: Sequence[Doc], relevant: set[Doc], k: int = 100) -> float:
    """AP@k: precision at each relevant document in the top k, over min(|relevant|, k)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, doc in enumerate(ranking[:k], start=1):
        if doc in relevant:
            hits += 1
            total += hits / rank
    return total / min(len(relevant), k)


def graded_ndcg_at(ranking: Sequence[Doc], grades: dict[Doc, int], k: int = 10) -> float:
    """Graded nDCG@k with gain 2^grade − 1 and a log2(rank + 1) discount."""
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


class BM25:
    """Okapi BM25 over the terms ``terms`` makes of each text: the evaluations' plain
    baselines (no dictionary, no vectors), each with its own tokenizer."""

    def __init__(
        self, documents: Iterable[str], terms: Callable[[str], list[str]], *,
        k1: float = 1.2, b: float = 0.75, top: int = 100,
    ) -> None:  # fmt: skip
        self.terms, self.k1, self.b, self.top = terms, k1, b, top
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []
        for doc_id, text in enumerate(documents):
            counts = Counter(terms(text))
            self.lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self.postings[term].append((doc_id, count))
        self.average_length = (
            sum(self.lengths) / len(self.lengths) if self.lengths else 0.0
        ) or 1.0

    def idf(self, term: str) -> float:
        n, df = len(self.lengths), len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def rank(self, query: str, k: int | None = None) -> list[int]:
        """Document indexes by descending score (ties by index), those sharing a term only."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(self.terms(query)):
            idf = self.idf(term)
            for doc_id, tf in self.postings.get(term, ()):
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc_id] / self.average_length)
                scores[doc_id] += idf * tf * (self.k1 + 1) / (tf + norm)
        return sorted(scores, key=lambda d: (-scores[d], d))[: self.top if k is None else k]
