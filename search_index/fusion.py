"""Reciprocal rank fusion, shared by every backend (Elasticsearch's RRF needs a paid licence)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fuse_rankings(
    rankings: Sequence[Sequence[int]], *, k: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """``reciprocal_rank_fusion`` as two arrays, ids (int64) and scores (float64), best first."""
    lists = [np.asarray(ranking, dtype=np.int64) for ranking in rankings if len(ranking)]
    best_possible = len(rankings) / (k + 1) if rankings else 1.0
    if not lists:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    every = np.concatenate(lists)
    unique, first, inverse = np.unique(every, return_index=True, return_inverse=True)
    # Slots in first-seen order, as a dict fills: ties keep that order in the stable sort.
    seen_order = np.argsort(first, kind="stable")
    slot_of_unique = np.empty(len(unique), dtype=np.int64)
    slot_of_unique[seen_order] = np.arange(len(unique))
    slots = slot_of_unique[inverse.reshape(-1)]
    scores = np.zeros(len(unique))
    start = 0
    for ranking in lists:
        end = start + len(ranking)
        # One list at a time, in rank order, so each sum adds in the same order as a loop
        # would (floating-point addition is not associative).
        np.add.at(scores, slots[start:end], 1.0 / (k + np.arange(1, len(ranking) + 1)))
        start = end
    order = np.argsort(-scores, kind="stable")
    return unique[seen_order][order], scores[order] / best_possible


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = 60
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(d) = Σ 1 / (k + rank). Ties keep first-seen order.

    The score is scaled so that a document ranked first by every list scores 1.0.
    """
    ids, scores = fuse_rankings(rankings, k=k)
    return list(zip(ids.tolist(), scores.tolist(), strict=True))
