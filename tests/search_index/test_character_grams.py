"""Chinese character unigrams and bigrams beside the words in keyword search, through the
search API: short titles that share characters but no jieba word are found (药剂师 → 药学,
警探 → 刑警), phrases and NOT keep their meaning, highlights mark the shared characters,
English search is unchanged, and an index of the older, words-only format is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.runtime import Runtime
from core.settings import Settings
from search_index.hybrid import HybridSearch
from search_index.protocol import SearchQuery
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
from tests.conftest import Api

pytestmark = pytest.mark.anyio

POSTINGS: list[tuple[str, dict[str, Any]]] = [
    # No posting but "hospital" holds the words of 药剂师 (药剂, 药剂师).
    ("hospital", {"title": "医院药剂师", "description": "负责处方审核与调剂工作。"}),
    ("pharmacy", {"title": "药学专员", "description": "负责药品质量管理与用药咨询。"}),
    ("bartender", {"title": "调酒师", "description": "在酒吧调制鸡尾酒。"}),
    ("accounting", {"title": "会计", "description": "账务处理与税务申报。"}),
    ("english", {"title": "Pharmacist", "description": "Dispensing and patient counselling."}),
]


@pytest.fixture
async def corpus(api: Api) -> dict[int, str]:
    ids = {}
    for key, fields in POSTINGS:
        job = await api.create_job("acme", required_skills=[], **fields)
        ids[job["id"]] = key
    return ids


async def keyword_hits(api: Api, query: str) -> list[dict[str, Any]]:
    result = await api.search_jobs("acme", query, mode="keyword", page_size=50)
    return list(result["hits"])


async def keys(api: Api, corpus: dict[int, str], query: str) -> list[str]:
    return [corpus[h["id"]] for h in await keyword_hits(api, query)]


async def test_a_title_sharing_characters_but_no_word_is_found(
    api: Api, corpus: dict[int, str]
) -> None:
    found = await keys(api, corpus, "药剂师")
    assert found[0] == "hospital"  # the words still count most
    # 药学专员 shares 药 only; 调酒师 shares 师 only.
    assert "pharmacy" in found and "bartender" in found
    assert "accounting" not in found and "english" not in found


async def test_a_phrase_still_requires_the_phrase(api: Api, corpus: dict[int, str]) -> None:
    assert await keys(api, corpus, '"药剂师"') == ["hospital"]
    assert await keys(api, corpus, '"药学专员"') == ["pharmacy"]


async def test_not_still_excludes_beside_the_characters(api: Api, corpus: dict[int, str]) -> None:
    found = await keys(api, corpus, "药剂师 -调酒")
    assert "bartender" not in found
    assert found[0] == "hospital" and "pharmacy" in found


async def test_and_still_needs_the_words_of_both_sides(api: Api, corpus: dict[int, str]) -> None:
    # 药学专员 shares characters with 药剂师, but AND asks for its words.
    assert await keys(api, corpus, "药剂师 AND 处方") == ["hospital"]


async def test_highlights_mark_the_shared_characters(api: Api, corpus: dict[int, str]) -> None:
    hits = {corpus[h["id"]]: h for h in await keyword_hits(api, "药剂师")}
    assert hits["pharmacy"]["highlights"]["title"] == ["<em>药</em>学专员"]
    # Where the query's words occur, lone characters are not marked.
    assert hits["hospital"]["highlights"]["title"] == ["医院<em>药剂师</em>"]


async def test_english_keyword_search_reads_words_only(api: Api, corpus: dict[int, str]) -> None:
    assert await keys(api, corpus, "pharmacist") == ["english"]
    assert await keys(api, corpus, "pharma") == []


async def test_candidate_keyword_search_finds_shared_characters(api: Api) -> None:
    police = await api.create_candidate(
        "acme", desired_titles=["刑警"], summary="刑侦工作八年。", experience=[]
    )
    await api.create_candidate("acme")  # a backend engineer: no character in common
    body = {"query": "警探", "mode": "keyword", "page_size": 50}
    response = await api.post("/v1/search/candidates", "acme", body)
    assert response.status_code == 200, response.text
    assert [h["id"] for h in response.json()["hits"]] == [police["id"]]


def test_an_index_of_the_words_only_format_is_rebuilt_at_start_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(environment="test", data_dir=data_dir, embedding={"provider": "hashing"})
    runtime = Runtime(settings)
    runtime.start(background=False)
    with runtime.db.session() as session:
        get_or_create_tenant(session, "acme")
        upsert_job(session, tenant_id="acme", fields={"title": "药学专员", "external_id": "1"})
    runtime.sync.drain()
    runtime.close()
    # What format 6 (words only, no character field) left on disk.
    jobs = data_dir / "index" / "jobs"
    manifest = json.loads((jobs / "checkpoint.json").read_text())
    (jobs / "checkpoint.json").write_text(json.dumps({**manifest, "format": 6}))
    (jobs / "keyword" / "from-format-6").write_text("")

    restarted = Runtime(settings)
    try:
        restarted.start(background=False)
        assert not (jobs / "keyword" / "from-format-6").exists()  # rebuilt, not reused
        search = SearchQuery(viewer_tenant="acme", text="药剂师", mode="keyword")
        assert [h.id for h in HybridSearch(restarted.jobs_index).search(search).hits] == [1]
        assert json.loads((jobs / "checkpoint.json").read_text())["format"] > 6
    finally:
        restarted.close()
