"""The vectors matching and re-ranking score with, read from the database for engines that
do not hand them back (``search_index.protocol.DocumentVectors``).

As each document is indexed, ``search_index.sync`` records the hashes of its embedded texts
(content, title, and a candidate's sections; ``store.vector_refs``); the vectors themselves are the embedding cache's rows of
those hashes, written when the texts were encoded. So the vectors live once, in the
database, at full precision, and the engine may keep whatever compact copy its kNN needs.
A small in-process cache keeps the vectors of often-retrieved documents (popular postings
come back in every candidate's matches)::

    vectors = DatabaseVectors(db, EntityKind.JOB, encoder)
    vectors.stored_fields([12, 40])  # StoredFields of the known ids, in that order
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

import numpy as np

from core.domain import EntityKind
from core.settings import SearchSettings
from representation.encoders import CachedEncoder
from search_index.protocol import DocumentVectors, SearchBackend, StoredFields
from store.db import Database
from store.vector_refs import vector_refs

VectorSource = Literal["index", "database"]


class DatabaseVectors:
    """``DocumentVectors`` from ``document_vectors`` rows and the embedding cache."""

    def __init__(
        self, db: Database, kind: EntityKind, encoder: CachedEncoder, *, cache_size: int = 20_000
    ) -> None:
        self._db = db
        self._kind = kind
        self._encoder = encoder
        self._size = cache_size
        # Text hash → vector. An entry never goes stale: a changed text has another hash.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def stored_fields(self, ids: Sequence[int]) -> StoredFields:
        with self._db.session() as session:
            refs = vector_refs(session, self._kind, list(dict.fromkeys(ids)))
        wanted = {
            h
            for ref in refs.values()
            for h in (ref.content_hash, ref.title_hash, *ref.section_hashes)
        }
        vectors = self._vectors_of(wanted)
        # A document whose cache rows are gone (erased since retrieval) is left out, as an
        # unknown id is.
        known = [
            refs[doc_id]
            for doc_id in dict.fromkeys(ids)
            if doc_id in refs
            and refs[doc_id].content_hash in vectors
            and refs[doc_id].title_hash in vectors
        ]
        dim = self._encoder.dim
        return StoredFields(
            ids=[ref.entity_id for ref in known],
            vectors=_stack([vectors[ref.content_hash] for ref in known], dim),
            title_vectors=_stack([vectors[ref.title_hash] for ref in known], dim),
            skills=[ref.skills for ref in known],
            languages=[ref.language for ref in known],
            sections=[
                _stack([vectors[h] for h in ref.section_hashes if h in vectors], dim)
                for ref in known
            ],
            occupation_codes=[ref.occupation_code for ref in known],
        )

    def _vectors_of(self, hashes: set[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for h in hashes:
                vector = self._vectors.get(h)
                if vector is not None:
                    self._vectors.move_to_end(h)
                    found[h] = vector
        missing = sorted(hashes - found.keys())
        if missing:
            fresh = self._encoder.cached(missing)
            found.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        return found

    def forget(self, hashes: Sequence[str]) -> None:
        """Drop cached vectors (their texts were erased)."""
        with self._lock:
            for h in hashes:
                self._vectors.pop(h, None)


def _stack(rows: list[np.ndarray], dim: int) -> np.ndarray:
    return np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)


def vector_source(settings: SearchSettings, backend: SearchBackend) -> VectorSource:
    """Where matching reads vectors: from the engine when it holds them (unless the settings
    say ``database``), else from the database."""
    if settings.vectors == "database" or not isinstance(backend, DocumentVectors):
        return "database"
    return "index"
