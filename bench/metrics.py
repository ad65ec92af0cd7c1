"""Standard ranking metrics over binary relevance."""

from __future__ import annotations

import math
from collections.abc import Sequence


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
