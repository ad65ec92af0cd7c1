"""Reciprocal rank fusion, shared by every backend (Elasticsearch's RRF needs a paid licence)."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = 60
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(d) = Σ 1 / (k + rank). Ties keep first-seen order.

    The score is scaled so that a document ranked first by every list scores 1.0.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    best_possible = len(rankings) / (k + 1) if rankings else 1.0
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return [(doc_id, score / best_possible) for doc_id, score in fused]
