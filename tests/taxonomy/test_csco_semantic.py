"""The Chinese title coder blended with the service's encoder: the blend reaches postings
through the API, its leave-out covers the semantic side, vectors come through the embedding
cache; and the CSCO 2022 table has one row per code under existing headings."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import httpx
import numpy as np
import pytest

from core.encoder import Encoder
from core.fingerprints import content_hash
from core.settings import Settings
from representation.encoders import CachedEncoder, HashingEncoder
from store.db import Database
from taxonomy.occupations import (
    Occupation,
    OccupationCoder,
    csco_coder,
    csco_labelled_titles,
    csco_occupations,
    occupation_hierarchy,
)
from tests.conftest import Api


def _table_rows() -> list[dict[str, str]]:
    path = resources.files("taxonomy") / "data" / "csco2022_occupations.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csco_codes_are_unique() -> None:
    counts = Counter(row["code"] for row in _table_rows())
    assert [code for code, n in counts.items() if n > 1] == []


def test_every_csco_code_sits_under_existing_headings() -> None:
    rows = _table_rows()
    codes = {row["code"] for row in rows}
    missing = set()
    for row in rows:
        parts = row["code"].split("-")
        for depth in range(1, 4):
            if depth > 1 and not parts[depth - 1].strip("0"):
                break  # a group's own code ends where its digits do
            heading = "-".join(parts[:depth] + ["00"] * (4 - depth))
            if heading != row["code"] and heading not in codes:
                missing.add(heading)
    assert sorted(missing) == []
    # The headings the table lacked, named as the coder's hierarchy now names them.
    for code in ("5-02-03-01", "1-06-01-01", "2-01-04-02", "2-02-32-02"):
        assert all(group.name for group in occupation_hierarchy(code)), code


_OCCUPATIONS = [
    Occupation("2-06-03-00", "会计", 4, ("会计", "会计专员", "财务会计")),
    Occupation("4-03-02-01", "中式烹调师", 4, ("中式烹调师", "厨师", "炒锅厨师")),
    Occupation("4-01-02-04", "收银员", 4, ("收银员", "超市收银", "前台收银")),
    Occupation("4-02-07-08", "快递员", 4, ("快递员", "快递派送员", "同城快递")),
]
# "收银台员" is labelled a cook here (a wrong label, so that only its own document could
# make the cook code win); the other examples are ordinary.
_EXAMPLES = [
    ("收银台员", "4-03-02-01"),
    ("后厨厨师", "4-03-02-01"),
    ("出纳会计", "2-06-03-00"),
    ("快递配送", "4-02-07-08"),
    ("超市收银员", "4-01-02-04"),
]


def _semantic_only(examples: list[tuple[str, str]]) -> OccupationCoder:
    coder = OccupationCoder(_OCCUPATIONS, examples=examples)
    coder.attach_encoder(HashingEncoder(), semantic_weight=1.0)
    return coder


def test_leave_out_removes_a_titles_own_documents_from_the_semantic_side() -> None:
    with_it = _semantic_only(_EXAMPLES)
    without = _semantic_only([e for e in _EXAMPLES if e[0] != "收银台员"])
    left_out = with_it.scores(["收银台员"], leave_out=True)
    # As if the example had never been given: its vector neither votes nor moves the
    # cook's mean vector.
    np.testing.assert_allclose(left_out, without.scores(["收银台员"]), atol=1e-6)
    assert with_it.code("收银台员", leave_out=True)[0].code == "4-01-02-04"
    # Not left out, its own document decides.
    assert with_it.code("收银台员")[0].code == "4-03-02-01"


def test_leave_out_keeps_the_occupations_other_documents() -> None:
    coder = _semantic_only(_EXAMPLES)
    # "超市收银员" is an example of the cashier code, whose labels stay.
    matches = coder.code("超市收银员", leave_out=True)
    assert matches[0].code == "4-01-02-04"
    assert 0 < matches[0].score < coder.code("超市收银员")[0].score


class _Counting:
    """An encoder that records what it was asked to encode."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += list(texts)
        return self.encoder.encode(texts)


def test_unstored_vectors_are_stored_by_the_next_encode_not_encoded_again(
    settings: Settings,
) -> None:
    base = _Counting(HashingEncoder())
    db = Database(settings)
    try:
        cache = CachedEncoder(base, db)
        unstored = cache.unstored()
        first = unstored.encode(["数据分析师"])
        assert cache.cached([content_hash("数据分析师")]) == {}  # nothing written
        np.testing.assert_array_equal(unstored.encode(["数据分析师"]), first)
        np.testing.assert_array_equal(cache.encode(["数据分析师"]), first)
        assert base.texts == ["数据分析师"]  # encoded once
        assert list(cache.cached([content_hash("数据分析师")])) == [content_hash("数据分析师")]
    finally:
        db.dispose()


# A title outside the labelled set whose occupation (the code the labelled set gives
# 编程老师, 钢琴老师) has no character in common with it: character grams alone land on the
# teaching heading; the encoder's neighbours are the labelled teachers of other subjects.
UNSEEN_TITLE = "少儿编程老师"
UNSEEN_CODE = "2-08-99-00"  # 其他教学人员


def _lexical_coder() -> OccupationCoder:
    return OccupationCoder(csco_occupations(), examples=csco_labelled_titles())


def test_the_unseen_title_shares_no_character_with_its_occupation() -> None:
    occupation = next(o for o in csco_occupations() if o.code == UNSEEN_CODE)
    assert set(UNSEEN_TITLE).isdisjoint("".join(occupation.labels))
    assert UNSEEN_TITLE not in {title for title, _ in csco_labelled_titles()}
    lexical = _lexical_coder().code(UNSEEN_TITLE, top=1)
    assert lexical and lexical[0].code != UNSEEN_CODE


@pytest.mark.anyio
async def test_a_posting_is_coded_by_the_blend_of_the_service_encoder(api: Api) -> None:
    # A first start in a process encodes the coder's documents (minutes on a busy machine).
    assert api.runtime.title_coder_ready.wait(900)
    job = await api.create_job("acme", title=UNSEEN_TITLE)
    assert job["occupation_code"] == UNSEEN_CODE, job["occupation_code"]
    fetched = (await api.get(f"/v1/jobs/{job['id']}", "acme")).json()
    assert fetched["occupation_code"] == UNSEEN_CODE
    assert 0 < fetched["occupation_confidence"] < 1


@pytest.mark.anyio
async def test_intake_encodes_a_title_once(
    app_factory: Callable[..., Any], settings: Settings, use_encoder: Encoder
) -> None:
    counting = _Counting(use_encoder)
    app = app_factory(encoder=counting)
    title = UNSEEN_TITLE
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            assert api.runtime.title_coder_ready.wait(900)
            job = await api.create_job("acme", title=title)
            assert job["occupation_code"] == UNSEEN_CODE
            api.runtime.sync.drain()  # the posting embedded and indexed
            found = await api.search_jobs("acme", "少儿编程")
            assert job["id"] in [hit["id"] for hit in found["hits"]]
    # Coded and embedded for its title vector: one encoding, found through the cache.
    assert counting.texts.count(title) == 1


@pytest.mark.anyio
async def test_a_runtime_with_an_unmeasured_encoder_codes_lexically(
    app_factory: Callable[..., Any], settings: Settings
) -> None:
    app = app_factory(encoder=HashingEncoder())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            assert api.runtime.title_coder_ready.wait(900)
            job = await api.create_job("acme", title=UNSEEN_TITLE)
    assert job["occupation_code"] == _lexical_coder().code(UNSEEN_TITLE, top=1)[0].code
    assert csco_coder().encoder is None
