"""The embedded backend counts a keyword result's duplicate groups exactly without reading
every match, and collapses a listing without sorting every document by group: only
documents that may share a group (duplicates, and leaders once a duplicate joined) are
read. A randomized run of upserts joining and leaving groups, group changes, deletes,
commits and reopens checks every count and listing against brute force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters
from search_index.tokenize import tokenize

DIM = 8
WORDS = ("alpha", "beta", "gamma", "delta")
TENANTS = ("acme", "globex")
CITIES = (440300, 440100, None)


def open_index(path: Path) -> EmbeddedIndex:
    settings = SearchSettings(semantic_floor=-1.0)
    return EmbeddedIndex(path, dim=DIM, model_id="random", settings=settings)


def document(
    rng: np.random.Generator, doc_id: int, group_id: int | None, **fields: Any
) -> IndexDocument:
    vector = rng.normal(size=DIM).astype(np.float32)
    vector /= np.linalg.norm(vector)
    return IndexDocument(
        id=doc_id,
        tenant_id=fields.get("tenant_id", str(rng.choice(TENANTS))),
        private=fields.get("private", bool(rng.random() < 0.2)),
        title=fields.get("title", str(rng.choice(WORDS))),
        text=fields.get("text", " ".join(rng.choice(WORDS, size=2).tolist())),
        vector=vector,
        title_vector=vector,
        timestamp=float(doc_id),
        city_code=fields.get("city_code", rng.choice(np.array(CITIES, dtype=object))),
        group_id=group_id,
    )


def expected(
    committed: dict[int, IndexDocument], word: str, viewer: str, cities: tuple[int, ...]
) -> tuple[int, int]:
    """Matches and their groups, one document at a time."""
    matching = [
        d
        for d in committed.values()
        if word in f"{d.title} {d.text}".split()
        and (not d.private or d.tenant_id == viewer)
        and (not cities or d.city_code in cities)
    ]
    return len(matching), len({d.group_id if d.group_id is not None else d.id for d in matching})


def newest_of_each_group(
    docs: dict[int, IndexDocument], viewer: str, cities: tuple[int, ...]
) -> list[tuple[int, int]]:
    """A collapsed listing, one document at a time: each group's newest (ties: higher id)
    with the number of its other documents, newest first."""
    shown = sorted(
        (
            d
            for d in docs.values()
            if (not d.private or d.tenant_id == viewer) and (not cities or d.city_code in cities)
        ),
        key=lambda d: (-d.timestamp, -d.id),
    )
    members: dict[int, list[int]] = {}
    for d in shown:
        members.setdefault(d.group_id if d.group_id is not None else d.id, []).append(d.id)
    return [(ids[0], len(ids) - 1) for ids in members.values()]


def random_group(rng: np.random.Generator, doc_id: int, known: list[int]) -> int | None:
    """Alone, a duplicate of a known document (joining its group), or of one that is gone or
    never was (a group without its leader)."""
    draw = rng.random()
    if draw < 0.4 or not known:
        return None
    if draw < 0.9:
        return int(rng.choice(known))
    return int(rng.integers(1, doc_id + 5))


class _NoAggregations:
    """A tantivy index whose searchers refuse aggregations, as tantivy does beyond 65,000
    buckets: the count falls back to reading the grouped matches."""

    def __init__(self, index: Any) -> None:
        self._index = index

    def searcher(self) -> Any:
        searcher = self._index.searcher()

        class Refusing:
            def aggregate(self, *args: Any) -> Any:
                raise ValueError("Aborting aggregation because bucket limit was exceeded")

            def __getattr__(self, name: str) -> Any:
                return getattr(searcher, name)

        return Refusing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


@pytest.mark.parametrize(("seed", "aggregations"), [(1, True), (2, True), (3, False)])
def test_group_counts_match_brute_force_under_every_kind_of_write(
    tmp_path: Path, seed: int, aggregations: bool
) -> None:
    rng = np.random.default_rng(seed)
    docs: dict[int, IndexDocument] = {}
    committed: dict[int, IndexDocument] = {}
    next_id = 1

    def reopen() -> EmbeddedIndex:
        index = open_index(tmp_path / "idx")
        if not aggregations:
            index._keyword = _NoAggregations(index._keyword)  # type: ignore[assignment]
        return index

    index = reopen()
    checked = 0
    try:
        for _ in range(160):
            action = rng.random()
            known = sorted(docs)
            if action < 0.35:  # new documents, some joining groups, some in the same batch
                batch = []
                for _ in range(int(rng.integers(1, 6))):
                    batch.append(document(rng, next_id, random_group(rng, next_id, known)))
                    known.append(next_id)
                    next_id += 1
                index.upsert(batch)
                docs |= {d.id: d for d in batch}
            elif action < 0.55 and known:  # re-upserts: to another group, out, or new text
                batch = []
                for doc_id in rng.choice(known, size=min(3, len(known)), replace=False).tolist():
                    others = [i for i in known if i != doc_id]
                    batch.append(document(rng, doc_id, random_group(rng, doc_id, others)))
                index.upsert(batch)
                docs |= {d.id: d for d in batch}
            elif action < 0.7 and known:  # deletes, leaders included
                gone = rng.choice(known, size=min(2, len(known)), replace=False).tolist()
                index.delete([*gone, 10**6])
                for doc_id in gone:
                    docs.pop(doc_id)
            elif action < 0.75:  # reopen from the checkpoint
                index.close()
                index = reopen()
                committed = dict(docs)  # closing checkpoints, which commits
            else:
                index.commit()
                committed = dict(docs)
                for _ in range(3):
                    word = str(rng.choice(WORDS))
                    viewer = str(rng.choice(TENANTS))
                    cities = tuple(
                        int(c) for c in rng.choice([440300, 440100], size=int(rng.integers(0, 2)))
                    )
                    total, groups = expected(committed, word, viewer, cities)
                    for limit in (1, 1000):
                        found = index.keyword_search(
                            viewer, tokenize(word), SearchFilters(city_codes=cities),
                            limit=limit, count_groups=True,
                        )  # fmt: skip
                        assert (found.total, found.groups) == (total, groups), (word, limit)
                        checked += 1
                    listed = index.list_recent(
                        viewer, SearchFilters(city_codes=cities), offset=0, limit=1000,
                        collapse_duplicates=True,
                    )  # fmt: skip
                    assert [(h.id, h.duplicates) for h in listed.hits] == newest_of_each_group(
                        docs, viewer, cities
                    )
                    assert listed.total == len(listed.hits)
    finally:
        index.close()
    assert checked > 50


class _SearchLimits:
    """A tantivy searcher that records how deep each search asked to read."""

    def __init__(self, searcher: Any, limits: list[int]) -> None:
        self._searcher = searcher
        self._limits = limits

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self._limits.append(int(kwargs.get("limit", 10)))
        return self._searcher.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._searcher, name)


class _RecordedIndex:
    """A tantivy index whose searchers record their search depths."""

    def __init__(self, index: Any, limits: list[int]) -> None:
        self._index = index
        self._limits = limits

    def searcher(self) -> _SearchLimits:
        return _SearchLimits(self._index.searcher(), self._limits)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def test_counting_groups_reads_the_grouped_matches_not_every_match(tmp_path: Path) -> None:
    """506 matches, of which 3 groups of 3: the count reads those 9 (an aggregation of their
    groups), not all 506."""
    rng = np.random.default_rng(5)
    index = open_index(tmp_path / "idx")
    try:
        alone = [document(rng, i, None, text="alpha", private=False) for i in range(1, 501)]
        reposts = [
            document(rng, 1000 + 10 * leader + k, leader, text="alpha", private=False)
            for leader in (3, 4, 5)
            for k in (1, 2)
        ]
        index.upsert(alone)
        index.commit()
        index.upsert(reposts)  # leaders written before their duplicates joined
        index.commit()
        limits: list[int] = []
        index._keyword = _RecordedIndex(index._keyword, limits)  # type: ignore[assignment]
        found = index.keyword_search(
            "acme", ["alpha"], SearchFilters(), limit=20, count_groups=True
        )
        assert (found.total, found.groups) == (506, 500)
        assert max(limits) <= 20  # the page only: no search as deep as the matches
    finally:
        index.close()


def test_a_leader_written_before_a_restart_folds_with_a_later_duplicate(tmp_path: Path) -> None:
    """The leader's keyword document is rebuilt from what the index stored with it."""
    rng = np.random.default_rng(7)
    index = open_index(tmp_path / "idx")
    index.upsert([
        document(rng, i, None, title="gamma", text="beta", private=False) for i in (1, 2, 3)
    ])  # fmt: skip
    index.close()
    again = open_index(tmp_path / "idx")
    try:
        again.upsert([document(rng, 9, 1, title="delta", text="beta", private=False)])
        again.commit()
        found = again.keyword_search("acme", ["beta"], SearchFilters(), limit=1, count_groups=True)
        assert (found.total, found.groups) == (4, 3)
        # The leader still matches what it matched: its text came back whole.
        leader = again.keyword_search("acme", ["gamma"], SearchFilters(), limit=10)
        assert sorted(doc_id for doc_id, _ in leader.hits) == [1, 2, 3]
    finally:
        again.close()


def test_an_index_of_the_format_before_group_markers_rebuilds(tmp_path: Path) -> None:
    """A format-8 checkpoint (no group markers) is ignored: the index opens empty, the caller
    replays everything, and the counts are exact again."""
    rng = np.random.default_rng(9)
    path = tmp_path / "idx"
    old = open_index(path)
    old.upsert([document(rng, 1, None, text="alpha", private=False)])
    old.checkpoint(applied_through=12)
    old.close()
    manifest = json.loads((path / "checkpoint.json").read_text())
    (path / "checkpoint.json").write_text(json.dumps({**manifest, "format": 8}))

    again = open_index(path)
    try:
        assert again.applied_through() is None
        assert again.count() == 0
        replayed = [document(rng, i, None, text="alpha", private=False) for i in (1, 2)]
        again.upsert([*replayed, document(rng, 3, 1, text="alpha", private=False)])
        again.commit()
        found = again.keyword_search("acme", ["alpha"], SearchFilters(), limit=1, count_groups=True)
        assert (found.total, found.groups) == (3, 2)
    finally:
        again.close()
