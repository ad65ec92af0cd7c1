"""Candidate search re-ranks by occupation as posting search does: the query is coded
(CSCO 2022 for Chinese, ISCO-08 via ESCO for English), each résumé's own code is compared
with it (same unit group, same minor group, across the two classifications), and that
proximity is one of the re-ranking signals."""

from __future__ import annotations

from typing import Any

import numpy as np

from api.schemas import SearchRequest
from matching.search import code_query_occupations, search_candidates
from search_index.candidate_rerank import SIGNALS, candidate_signals
from search_index.protocol import SearchQuery, SearchResult, StoredFields

OCCUPATION = SIGNALS.index("occupation")


def stored(codes: list[str | None]) -> StoredFields:
    rows = len(codes)
    vectors = np.eye(rows, 4, dtype=np.float32)
    return StoredFields(
        ids=list(range(1, rows + 1)), vectors=vectors, title_vectors=vectors,
        skills=[()] * rows, languages=["en"] * rows, sections=[np.zeros((0, 4))] * rows,
        occupation_codes=codes,
    )  # fmt: skip


def test_the_occupation_signal_is_the_proximity_of_each_resume_to_the_query() -> None:
    (code, confidence), *_ = code_query_occupations("Accountant")
    assert code == "ISCO-08:2411"
    query = [(code, confidence)]
    signals = candidate_signals(
        np.ones(4, dtype=np.float32), stored(["ISCO-08:2411", "ISCO-08:2412", "ISCO-08:7411", None]),
        [0.0] * 4, (), query,
    )  # fmt: skip
    same_unit, same_minor, other, unknown = signals[:, OCCUPATION]
    assert same_unit == confidence
    assert 0 < same_minor < same_unit
    assert other == 0 and unknown == 0
    no_query = candidate_signals(np.ones(4, dtype=np.float32), stored(["ISCO-08:2411"] * 4),
                                 [0.0] * 4, (), ())  # fmt: skip
    assert not no_query[:, OCCUPATION].any()


class RecordingSearch:
    """Records what the service asks of the index (the index itself is not under test)."""

    def __init__(self) -> None:
        self.queries: list[SearchQuery] = []

    def search(self, query: SearchQuery) -> SearchResult:
        self.queries.append(query)
        return SearchResult(total=0, hits=[])


def test_candidate_search_codes_the_query_for_re_ranking() -> None:
    recording = RecordingSearch()
    encode: Any = lambda text: np.ones(4, dtype=np.float32)  # noqa: E731
    search_candidates(recording, encode, viewer_tenant="acme",  # type: ignore[arg-type]
                      request=SearchRequest(query="Accountant", mode="hybrid"))  # fmt: skip
    (query,) = recording.queries
    assert query.occupations == code_query_occupations("Accountant")
    assert query.occupations[0][0] == "ISCO-08:2411"
