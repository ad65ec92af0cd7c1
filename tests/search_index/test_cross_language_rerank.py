"""Cross-language posting search (issue 14): an English query over one tenant's English and
Chinese postings finds the right Chinese postings in hybrid mode at least as well as the
encoder alone does, although they share no word with the query.

The failure this guards against (``bench/results/cross_language_diagnosis.md``): a query that
names a skill ("chef" names cooking) took the ``+skills`` cross-language weights, which gave
most of the score to the skills signal; postings that list no skills then scored at most a
quarter of their cosine, and the query's own-language postings took the whole page. The
re-ranking weights are fitted on where documents land on the page beside the other slice's
documents (``fit_weights(page=...)``), which the last tests here check on made-up signals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.metrics import average_precision
from search_index.query_understanding import skills_in
from search_index.rerank import RerankExample, _average_precision, fit_weights
from tests.conftest import Api

NEUTRAL_ZH = "负责日常工作，按时完成上级交办的任务。"
NEUTRAL_EN = "Day-to-day work as assigned by the team lead."

QUERY = "chef"
# The right Chinese postings: cooks and chefs, no word in common with "chef".
RIGHT_ZH = ["厨师", "粤菜厨师", "后厨厨师"]
UNRELATED_ZH = ["餐厅服务员", "收银员", "外卖配送员", "酒店前台", "会计", "保安员"]
# English postings that an English query finds by its own language's weights, and that
# share the page with the Chinese ones: chefs (closer to the query than any Chinese title)
# and unrelated occupations (farther than the Chinese cooks).
ENGLISH = [
    "chef", "head chef", "sous chef", "pastry chef", "private chef", "cook",
    "accountant", "security guard", "truck driver", "electrician", "software tester",
    "bank teller", "nurse",
]  # fmt: skip
PAGE = 10  # fewer than the English postings: they can fill the page alone


async def _postings(api: Api, tenant: str, titles: list[str], language: str) -> dict[str, int]:
    ids = {}
    for title in titles:
        job = await api.create_job(
            tenant, title=title, description=NEUTRAL_ZH if language == "zh" else NEUTRAL_EN,
            required_skills=[], preferred_skills=[], language=language, company=None,
            district=None,
        )  # fmt: skip
        ids[title] = job["id"]
    return ids


async def _chinese_hits(api: Api, chinese: set[int], mode: str) -> list[int]:
    """The Chinese postings among the first page of ``mode``, in order."""
    result: dict[str, Any] = await api.search_jobs(
        "acme",
        QUERY,
        mode=mode,
        page_size=PAGE,
        interpret_places=False,
        include_duplicates=True,  # the postings share a description: not duplicates here
    )
    return [hit["id"] for hit in result["hits"] if hit["id"] in chinese]


@pytest.mark.anyio
async def test_an_english_query_ranks_the_right_chinese_postings_in_hybrid_as_semantic_does(
    api: Api,
) -> None:
    assert skills_in(QUERY), "the query names a skill: the +skills weights apply"
    right = await _postings(api, "acme", RIGHT_ZH, "zh")
    unrelated = await _postings(api, "acme", UNRELATED_ZH, "zh")
    await _postings(api, "acme", ENGLISH, "en")
    chinese = set(right.values()) | set(unrelated.values())
    relevant = set(right.values())
    # Keyword retrieval cannot find them: no shared word.
    assert not await _chinese_hits(api, chinese, "keyword")
    semantic = await _chinese_hits(api, chinese, "semantic")
    semantic_ap = average_precision(semantic, relevant)
    assert semantic_ap > 0.5, semantic  # the encoder alone puts them on the first page
    hybrid = await _chinese_hits(api, chinese, "hybrid")
    assert average_precision(hybrid, relevant) >= semantic_ap, (hybrid, semantic)
    # Above every unrelated Chinese posting that makes the page.
    shown = [doc in relevant for doc in hybrid]
    assert shown[: sum(shown)] == [True] * sum(shown) and sum(shown) == len(relevant), hybrid


def test_a_signal_that_is_zero_for_every_document_is_not_a_free_choice_beside_rivals() -> None:
    """Documents whose order only the content cosine tells, beside rivals (another slice's
    documents) scoring 0.3 to 0.5: MAP among themselves ties on the weight of the all-zero
    keyword column, but with the page counted only weights that keep the relevant ones above
    the rivals reach the best MAP."""
    rng = np.random.default_rng(7)
    examples = []
    for _ in range(20):
        relevant = np.array([0.0] * 8 + [1.0, 1.0])  # last: ties would not find them
        signals = np.zeros((10, 5))
        signals[:, 0] = np.where(relevant > 0, 0.6, 0.2) + rng.uniform(0, 0.05, 10)
        signals[:, 1] = signals[:, 0]
        rivals = rng.uniform(0.3, 0.5, 20)
        examples.append(RerankExample(signals, relevant, rivals))
    blind, blind_map = fit_weights(examples, skills=False)
    seeing, seeing_map = fit_weights(examples, skills=False, page=5)
    assert blind_map == pytest.approx(1.0)  # any weights on the cosines order them right
    assert blind.keyword > 0.4  # ... so the tie goes to the first grid point, mostly keyword
    assert seeing_map == pytest.approx(1.0)
    # The relevant documents (cosine ~0.6) must beat rivals up to 0.5.
    assert seeing.content + seeing.title > 0.5 / 0.6 and seeing.keyword < 0.2, seeing
    page_map = _average_precision(
        np.stack([e.signals for e in examples[:1]])[0] @ np.array([[*blind.vector()]]).T,
        examples[0].relevant, examples[0].rivals, 5,
    )  # fmt: skip
    assert page_map[0] < 1.0  # the blind fit's weights push them off the page


def test_a_document_counts_only_where_it_makes_the_page_beside_the_rivals() -> None:
    scores = np.array([[0.9], [0.4], [0.2]])
    relevant = np.array([1.0, 1.0, 0.0])
    rivals = np.array([0.95, 0.5, 0.45])
    # Merged: rival .95, doc .9 (2nd), rival .5, rival .45, doc .4 (5th), doc .2 (6th).
    # Without a page: AP 1. Page of 4: the second relevant document is missed: (1/1) / 2.
    assert _average_precision(scores, relevant)[0] == pytest.approx(1.0)
    assert _average_precision(scores, relevant, rivals, 4)[0] == pytest.approx(0.5)
    assert _average_precision(scores, relevant, rivals, 5)[0] == pytest.approx(1.0)
