"""Search re-ranking: the order it gives, what it leaves alone (total, facets, paging), and
how its weights are fitted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from search_index.rerank import (
    RerankExample,
    SearchReranker,
    Weights,
    default_search_reranker,
    fit_search_reranker,
    rerank_signals,
    text_language,
)
from search_index.testing import CORPUS, ENCODER, query, search
from tests.search_index.test_embedded import open_index

CONTENT_ONLY = SearchReranker("content", weights={"default": Weights(1.0, 0.0, 0.0)})
KEYWORD_ONLY = SearchReranker("keyword", weights={"default": Weights(0.0, 0.0, 1.0)})


@pytest.mark.parametrize(
    ("text", "language"),
    [("Python后端开发工程师", "zh"), ("会计", "zh"), ("Java Python 招聘", "zh"),
     ("machine learning engineer", "en"), ("2024 ++", None), ("", None)],
)  # fmt: skip
def test_text_language(text: str, language: str | None) -> None:
    assert text_language(text) == language


def test_signals_are_cosines_and_relative_bm25() -> None:
    vectors = ENCODER.encode(["python engineer", "会计", "python"])
    signals = rerank_signals(vectors[2], np.stack(vectors[:2]), np.stack(vectors[:2]), [4.0, 0.0])
    assert signals.shape == (2, 5) and signals[:, 3].tolist() == [0, 0]  # no skills asked
    np.testing.assert_allclose(
        signals[:, 0], [vectors[0] @ vectors[2], vectors[1] @ vectors[2]], rtol=1e-5
    )
    np.testing.assert_allclose(signals[:, 2], [1.0, 0.0])
    assert rerank_signals(vectors[2], np.stack(vectors[:2]), np.stack(vectors[:2]), [0.0, 0.0])[
        :, 2
    ].tolist() == [0, 0]


def test_reranking_orders_by_the_weighted_signals_and_keeps_the_result(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    index.upsert(CORPUS)
    index.commit()
    text = "Python backend engineer"
    plain = search(index, query(text, limit=50, facets=("city",)))
    by_content = search(index, query(text, limit=50, facets=("city",), rerank=CONTENT_ONLY))
    by_keyword = search(index, query(text, limit=50, rerank=KEYWORD_ONLY))
    # The same documents, counts and facets; only the order changes.
    assert {h.id for h in by_content.hits} == {h.id for h in plain.hits}
    assert by_content.total == plain.total and by_content.facets == plain.facets
    vector = ENCODER.encode([text])[0]
    stored = index.stored_fields([h.id for h in by_content.hits])
    cosines = [float(stored[h.id].vector @ vector) for h in by_content.hits]
    assert cosines == sorted(cosines, reverse=True)
    assert [h.score for h in by_content.hits] == sorted(
        (h.score for h in by_content.hits), reverse=True
    )
    keyword_hits = [h for h in by_keyword.hits if h.keyword_score]
    assert [h.id for h in by_keyword.hits[: len(keyword_hits)]] == [
        h.id for h in sorted(keyword_hits, key=lambda h: -(h.keyword_score or 0))
    ]
    # Pages continue each other.
    first = search(index, query(text, limit=2, rerank=CONTENT_ONLY))
    second = search(index, query(text, limit=2, offset=2, rerank=CONTENT_ONLY))
    assert [h.id for h in first.hits + second.hits] == [h.id for h in by_content.hits[:4]]
    index.close()


def _examples(telling: int, seed: int) -> list[RerankExample]:
    """Random signals where only column ``telling`` says which documents are relevant."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(30):
        relevant = (rng.random(40) < 0.3).astype(float)
        signals = rng.random((40, 5))
        signals[:, telling] = 0.5 * signals[:, telling] + 0.5 * relevant
        examples.append(RerankExample(signals, relevant))
    return examples


def test_skill_signal_is_the_share_of_asked_skills() -> None:
    vectors = np.stack(ENCODER.encode(["a", "b", "c"]))
    signals = rerank_signals(vectors[0], vectors, vectors, [0, 0, 0], ["python", "sql"],
                             [("python", "sql", "go"), ("python",), ()])  # fmt: skip
    assert signals[:, 3].tolist() == [1.0, 0.5, 0.0]


def test_fitting_finds_the_signal_that_separates_relevant_documents() -> None:
    fitted = fit_search_reranker(
        {"zh→zh": _examples(2, seed=1), "en→zh": _examples(0, seed=2),
         "en→zh+skills": _examples(3, seed=3)}, version="t",
    )  # fmt: skip
    same, cross = (
        fitted.weights_for("en", "en", skills=False),
        fitted.weights_for("zh", "en", skills=False),
    )
    assert same.keyword > max(same.content, same.title) and same.skills == 0
    assert cross.content > max(cross.title, cross.keyword) and cross.skills == 0
    named = fitted.weights_for("zh", "en", skills=True)
    assert named.skills > max(named.content, named.title, named.keyword)
    assert fitted.weights_for(None, "en", skills=False) == fitted.weights["default"] == same
    for weights in fitted.weights.values():
        assert abs(sum(weights.vector()) - 1.0) < 1e-6
    assert float(str(fitted.provenance["map same language"])) > 0.9


def test_documents_in_the_other_language_get_the_cross_weights(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    index.upsert([replace(d, language="en" if d.id in (1, 4, 5) else "zh") for d in CORPUS])
    index.commit()
    # Keyword decides for the query's language, content across languages.
    split = SearchReranker("split", weights={"en→en": Weights(0.0, 0.0, 1.0),
                                             "default": Weights(1.0, 0.0, 0.0)})  # fmt: skip
    english = search(index, query("python engineer", limit=50, rerank=split))
    vector = ENCODER.encode(["python engineer"])[0]
    best = max(h.keyword_score or 0.0 for h in english.hits)
    assert {h.id for h in english.hits} >= {1, 2}
    for hit in english.hits:
        if hit.id in (2, 3):  # Chinese postings: their content cosine
            expected = max(float(index.stored_fields([hit.id])[hit.id].vector @ vector), 0.0)
        else:  # English ones: their BM25 relative to the best
            expected = (hit.keyword_score or 0.0) / best
        assert hit.score == pytest.approx(expected, abs=1e-6), hit
    index.close()


def test_the_shipped_reranker_is_fitted_on_the_tuning_half_of_real_titles() -> None:
    shipped = default_search_reranker()
    assert shipped.version.startswith("relevance-")
    assert shipped.provenance["source"] == "talentmatch eval relevance --fit-default"
    assert "tuning half" in str(shipped.provenance["corpus"])
    for same in ("zh→zh", "en→en", "zh→zh+skills", "en→en+skills"):
        assert shipped.weights[same].occupation > 0
        assert abs(sum(shipped.weights[same].vector()) - 1.0) < 1e-6


def test_fitting_weighs_the_occupation_signal_when_it_separates_relevant_documents() -> None:
    examples = {"zh→zh": _examples(4, seed=4), "en→en": _examples(4, seed=5)}
    fitted = fit_search_reranker(examples, version="t", occupation=True)
    same = fitted.weights_for("zh", "zh", skills=False)
    assert same.occupation > max(same.content, same.title, same.keyword) and same.skills == 0
    # Without it the fit cannot use the column at all.
    assert fit_search_reranker(examples, version="t").weights["zh→zh"].occupation == 0
