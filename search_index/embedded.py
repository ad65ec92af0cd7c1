"""The embedded search backend: one directory on disk, no server.

- keywords: tantivy (BM25) over jieba-segmented text, filters as tantivy sub-queries;
- vectors: an HNSW graph, or an exact scan when the filtered set is small; by
  ``settings.search.embedded.vector_codec``, float32 (an hnswlib graph beside a numpy copy)
  or one float16 / int8 copy inside a faiss ``IndexHNSWSQ`` (``_FaissVectors``);
- filters for the vector side: numpy columns of the filterable fields, one row ("slot")
  per document, so a filter becomes a boolean mask before retrieval, not after a top-k cut.

Durability: tantivy commits on ``commit``; the vectors and columns are written atomically
on ``checkpoint``. The caller (``search_index.sync``) keeps outbox events until a
checkpoint covers them, so a crash in between replays them (every operation is idempotent).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal

import faiss as _faiss
import hnswlib
import numpy as np
import tantivy

from core.settings import EmbeddedSearchSettings, SearchSettings
from search_index.errors import IndexLockedError, SearchBackendError
from search_index.protocol import (
    SALARY_BANDS,
    Facet,
    IndexDocument,
    KeywordHits,
    ListedPage,
    SearchFilters,
    SearchHit,
    StoredFields,
)
from search_index.query_syntax import Clause, KeywordQuery, Match
from search_index.tokenize import char_weight, query_char_grams, segment, segment_chars

log = logging.getLogger(__name__)
# faiss-cpu's bundled stubs miss SWIG's wrappers (SearchParametersHNSW, downcast results,
# enum constants): read untyped.
faiss: Any = _faiss

# 5: the outbox marker (applied_through); 6: positions in the text and a title field
# (phrases, title:), so older indexes rebuild; 7: Chinese character grams beside the words;
# 8: one visibility term per document instead of the tenant and private fields;
# 9: each document's duplicate group, a marker on the members of groups of several, and
# the inputs of each keyword document (exact group counts without a pass over every match)
_FORMAT_VERSION = 9
_NO_CODE = -1
# The keyword side's visibility term: one per document, so a query's visibility clause is
# two term lookups ({public, the viewer}) instead of a union over the private flag and tenant.
# The prefix keeps a tenant id from ever spelling the public marker.
_PUBLIC_TERM = "public"
# The keyword side's marker of documents that may share their duplicate group with another:
# every duplicate (its group is another document's), and a group's leader (id = group) from
# the moment a second member is alive. Counting groups then reads the matches among marked
# documents only (few) instead of every match. A marker outliving its group's other members
# costs a look, never a wrong count, so only joining re-indexes a leader.
_GROUPED_TERM = "yes"


def _visibility_term(tenant_id: str, private: bool) -> str:
    return f"tenant:{tenant_id}" if private else _PUBLIC_TERM


def _acquire_directory_lock(path: Path) -> IO[bytes]:
    """One writer per index directory across processes (tantivy's own lock does not stop a
    second process here). The lock lives as long as the returned file stays open."""
    handle = open(path / "LOCK", "wb")  # noqa: SIM115 - held open for the index's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise IndexLockedError(f"the index at {path} is in use by another process") from exc
    return handle


def _build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("visible", tokenizer_name="raw")  # _visibility_term
    builder.add_integer_field("city_code", indexed=True)
    builder.add_integer_field("district_code", indexed=True)
    builder.add_float_field("salary_min", indexed=True, fast=True)
    builder.add_float_field("salary_max", indexed=True, fast=True)
    builder.add_text_field("employment_type", tokenizer_name="raw")
    builder.add_text_field("company", tokenizer_name="raw")
    builder.add_integer_field("education_rank", indexed=True, fast=True)
    builder.add_float_field("years", indexed=True, fast=True)
    builder.add_text_field("skills", tokenizer_name="raw")
    builder.add_integer_field("timestamp", indexed=True, fast=True)
    # Exact group counts read the committed groups of the few matching marked documents.
    builder.add_integer_field("group", fast=True)
    builder.add_text_field("grouped", tokenizer_name="raw", index_option="basic")
    # What the document was built from (``_keyword_source``): a leader gaining its first
    # duplicate is re-indexed with the marker from it.
    builder.add_bytes_field("source", stored=True, indexed=False, fast=False)
    # Pre-segmented by jieba; the whitespace tokenizer only splits on the spaces we put in.
    # Positions: phrase queries ("Spring Cloud") need them.
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    # Chinese character unigrams and bigrams (search_index.tokenize.char_grams): ranked,
    # never phrase-matched, so no positions.
    builder.add_text_field("chars", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


# At most this many section vectors per document (``representation.profiles.MAX_SECTIONS``
# writes no more): the memory per candidate stays bounded whatever a document brings.
MAX_SECTIONS = 8


@lru_cache(maxsize=8)
def _no_sections(dim: int) -> np.ndarray:
    # Postings have no sections: one shared, read-only empty array instead of one per hit.
    empty = np.zeros((0, dim), dtype=np.float32)
    empty.flags.writeable = False
    return empty


def _section_rows(sections: np.ndarray | None, dim: int) -> np.ndarray:
    """A copy of one slot's section vectors ((0, dim) when it has none)."""
    return sections.copy() if sections is not None else _no_sections(dim)


def _joined_sections(sections: Sequence[np.ndarray | None], dim: int) -> dict[str, np.ndarray]:
    """Every slot's section vectors in one array, with the count of each slot's rows."""
    counts = np.array([0 if s is None else len(s) for s in sections], dtype=np.int32)
    rows = [s for s in sections if s is not None and len(s)]
    joined = np.concatenate(rows) if rows else np.zeros((0, dim), dtype=np.float32)
    return {"section_vectors": joined, "section_counts": counts}


def _split_sections(joined: np.ndarray, counts: np.ndarray) -> list[np.ndarray | None]:
    """``_joined_sections`` undone: each slot's rows, None where it had none."""
    ends = np.cumsum(counts)
    return [
        joined[end - n : end].copy() if n else None
        for n, end in zip(counts.tolist(), ends.tolist(), strict=True)
    ]


# -- the content vectors -------------------------------------------------------------------

# int8 codes cover at least [-_INT8_FLOOR, _INT8_FLOOR] in every dimension, widened to the
# first batch's own range: 60,000 real USE vectors (unit length, 512 dimensions) span
# [-0.159, 0.163] with 99.99% of values within ±0.105, so the floor covers every USE value
# without clipping, and a first batch of one or two vectors (a fresh index) cannot narrow
# the range to nothing. Vectors from other encoders with larger components (the tests'
# hashing encoder) widen it through the first batch, and a later batch outside the ranges
# re-encodes the index under wider ones (``_FaissVectors._widen``). Measured on 100k real
# USE vectors and 120 encoded search strings, recall@10 of an exact scan of the codes
# against float32: 0.991 with this floor, 0.863 with the first 1,000 vectors' own ranges
# (clipping), 0.997 with ranges trained on all 100k (not known when the first batch comes).
_INT8_FLOOR = 0.17
# A faiss graph is rebuilt from its live codes at a checkpoint when more than this share
# of its labels are tombstones (replaced or deleted vectors: faiss HNSW cannot remove).
_TOMBSTONE_SHARE = 0.25
# Admitted sets this many times smaller than the faiss index are scored from gathered codes
# (bench.vector_codec: 0.12 against 0.38 ms for 1,000 of 100k rows), larger ones by a scan
# of the whole storage under a label bitmap.
_SUBSET_SCAN = 20
# The widest faiss efSearch: a filter admitting 1% of 100k already asks for 9,600.
_MAX_EF_SEARCH = 4096
VectorCodec = Literal["float32", "float16", "int8"]


class _Float32Vectors:
    """Each slot's content vector at float32, twice: a numpy row (the exact scan, stored
    fields) and an hnswlib graph node labelled by the slot (the original layout)."""

    codec = "float32"

    def __init__(self, dim: int, settings: EmbeddedSearchSettings, capacity: int = 1024) -> None:
        self.dim = dim
        self.settings = settings
        self.rows = np.zeros((capacity, dim), dtype=np.float32)
        self.graph = hnswlib.Index(space="ip", dim=dim)
        self.graph.init_index(
            max_elements=capacity,
            ef_construction=settings.hnsw_ef_construction,
            M=settings.hnsw_m,
        )
        self.graph.set_ef(settings.hnsw_ef_search)

    def reserve(self, capacity: int) -> None:
        """Room for slots below ``capacity``."""
        if capacity > len(self.rows):
            grown = np.zeros((capacity, self.dim), dtype=np.float32)
            grown[: len(self.rows)] = self.rows
            self.rows = grown
        if capacity > self.graph.get_max_elements():
            self.graph.resize_index(capacity)

    def put(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace the vectors of ``slots`` (a slot given twice keeps its last)."""
        slots, vectors = _last_of_each(slots, vectors)
        self.rows[slots] = vectors
        # Re-adding a label hnswlib has marked deleted un-marks it and updates its vector.
        self.graph.add_items(vectors, slots, num_threads=1)

    def remove(self, slot: int) -> None:
        """Forget the vector of ``slot``."""
        self.graph.mark_deleted(slot)

    def search(
        self, query: np.ndarray, mask: np.ndarray, allowed: int, documents: int, k: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``k`` nearest slots under ``mask`` and their inner products, nearest first;
        None when the graph cannot answer (the exact scan does)."""
        found = self._post_filtered(query, mask, allowed, documents, k)
        if found is None:
            try:
                labels, distances = self.graph.knn_query(
                    query, k=k, num_threads=1, filter=lambda slot: bool(mask[slot])
                )
            except RuntimeError:
                # hnswlib reaches fewer than k (k near the number of documents, in a graph
                # worn by deletes and re-adds): the exact scan answers instead.
                return None
            found = labels[0], distances[0]
        # hnswlib's "ip" space returns 1 - inner product.
        return found[0].astype(np.int64), 1.0 - found[1]

    def _post_filtered(
        self, query: np.ndarray, mask: np.ndarray, allowed: int, documents: int, k: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``k`` nearest under ``mask`` from an unfiltered query ``k / selectivity`` deep
        (no Python call per visited node, so no GIL held while hnswlib walks the graph); None
        when the mask is too selective or too few of the oversampled neighbours pass."""
        selectivity = allowed / max(documents, 1)
        if selectivity < _POST_FILTER_SELECTIVITY:
            return None
        deep = min(documents, int(np.ceil(k / selectivity * _OVERSAMPLING)) + 16)
        try:
            labels, distances = self.graph.knn_query(query, k=deep, num_threads=1)
        except RuntimeError:  # hnswlib found fewer than ``deep`` (a sparse graph)
            return None
        keep = mask[labels[0]]
        if int(np.count_nonzero(keep)) < k:
            return None
        return labels[0][keep][:k], distances[0][keep][:k]

    def exact(self, query: np.ndarray, slots: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` of ``slots`` nearest ``query`` by an exact scan, and their scores."""
        # einsum, not ``@``: OpenBLAS hands a matrix-vector product of a few thousand rows to
        # its thread pool, which on a busy 2-core machine took 20-30 ms instead of 0.1-0.6 ms
        # (bench.engine_micro, 10k rows); numpy's own loop is single-threaded and steady.
        scores = np.einsum("ij,j->i", self.rows[slots], query)
        k = min(k, len(slots))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return slots[top], scores[top]

    def vectors(self, slots: np.ndarray) -> np.ndarray:
        """A copy of the vectors of ``slots``."""
        return self.rows[slots]

    def compact(self) -> None:
        """Nothing to reclaim: hnswlib reuses a deleted slot's node."""

    def save(
        self, directory: Path, generation: str, size: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Write the graph; the arrays for the columns file and the manifest's entries."""
        name = f"hnsw-{generation}.bin"
        self.graph.save_index(str(directory / name))
        return {"vectors": self.rows[:size]}, {"hnsw": name}

    @classmethod
    def load(
        cls, directory: Path, manifest: dict[str, Any], data: Any, size: int, capacity: int,
        dim: int, settings: EmbeddedSearchSettings,
    ) -> _Float32Vectors:  # fmt: skip
        """The vectors a checkpoint wrote (``save``)."""
        store = cls.__new__(cls)
        store.dim, store.settings = dim, settings
        store.rows = np.zeros((capacity, dim), dtype=np.float32)
        store.rows[:size] = data["vectors"]
        store.graph = hnswlib.Index(space="ip", dim=dim)
        store.graph.load_index(str(directory / manifest["hnsw"]), max_elements=capacity)
        store.graph.set_ef(settings.hnsw_ef_search)
        return store

    def stale_files(self) -> tuple[str, ...]:
        """Name patterns of the files ``save`` writes."""
        return ("hnsw-*.bin",)


def _last_of_each(slots: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``slots`` without repeats, each with the last of its vectors."""
    last = dict(zip(np.asarray(slots).tolist(), range(len(slots)), strict=True))
    if len(last) == len(slots):
        return np.asarray(slots, dtype=np.int64), vectors
    return np.fromiter(last, dtype=np.int64, count=len(last)), vectors[list(last.values())]


@dataclass
class _FaissGraph:
    """A faiss graph and its label ↔ slot maps: replaced as one by a compaction, so a search
    that began before reads a consistent whole."""

    index: Any  # faiss.IndexHNSWSQ
    slot_label: np.ndarray  # per slot, its vector's faiss label (-1: none)
    label_slot: np.ndarray  # per label (grown ahead of ntotal), its slot (-1: a tombstone)
    live: int = 0  # labels not tombstoned
    # The last label bitmap built from a mask: (mask, bits, selector), reused while the
    # same cached mask comes back (writes replace masks and clear this).
    bitmap: tuple[np.ndarray, np.ndarray, Any] | None = None


class _FaissVectors:
    """Each slot's content vector once, as float16 or 8-bit codes inside a faiss
    ``IndexHNSWSQ``: the graph searches them, the exact scan and stored fields read them.

    faiss HNSW cannot remove a vector: a replaced or deleted one is tombstoned (its label
    maps to no slot, and the label bitmap of every search leaves it out) and a new version
    takes a new label; ``compact`` rebuilds the graph from the live codes."""

    def __init__(
        self, dim: int, settings: EmbeddedSearchSettings, codec: str, capacity: int = 1024
    ) -> None:
        self.dim = dim
        self.settings = settings
        self.codec = codec
        self.state = _FaissGraph(
            self._new_index(), np.full(capacity, -1, dtype=np.int64), np.full(1024, -1, np.int64)
        )

    def _new_index(self, trained: np.ndarray | None = None) -> Any:
        quantizer = (
            faiss.ScalarQuantizer.QT_fp16
            if self.codec == "float16"
            else faiss.ScalarQuantizer.QT_8bit
        )
        index = faiss.IndexHNSWSQ(
            self.dim, quantizer, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT
        )
        index.hnsw.efConstruction = self.settings.hnsw_ef_construction
        if trained is not None:  # a rebuild keeps the quantizer's ranges: codes stay valid
            storage = faiss.downcast_index(index.storage)
            faiss.copy_array_to_vector(trained, storage.sq.trained)
            storage.is_trained = index.is_trained = True
        return index

    def _trained(self) -> np.ndarray | None:
        if self.codec == "float16":
            return None
        return faiss.vector_to_array(faiss.downcast_index(self.state.index.storage).sq.trained)

    def reserve(self, capacity: int) -> None:
        """Room for slots below ``capacity``."""
        s = self.state
        if capacity > len(s.slot_label):
            grown = np.full(capacity, -1, dtype=np.int64)
            grown[: len(s.slot_label)] = s.slot_label
            s.slot_label = grown

    def put(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace the vectors of ``slots`` (a slot given twice keeps its last)."""
        slots, vectors = _last_of_each(slots, vectors)
        s = self.state
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not s.index.is_trained:
            floor = np.full((2, self.dim), _INT8_FLOOR, dtype=np.float32)
            floor[1] *= -1
            s.index.train(np.concatenate([vectors, floor]))
        elif self.codec == "int8":
            self._widen(vectors)
            s = self.state
        old = s.slot_label[slots]
        replaced = old[old >= 0]
        s.label_slot[replaced] = -1
        first = int(s.index.ntotal)
        s.index.add(vectors)  # faiss numbers the new vectors first, first + 1, ...
        labels = np.arange(first, first + len(slots), dtype=np.int64)
        if labels[-1] >= len(s.label_slot):
            grown = np.full(max(2 * len(s.label_slot), labels[-1] + 1), -1, dtype=np.int64)
            grown[: len(s.label_slot)] = s.label_slot
            s.label_slot = grown
        s.label_slot[labels] = slots
        s.slot_label[slots] = labels
        s.live += len(slots) - len(replaced)
        s.bitmap = None

    def remove(self, slot: int) -> None:
        """Tombstone the vector of ``slot``."""
        s = self.state
        label = int(s.slot_label[slot])
        if label >= 0:
            s.label_slot[label] = -1
            s.slot_label[slot] = -1
            s.live -= 1
            s.bitmap = None

    def _selector(self, s: _FaissGraph, mask: np.ndarray) -> tuple[np.ndarray, Any]:
        """An ``IDSelectorBitmap`` over the labels of the slots ``mask`` admits."""
        cached = s.bitmap
        if cached is not None and cached[0] is mask:
            return cached[1], cached[2]
        total = int(s.index.ntotal)
        owners = s.label_slot[:total]
        # A tombstone (-1) reads the mask's last slot: masked out again by ``owners >= 0``.
        admitted = mask[owners] & (owners >= 0)
        bits = np.packbits(admitted, bitorder="little")
        # The selector holds a raw pointer into ``bits``: the two are kept together.
        selector = faiss.IDSelectorBitmap(total, faiss.swig_ptr(bits))
        s.bitmap = (mask, bits, selector)
        return bits, selector

    def search(
        self, query: np.ndarray, mask: np.ndarray, allowed: int, documents: int, k: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``k`` nearest slots under ``mask`` and their inner products, nearest first."""
        s = self.state
        _, selector = self._selector(s, mask)
        params = faiss.SearchParametersHNSW()
        params.sel = selector
        # faiss counts the nodes the selector rejects against efSearch (hnswlib does not):
        # widened by the admitted share, as bench/results/ann.md measured (0.993-0.997
        # recall@10 at 10% with ef_search / share).
        # The breadth hnswlib's post-filtered query gets (k oversampled), so the two
        # codecs walk as much of the graph at a broad filter.
        share = allowed / max(documents, 1)
        wanted = max(self.settings.hnsw_ef_search, int(k * _OVERSAMPLING) + 16)
        breadth = wanted / max(share, 1e-9)
        params.efSearch = int(min(_MAX_EF_SEARCH, max(k, np.ceil(breadth))))
        # One thread inside faiss (the setting is the calling thread's own): concurrent
        # requests each get a core instead of fighting over OpenMP teams.
        faiss.omp_set_num_threads(1)
        scores, labels = s.index.search(query.reshape(1, -1), k, params=params)
        found = self._slots(s, labels[0], scores[0])
        # Fewer than k reached (a tiny or worn graph under a narrow filter): the exact scan.
        return found if len(found[0]) == k else None

    @staticmethod
    def _slots(
        s: _FaissGraph, labels: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        found = labels >= 0  # fewer than k admitted: faiss pads with -1
        return s.label_slot[labels[found]], scores[found].astype(np.float64)

    def exact(self, query: np.ndarray, slots: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` of ``slots`` nearest ``query`` by a scan of their codes, and their scores."""
        s = self.state
        total = int(s.index.ntotal)
        labels = s.slot_label[slots]
        labels = labels[labels >= 0]
        k = min(k, len(labels))
        faiss.omp_set_num_threads(1)
        storage = faiss.downcast_index(s.index.storage)
        if len(labels) * _SUBSET_SCAN < total:
            # Few rows: their codes gathered into a scratch flat index and scanned (a scan of
            # the whole storage tests every label against the bitmap: 0.4 ms at 100k).
            codes = faiss.rev_swig_ptr(storage.codes.data(), total * storage.code_size)
            scratch = faiss.IndexScalarQuantizer(
                self.dim, storage.sq.qtype, faiss.METRIC_INNER_PRODUCT
            )
            scratch.sq.trained = storage.sq.trained
            scratch.is_trained = True
            scratch.add_sa_codes(codes.reshape(total, -1)[labels])
            scores, found = scratch.search(query.reshape(1, -1), k)
            hit = found[0] >= 0
            return s.label_slot[labels[found[0][hit]]], scores[0][hit].astype(np.float64)
        admitted = np.zeros(total, dtype=bool)
        admitted[labels] = True
        bits = np.packbits(admitted, bitorder="little")
        params = faiss.SearchParameters()
        params.sel = faiss.IDSelectorBitmap(total, faiss.swig_ptr(bits))
        # The flat scan of the graph's own storage (the same codes, no second copy): faster
        # than decoding the admitted codes and scoring them in numpy (bench.vector_codec).
        scores, found = storage.search(query.reshape(1, -1), k, params=params)
        return self._slots(s, found[0], scores[0])

    def vectors(self, slots: np.ndarray) -> np.ndarray:
        """The vectors of ``slots`` decoded from their codes."""
        s = self.state
        if not len(slots):
            return np.zeros((0, self.dim), dtype=np.float32)
        return s.index.reconstruct_batch(s.slot_label[slots])

    def compact(self) -> None:
        """Rebuild the graph from the live codes when tombstones pass ``_TOMBSTONE_SHARE``.
        Runs while searches go on (under the read lock): they keep the graph they began on."""
        old = self.state
        total = int(old.index.ntotal)
        if not total or (total - old.live) <= _TOMBSTONE_SHARE * total:
            return
        self._rebuild(self._trained())
        log.info(
            "vector graph rebuilt: %d tombstones of %d labels reclaimed", total - old.live, total
        )

    def _rebuild(self, trained: np.ndarray | None) -> None:
        """A new graph of the live vectors (decoded), under the quantizer ranges ``trained``,
        swapped in as one."""
        old = self.state
        slots = np.flatnonzero(old.slot_label >= 0)
        new = _FaissGraph(
            self._new_index(trained),
            np.full(len(old.slot_label), -1, dtype=np.int64),
            np.full(max(1024, 2 * len(slots)), -1, dtype=np.int64),
        )
        for start in range(0, len(slots), 10_000):  # decoded floats a chunk at a time
            chunk = slots[start : start + 10_000]
            # Decoded values re-encode to the same codes when the ranges are kept.
            new.index.add(old.index.reconstruct_batch(old.slot_label[chunk]))
        labels = np.arange(len(slots), dtype=np.int64)
        new.slot_label[slots] = labels
        new.label_slot[labels] = slots
        new.live = len(slots)
        self.state = new

    def _widen(self, vectors: np.ndarray) -> None:
        """int8: when ``vectors`` fall outside the quantizer's ranges (they would clip: an
        encoder with larger components than the first batch showed), rebuild under ranges
        that hold them, with a margin so that a slow drift does not rebuild every batch."""
        trained = self._trained()
        assert trained is not None
        low, width = trained[: self.dim], trained[self.dim :]
        high = low + width
        below, above = vectors.min(axis=0), vectors.max(axis=0)
        if (below >= low).all() and (above <= high).all():
            return
        margin = 0.1 * np.maximum(above - below, 1e-6)
        new_low = np.where(below < low, below - margin, low)
        new_high = np.where(above > high, above + margin, high)
        self._rebuild(np.concatenate([new_low, new_high - new_low]).astype(np.float32))
        log.info("vector quantizer ranges widened: %d vectors re-encoded", self.state.live)

    def save(
        self, directory: Path, generation: str, size: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Write the faiss index; the arrays for the columns file and the manifest's entries."""
        name = f"vectors-{generation}.faiss"
        s = self.state
        faiss.write_index(s.index, str(directory / name))
        return {"vector_labels": s.slot_label[:size]}, {"faiss": name}

    @classmethod
    def load(
        cls, directory: Path, manifest: dict[str, Any], data: Any, size: int, capacity: int,
        dim: int, settings: EmbeddedSearchSettings,
    ) -> _FaissVectors:  # fmt: skip
        """The vectors a checkpoint wrote (``save``)."""
        store = cls(dim, settings, manifest["vector_codec"], capacity)
        index = faiss.read_index(str(directory / manifest["faiss"]))
        s = store.state
        s.index = index
        s.slot_label[:size] = data["vector_labels"]
        total = int(index.ntotal)
        s.label_slot = np.full(max(1024, 2 * total), -1, dtype=np.int64)
        slots = np.flatnonzero(s.slot_label >= 0)
        labels = s.slot_label[slots]
        if len(labels) and int(labels.max()) >= total:
            raise ValueError("the vector labels name more vectors than the faiss index holds")
        s.label_slot[labels] = slots
        s.live = len(slots)
        return store

    def stale_files(self) -> tuple[str, ...]:
        """Name patterns of the files ``save`` writes."""
        return ("vectors-*.faiss",)


_VectorStore = _Float32Vectors | _FaissVectors


def _new_vector_store(
    dim: int, settings: EmbeddedSearchSettings, capacity: int = 1024
) -> _VectorStore:
    """The store of ``settings.vector_codec``."""
    if settings.vector_codec == "float32":
        return _Float32Vectors(dim, settings, capacity)
    return _FaissVectors(dim, settings, settings.vector_codec, capacity)


class _SharedRows:
    """Vectors that many slots share, each stored once with the number of slots using it:
    title vectors (300k generated postings have ~2,700 distinct titles)."""

    def __init__(self, dim: int, rows: np.ndarray | None = None) -> None:
        self.rows = rows if rows is not None else np.zeros((64, dim), dtype=np.float32)
        self.users = np.zeros(len(self.rows), dtype=np.int64)
        self.row_of: dict[bytes, int] = {}
        self.free: list[int] = []
        self.used = 0  # rows ever handed out (free or in use)

    def acquire(self, vector: np.ndarray) -> int:
        """The row holding ``vector``, added when no slot uses it yet."""
        key = np.asarray(vector, dtype=np.float32).tobytes()
        row = self.row_of.get(key)
        if row is None:
            if self.free:
                row = self.free.pop()
            else:
                row = self.used
                self.used += 1
                if row >= len(self.rows):
                    grown = np.zeros((2 * len(self.rows), self.rows.shape[1]), dtype=np.float32)
                    grown[: len(self.rows)] = self.rows
                    self.rows = grown
                    self.users = np.concatenate([self.users, np.zeros_like(self.users)])
            self.rows[row] = vector
            self.row_of[key] = row
        self.users[row] += 1
        return row

    def release(self, row: int) -> None:
        """One slot fewer uses ``row`` (freed when none does)."""
        if row < 0:
            return
        self.users[row] -= 1
        if not self.users[row]:
            del self.row_of[self.rows[row].tobytes()]
            self.free.append(row)

    @classmethod
    def restore(cls, rows: np.ndarray, slot_rows: np.ndarray) -> _SharedRows:
        """The store of a checkpoint: its ``rows`` and each living slot's row."""
        shared = cls(rows.shape[1], np.array(rows, dtype=np.float32).reshape(-1, rows.shape[1]))
        if not len(shared.rows):
            shared = cls(rows.shape[1])
        shared.used = len(rows)
        used = slot_rows[slot_rows >= 0]
        shared.users[: len(rows)] = np.bincount(used, minlength=len(rows))[: len(rows)]
        for row in range(len(rows)):
            if shared.users[row]:
                shared.row_of[shared.rows[row].tobytes()] = row
            else:
                shared.free.append(row)
        return shared


class _Columns:
    """Growable numpy columns of the filterable fields, one row per slot."""

    NUMERIC = {
        "ids": (np.int64, -1),
        "alive": (np.bool_, False),
        "tenant": (np.int32, _NO_CODE),
        "private": (np.bool_, False),
        "city_code": (np.int64, _NO_CODE),
        "district_code": (np.int64, _NO_CODE),
        "salary_min": (np.float64, np.nan),
        "salary_max": (np.float64, np.nan),
        "employment_type": (np.int32, _NO_CODE),
        "company": (np.int32, _NO_CODE),
        "language": (np.int32, _NO_CODE),
        "occupation": (np.int32, _NO_CODE),  # occupation code, a re-ranking signal
        "education_rank": (np.int32, _NO_CODE),
        "years": (np.float64, np.nan),
        "timestamp": (np.float64, 0.0),
        "group": (np.int64, -1),
        "grouped": (np.bool_, False),  # the slot's keyword document carries _GROUPED_TERM
        "title_row": (np.int32, -1),  # the slot's title vector in ``titles``
    }

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self.size = 0  # slots in use (alive or free)
        self.arrays: dict[str, np.ndarray] = {
            name: np.full(capacity, fill, dtype=dtype)
            for name, (dtype, fill) in self.NUMERIC.items()
        }
        self.titles = _SharedRows(dim)
        self.skills: list[tuple[str, ...]] = [()] * capacity
        # Candidates' section vectors, (sections, dim) per slot; None: none.
        self.sections: list[np.ndarray | None] = [None] * capacity

    @property
    def capacity(self) -> int:
        return len(self.arrays["ids"])

    def grow(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        new_capacity = max(needed, self.capacity * 2)
        for name, (dtype, fill) in self.NUMERIC.items():
            grown: np.ndarray = np.full(new_capacity, fill, dtype=dtype)
            grown[: self.size] = self.arrays[name][: self.size]
            self.arrays[name] = grown
        self.skills.extend([()] * (new_capacity - len(self.skills)))
        self.sections.extend([None] * (new_capacity - len(self.sections)))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name][: self.size]


@dataclass
class _Codes:
    """Small string vocabularies (tenants, employment types) stored as integer codes."""

    values: dict[str, int]

    def code(self, value: str | None, *, create: bool) -> int:
        if value is None:
            return _NO_CODE
        if value not in self.values and create:
            self.values[value] = len(self.values)
        return self.values.get(value, -2)  # -2: a value no document has

    def names(self) -> dict[int, str]:
        return {code: value for value, code in self.values.items()}


# A predicate whose slots a cached mask marks: ("visible", tenant code), (column, codes)
# for the term filters, ("skills_all" | "skills_any", skills), (range bound, value).
_Predicate = tuple[str, Any]
_TERM_COLUMNS = ("city_code", "district_code", "employment_type", "company")
# Cached predicate masks are one byte per slot each: 48 of them at 1M documents is 48 MB.
_PREDICATE_MASKS = 48
_COMBINED_MASKS = 16
# Masks admitting at least this share of the documents are applied after an unfiltered
# HNSW query ``k / share * _OVERSAMPLING`` deep; narrower ones inside the graph walk (or by
# the exact scan). Measured by bench.engine_micro: recall@10 at least that of the filtered walk.
_POST_FILTER_SELECTIVITY = 0.3
_OVERSAMPLING = 1.3


class _MaskCache:
    """Boolean slot masks of single predicates (a viewer's visibility, one filter's values,
    one range bound), built on first use and kept exact by ``refresh`` on every write, and
    the combined masks of whole filters, valid until the next write (``generation``).

    A query then ANDs a few cached arrays instead of comparing every column of every slot;
    a write costs one evaluation of each cached predicate on the slots it touched."""

    def __init__(self) -> None:
        self.generation = 0
        self.predicates: OrderedDict[_Predicate, np.ndarray] = OrderedDict()
        self.combined: OrderedDict[Hashable, tuple[int, np.ndarray, int]] = OrderedDict()
        # Readers fill the caches concurrently (they hold the shared lock, not the exclusive).
        self.mutex = threading.Lock()

    def predicate(self, key: _Predicate) -> np.ndarray | None:
        with self.mutex:
            mask = self.predicates.get(key)
            if mask is not None:
                self.predicates.move_to_end(key)
            return mask

    def keep_predicate(self, key: _Predicate, mask: np.ndarray) -> None:
        with self.mutex:
            self.predicates[key] = mask
            while len(self.predicates) > _PREDICATE_MASKS:
                self.predicates.popitem(last=False)

    def lookup(self, key: Hashable) -> tuple[np.ndarray, int] | None:
        with self.mutex:
            found = self.combined.get(key)
            if found is None or found[0] != self.generation:
                return None
            self.combined.move_to_end(key)
            return found[1], found[2]

    def keep(self, key: Hashable, generation: int, mask: np.ndarray, count: int) -> None:
        with self.mutex:
            if generation != self.generation:
                return
            self.combined[key] = (generation, mask, count)
            while len(self.combined) > _COMBINED_MASKS:
                self.combined.popitem(last=False)

    def changed(self) -> None:
        """Something a mask depends on changed: combined masks are stale."""
        with self.mutex:
            self.generation += 1
            self.combined.clear()

    def forget(self) -> None:
        with self.mutex:
            self.generation += 1
            self.combined.clear()
            self.predicates.clear()


class _ReadWriteLock:
    """Many readers at once, or one writer. A waiting writer holds back readers that arrive
    after it, so a stream of searches cannot starve a write. The writing thread may enter
    again (to write or to read its own state); a reader must not take the lock again while
    it holds it (a writer waiting between would deadlock it)."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None
        self._depth = 0  # the writer's re-entries
        self._waiting_writers = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        """Hold the lock shared (the writing thread reads under its own hold)."""
        if self._writer == threading.get_ident():
            yield
            return
        with self._state:
            while self._writer is not None or self._waiting_writers:
                self._state.wait()
            self._readers += 1
        try:
            yield
        finally:
            self.release_read()

    def release_read(self) -> None:
        with self._state:
            self._readers -= 1
            if not self._readers:
                self._state.notify_all()

    def acquire_write(self) -> None:
        me = threading.get_ident()
        with self._state:
            if self._writer == me:
                self._depth += 1
                return
            self._waiting_writers += 1
            try:
                while self._writer is not None or self._readers:
                    self._state.wait()
            finally:
                self._waiting_writers -= 1
            self._writer, self._depth = me, 1

    def release_write(self) -> None:
        with self._state:
            self._depth -= 1
            if not self._depth:
                self._writer = None
                self._state.notify_all()

    def downgrade(self) -> bool:
        """Turn the calling writer's hold into a reader's without letting a writer in
        between (then ``release_read``); False, and still writing, when it holds the write
        lock more than once."""
        with self._state:
            if self._depth != 1:
                return False
            self._writer, self._depth = None, 0
            self._readers += 1
            self._state.notify_all()  # readers waiting on the writer may join
            return True

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the lock exclusively."""
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()


def _keyword_source(doc: IndexDocument) -> dict[str, Any]:
    """What the keyword document of ``doc`` is built from (stored with it as JSON)."""
    return {
        "id": doc.id,
        "visible": _visibility_term(doc.tenant_id, doc.private),
        "timestamp": int(doc.timestamp),
        "group": doc.group_id if doc.group_id is not None else doc.id,
        "title": doc.title,
        "text": doc.text,
        "skills": list(doc.skills),
        # The language is kept in a column, not searched by tantivy.
        "filters": {k: v for k, v in doc.known_filter_values().items() if k != "language"},
    }


def _keyword_fields(source: dict[str, Any]) -> dict[str, Any]:
    """The tantivy fields of a keyword document (``_keyword_source``), but the marker."""
    title_tokens = segment(source["title"])
    title_chars = segment_chars(source["title"])
    fields: dict[str, Any] = {
        "id": source["id"],
        "visible": source["visible"],
        "timestamp": source["timestamp"],
        "group": source["group"],
        # The title counts twice: a title match is worth more than a passing mention.
        "body": f"{title_tokens} {title_tokens} {segment(source['text'])}",
        "title": title_tokens,
        "chars": f"{title_chars} {title_chars} {segment_chars(source['text'])}",
        "skills": source["skills"],
    }
    if source["group"] == source["id"]:  # a duplicate never leads a group: nothing to keep
        fields["source"] = json.dumps(source, ensure_ascii=False).encode()
    for name, value in source["filters"].items():
        fields[name] = float(value) if name in {"salary_min", "salary_max", "years"} else value
    return fields


class EmbeddedIndex:
    """``SearchIndex`` over a local directory (see the module docstring).

    Reads share a lock and run at once (tantivy searchers are snapshots, and hnswlib may be
    queried from several threads while nothing writes to it); writes hold it alone."""

    def __init__(self, path: Path, *, dim: int, model_id: str, settings: SearchSettings) -> None:
        self.path = Path(path)
        self.dim = dim
        self.model_id = model_id
        self.settings = settings
        self._lock = _ReadWriteLock()
        # One checkpoint at a time: it writes its files under the shared lock.
        self._checkpointing = threading.RLock()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_file = _acquire_directory_lock(self.path)
        self._schema = _build_schema()
        self._columns = _Columns(dim)
        self._slot_of: dict[int, int] = {}
        self._free_slots: list[int] = []
        self._skill_slots: dict[str, set[int]] = {}
        self._group_sizes: dict[int, int] = {}  # alive documents per duplicate group
        # Keyword sources written since the last commit, by id: the committed searcher does
        # not see them yet.
        self._pending_sources: dict[int, dict[str, Any]] = {}
        self._tenants = _Codes({})
        self._employment_types = _Codes({})
        self._companies = _Codes({})
        self._languages = _Codes({})
        self._occupations = _Codes({})
        self._masks = _MaskCache()
        # Each slot's content vector (``settings.embedded.vector_codec``).
        self._vectors: _VectorStore = _new_vector_store(dim, settings.embedded)
        self._dirty = False
        self._closed = False
        self._applied_through: int | None = None
        if not self._load_checkpoint():
            # Without a usable checkpoint the keyword side cannot be trusted either.
            shutil.rmtree(self.path / "keyword", ignore_errors=True)
        (self.path / "keyword").mkdir(exist_ok=True)
        self._keyword = tantivy.Index(self._schema, path=str(self.path / "keyword"), reuse=True)
        self._writer = self._keyword.writer(heap_size=64_000_000, num_threads=1)

    # -- persistence -----------------------------------------------------------------------

    @property
    def _hnsw(self) -> Any:
        """The hnswlib graph of the float32 codec (None with a faiss codec): for the bench."""
        return getattr(self._vectors, "graph", None)

    def _load_checkpoint(self) -> bool:
        manifest_path = self.path / "checkpoint.json"
        if not manifest_path.exists():
            return False
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest["format"] != _FORMAT_VERSION or manifest["model_id"] != self.model_id:
                log.warning("index at %s was built for another model or format", self.path)
                return False
            # A checkpoint from before the codec setting holds float32 vectors.
            codec = manifest.setdefault("vector_codec", "float32")
            if codec != self.settings.embedded.vector_codec:
                log.warning(
                    "index at %s holds %s vectors, the settings ask for %s: rebuilding",
                    self.path, codec, self.settings.embedded.vector_codec,
                )  # fmt: skip
                return False
            data = np.load(self.path / manifest["columns"], allow_pickle=False)
            size = int(manifest["size"])
            columns = _Columns(self.dim, capacity=max(1024, size))
            columns.size = size
            for name in _Columns.NUMERIC:
                columns.arrays[name][:size] = data[name]
            alive_rows = np.where(data["alive"], data["title_row"], -1)
            columns.titles = _SharedRows.restore(data["title_rows"], alive_rows)
            skills = json.loads(str(data["skills"]))
            columns.skills[:size] = [tuple(s) for s in skills]
            if "section_counts" in data.files:
                columns.sections[:size] = _split_sections(
                    data["section_vectors"], data["section_counts"]
                )
            loader = _Float32Vectors if codec == "float32" else _FaissVectors
            vectors = loader.load(
                self.path, manifest, data, size, columns.capacity, self.dim,
                self.settings.embedded,
            )  # fmt: skip
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            log.warning("ignoring unreadable index checkpoint at %s: %s", self.path, exc)
            return False
        self._columns = columns
        self._vectors = vectors
        self._tenants = _Codes(manifest["tenants"])
        self._employment_types = _Codes(manifest["employment_types"])
        self._companies = _Codes(manifest["companies"])
        self._languages = _Codes(manifest["languages"])
        self._occupations = _Codes(manifest["occupations"])
        self._applied_through = manifest.get("applied_through")
        alive = columns["alive"]
        ids = columns["ids"]
        self._slot_of = {int(ids[s]): int(s) for s in np.flatnonzero(alive)}
        self._free_slots = [int(s) for s in np.flatnonzero(~alive)]
        for slot in self._slot_of.values():
            for skill in columns.skills[slot]:
                self._skill_slots.setdefault(skill, set()).add(slot)
        groups, sizes = np.unique(columns["group"][alive], return_counts=True)
        self._group_sizes = dict(zip(groups.tolist(), sizes.tolist(), strict=True))
        return True

    def applied_through(self) -> int | None:
        """The outbox event id stored with the last checkpoint (None: no usable checkpoint)."""
        with self._lock.read():
            return self._applied_through

    def checkpoint(self, applied_through: int | None = None) -> None:
        """Write vectors and columns atomically; tantivy's own commit covers keywords."""
        with self._checkpointing:
            self._lock.acquire_write()
            reading = False
            try:
                self.commit()
                marker_moved = (
                    applied_through is not None and applied_through != self._applied_through
                )
                if (
                    not self._dirty
                    and not marker_moved
                    and (self.path / "checkpoint.json").exists()
                ):
                    return
                if applied_through is not None:
                    self._applied_through = applied_through
                # Searches go on while the files are written; writes wait (what is written
                # is exactly what was committed).
                reading = self._lock.downgrade()
                self._vectors.compact()
                self._write_checkpoint()
            finally:
                if reading:
                    self._lock.release_read()
                else:
                    self._lock.release_write()

    def _write_checkpoint(self) -> None:
        size = self._columns.size
        generation = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
        columns_name = f"columns-{generation}.npz"
        arrays: dict[str, Any] = {name: self._columns[name] for name in _Columns.NUMERIC}
        arrays |= _joined_sections(self._columns.sections[:size], self.dim)
        # The vectors' own file first: the columns file then names every file it needs.
        vector_arrays, vector_files = self._vectors.save(self.path, generation, size)
        with open(self.path / columns_name, "wb") as handle:
            np.savez(
                handle,
                **vector_arrays,
                title_rows=self._columns.titles.rows[: self._columns.titles.used],
                skills=np.array(json.dumps([list(s) for s in self._columns.skills[:size]])),
                **arrays,
            )
            handle.flush()
            os.fsync(handle.fileno())
        manifest = {
            "format": _FORMAT_VERSION,
            "model_id": self.model_id,
            "vector_codec": self._vectors.codec,
            "size": size,
            "columns": columns_name,
            **vector_files,
            "tenants": self._tenants.values,
            "employment_types": self._employment_types.values,
            "companies": self._companies.values,
            "languages": self._languages.values,
            "occupations": self._occupations.values,
            "applied_through": self._applied_through,
        }
        tmp = self.path / "checkpoint.json.tmp"
        tmp.write_text(json.dumps(manifest))
        os.replace(tmp, self.path / "checkpoint.json")
        for stale in self.path.glob("columns-*.npz"):
            if stale.name != columns_name:
                stale.unlink(missing_ok=True)
        kept = set(vector_files.values())
        # Every codec's pattern: a codec change leaves the other kind's files behind.
        for pattern in ("hnsw-*.bin", "vectors-*.faiss"):
            for stale in self.path.glob(pattern):
                if stale.name not in kept:
                    stale.unlink(missing_ok=True)
        self._dirty = False

    def close(self) -> None:
        """Checkpoint and release the writer lock (idempotent)."""
        with self._checkpointing, self._lock.write():
            if self._closed:
                return
            self.checkpoint()
            self._writer.wait_merging_threads()  # consumes the writer
            self._lock_file.close()  # releases the directory lock
            self._closed = True

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        if not documents:
            return
        for doc in documents:
            self._check_vector(doc.vector, doc.id)
            self._check_vector(doc.title_vector, doc.id)
            for section in doc.section_vectors if doc.section_vectors is not None else ():
                self._check_vector(section, doc.id)
        # Segmenting the text is most of a write's time and touches no state: done before
        # taking the lock, so searches wait only for the index updates themselves.
        sources = [_keyword_source(doc) for doc in documents]
        keyword_fields = [_keyword_fields(source) for source in sources]
        vectors = np.stack([doc.vector for doc in documents]).astype(np.float32)
        with self._lock.write():
            self._columns.grow(self._columns.size + len(documents))
            self._vectors.reserve(self._columns.capacity)
            slots = [self._place(doc) for doc in documents]
            self._refresh_masks(np.asarray(slots, dtype=np.int64))
            self._vectors.put(np.asarray(slots, dtype=np.int64), vectors)
            grouped = self._columns.arrays["grouped"]
            for doc, slot, source, fields in zip(
                documents, slots, sources, keyword_fields, strict=True
            ):
                group = int(source["group"])
                # Marked when it is a duplicate or its group has another member now.
                grouped[slot] = group != doc.id or self._group_sizes.get(group, 0) > 1
                self._write_keyword(doc.id, source, fields, marked=bool(grouped[slot]))
                if group != doc.id:
                    self._mark_leader(group)
            self._dirty = True

    def _write_keyword(
        self, doc_id: int, source: dict[str, Any], fields: dict[str, Any], *, marked: bool
    ) -> None:
        """Replace document ``doc_id`` in the keyword index (uncommitted)."""
        if marked:
            fields = {**fields, "grouped": _GROUPED_TERM}
        self._writer.delete_documents_by_term("id", doc_id)
        self._writer.add_document(tantivy.Document(**fields))
        if source["group"] == doc_id:  # only a group's own document is ever re-indexed
            self._pending_sources[doc_id] = source

    def _mark_leader(self, group: int) -> None:
        """Group ``group`` has a duplicate: its leader (the document whose id it is, when
        alive and in it) carries the marker from now on, in the same commit as the
        duplicate."""
        slot = self._slot_of.get(group)
        a = self._columns.arrays
        if slot is None or a["grouped"][slot] or a["group"][slot] != group:
            return
        source = self._pending_sources.get(group)
        if source is None:
            searcher = self._keyword.searcher()
            found = searcher.search(tantivy.Query.term_query(self._schema, "id", group), limit=1)
            stored = searcher.doc(found.hits[0][1]).get_first("source") if found.hits else None
            if stored is None:
                # An alive document is always committed or pending; were it not, the count
                # would miss folding its group, so this must not pass silently.
                raise SearchBackendError(f"document {group} is missing from the keyword index")
            source = json.loads(bytes(stored))
        a["grouped"][slot] = True
        self._write_keyword(group, source, _keyword_fields(source), marked=True)

    def _check_vector(self, vector: np.ndarray, doc_id: int) -> None:
        if vector.shape != (self.dim,):
            raise SearchBackendError(
                f"document {doc_id}: vector has shape {vector.shape}, index expects ({self.dim},)"
            )

    def _place(self, doc: IndexDocument) -> int:
        columns = self._columns
        slot = self._slot_of.get(doc.id)
        if slot is not None:  # a re-upsert: it leaves its group (maybe to come back)
            self._leave_group(int(columns.arrays["group"][slot]))
        else:
            if self._free_slots:
                slot = self._free_slots.pop()
            else:
                slot = columns.size
                columns.size += 1
            self._slot_of[doc.id] = slot
        for skill in columns.skills[slot]:
            self._skill_slots.get(skill, set()).discard(slot)
        a = columns.arrays
        a["ids"][slot] = doc.id
        a["alive"][slot] = True
        a["tenant"][slot] = self._tenants.code(doc.tenant_id, create=True)
        a["private"][slot] = doc.private
        a["city_code"][slot] = doc.city_code if doc.city_code is not None else _NO_CODE
        a["district_code"][slot] = doc.district_code if doc.district_code is not None else _NO_CODE
        a["salary_min"][slot] = np.nan if doc.salary_min is None else doc.salary_min
        a["salary_max"][slot] = np.nan if doc.salary_max is None else doc.salary_max
        a["employment_type"][slot] = self._employment_types.code(doc.employment_type, create=True)
        a["company"][slot] = self._companies.code(doc.company, create=True)
        a["language"][slot] = self._languages.code(doc.language, create=True)
        a["occupation"][slot] = self._occupations.code(doc.occupation_code, create=True)
        a["education_rank"][slot] = (
            doc.education_rank if doc.education_rank is not None else _NO_CODE
        )
        a["years"][slot] = np.nan if doc.years is None else doc.years
        a["timestamp"][slot] = doc.timestamp
        a["group"][slot] = group = doc.group_id if doc.group_id is not None else doc.id
        self._group_sizes[group] = self._group_sizes.get(group, 0) + 1
        title_row = columns.titles.acquire(doc.title_vector)
        columns.titles.release(int(a["title_row"][slot]))  # a re-upsert's old title
        a["title_row"][slot] = title_row
        columns.skills[slot] = tuple(doc.skills)
        columns.sections[slot] = (
            np.array(doc.section_vectors[:MAX_SECTIONS], dtype=np.float32)
            if doc.section_vectors is not None and len(doc.section_vectors)
            else None
        )
        for skill in doc.skills:
            self._skill_slots.setdefault(skill, set()).add(slot)
        return slot

    def _leave_group(self, group: int) -> None:
        left = self._group_sizes[group] - 1
        if left:
            self._group_sizes[group] = left
        else:
            del self._group_sizes[group]

    def delete(self, ids: Sequence[int]) -> None:
        with self._lock.write():
            deleted: list[int] = []
            for doc_id in ids:
                self._writer.delete_documents_by_term("id", int(doc_id))
                slot = self._slot_of.pop(int(doc_id), None)
                if slot is None:
                    continue
                self._columns.arrays["alive"][slot] = False
                self._columns.arrays["grouped"][slot] = False
                self._leave_group(int(self._columns.arrays["group"][slot]))
                self._pending_sources.pop(int(doc_id), None)
                for skill in self._columns.skills[slot]:
                    self._skill_slots.get(skill, set()).discard(slot)
                self._columns.skills[slot] = ()
                self._columns.sections[slot] = None
                self._columns.titles.release(int(self._columns.arrays["title_row"][slot]))
                self._columns.arrays["title_row"][slot] = -1
                self._vectors.remove(slot)
                self._free_slots.append(slot)
                deleted.append(slot)
                self._dirty = True
            if deleted:
                self._refresh_masks(np.asarray(deleted, dtype=np.int64))

    def commit(self) -> None:
        with self._lock.write():
            self._writer.commit()
            self._keyword.reload()
            self._pending_sources.clear()
            self._masks.changed()  # exclusions are matched against what is committed

    def clear(self) -> None:
        with self._lock.write():
            # tantivy's delete_all_documents drops segments, not documents still being indexed:
            # without this commit an upsert not yet committed would outlive the clear.
            self._writer.commit()
            self._writer.delete_all_documents()
            self._writer.commit()
            self._writer.garbage_collect_files()  # drop the old segments' files now
            self._keyword.reload()
            self._columns = _Columns(self.dim)
            self._slot_of.clear()
            self._free_slots.clear()
            self._skill_slots.clear()
            self._group_sizes.clear()
            self._pending_sources.clear()
            self._vectors = _new_vector_store(self.dim, self.settings.embedded)
            self._masks.forget()
            self._applied_through = None
            self._dirty = True

    # -- reads -----------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._slot_of)

    def keyword_search(
        self, viewer_tenant: str, terms: Sequence[str], filters: SearchFilters, *, limit: int,
        count_groups: bool = False, query: KeywordQuery | None = None,
    ) -> KeywordHits:  # fmt: skip
        if filters.ids is not None and not filters.ids or not (terms or query):
            return KeywordHits(hits=[], total=0, groups=0 if count_groups else None)
        with self._lock.read():
            full = self._keyword_query(list(terms), viewer_tenant, filters, query)
            searcher = self._keyword.searcher()
            result = searcher.search(full, limit=max(limit, 1), count=True)
            total = int(result.count or 0)  # type: ignore[attr-defined]  # missing from the stubs
            hits = self._keyword_hits(searcher, result.hits)[:limit]
            groups = None
            if count_groups:
                if total > len(hits):
                    groups = self._group_count(searcher, full, total)
                else:
                    groups = len(set(self._group_ids([d for d, _ in hits]).values()))
            return KeywordHits(hits=hits, total=total, groups=groups)

    def _group_count(self, searcher: Any, query: Any, total: int) -> int:
        """How many duplicate groups the ``total`` committed matches of ``query`` fall in,
        exactly: total − Σ over groups with several matches of (their matches − 1). Two
        members of one group are both marked (``_GROUPED_TERM``), so only the matching
        marked documents are read: their groups, not every match's."""
        marker = tantivy.Query.term_query(self._schema, "grouped", _GROUPED_TERM)
        marked = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, marker)]
        )
        # A terms aggregation hands back one bucket per group (no Python object per match);
        # every bucket is asked for, so it is exact unless it reports documents left out.
        terms = {"field": "group", "size": total, "segment_size": total}
        try:
            counted = searcher.aggregate(marked, {"groups": {"terms": terms}})["groups"]
        except ValueError:  # more buckets than tantivy builds (65,000): read the matches
            counted = None
        if counted is not None and not counted.get("sum_other_doc_count"):
            buckets = counted["buckets"]
            return total - sum(int(b["doc_count"]) - 1 for b in buckets)
        matching = int(searcher.search(marked, limit=1, count=True).count or 0)
        if matching < 2:
            return total
        # Ordered by the group field: no scoring, and each hit's order key is its group, so
        # a group's matches are neighbours.
        found = searcher.search(marked, limit=matching, count=False, order_by_field="group")
        groups = np.fromiter((key for key, _ in found.hits), dtype=np.int64, count=matching)
        distinct = 1 + int(np.count_nonzero(groups[1:] != groups[:-1]))
        return total - (matching - distinct)

    def _keyword_hits(self, searcher: Any, hits: list[Any]) -> list[tuple[int, float]]:
        if not hits:
            return []
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [
            (int(doc_id), float(score))
            for (score, _), doc_id in zip(hits, ids, strict=True)
            if doc_id is not None
        ]

    def vector_search(
        self, viewer_tenant: str, vector: np.ndarray, filters: SearchFilters, *, limit: int
    ) -> list[tuple[int, float]]:
        if filters.ids is not None and not filters.ids:
            return []
        with self._lock.read():
            mask, allowed = self._filter_mask_and_count(viewer_tenant, filters)
            return self._vector_search(vector, mask, allowed, limit)

    def list_recent(
        self, viewer_tenant: str, filters: SearchFilters, *, offset: int, limit: int,
        collapse_duplicates: bool,
    ) -> ListedPage:  # fmt: skip
        if filters.ids is not None and not filters.ids:
            return ListedPage(total=0, hits=[])
        with self._lock.read():
            ids, order, leaders, folded = self._recency(
                self._filter_mask(viewer_tenant, filters), collapse_duplicates
            )
            if leaders is None:
                page = order[offset : offset + limit]
                hits = [SearchHit(id=int(ids[i]), score=0.0) for i in page]
                return ListedPage(total=len(order), hits=hits)
            shown = slice(offset, offset + limit)
            hits = [
                SearchHit(id=int(ids[i]), score=0.0, duplicates=others)
                for i, others in zip(leaders[shown].tolist(), folded[shown].tolist(), strict=True)
            ]
            return ListedPage(total=len(leaders), hits=hits)

    def _recency(
        self, mask: np.ndarray, collapse: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """Slots under ``mask`` newest first, and when collapsing the newest of each group
        (slots, in order) with the number of other documents of its group, in that order."""
        slots = np.flatnonzero(mask)
        ids = self._columns["ids"]
        # Newest first; equal timestamps by descending id so paging is stable.
        order = slots[np.lexsort((-ids[slots], -self._columns["timestamp"][slots]))]
        if not collapse:
            return ids, order, None, np.zeros(0, dtype=np.int64)
        # Two documents of one group are both marked ``grouped`` (see ``_GROUPED_TERM``):
        # only those are sorted by group, every other document leads its own.
        marked = np.flatnonzero(self._columns["grouped"][order])
        leads = np.ones(len(order), dtype=bool)
        others = np.zeros(len(order), dtype=np.int64)
        if len(marked):
            groups = self._columns["group"][order[marked]]
            _, first, counts = np.unique(groups, return_index=True, return_counts=True)
            leads[marked] = False
            leads[marked[first]] = True  # the newest of each group
            others[marked[first]] = counts - 1
        return ids, order, order[leads], others[leads]

    def facet_counts(
        self, facet: Facet, viewer_tenant: str, filters: SearchFilters, *,
        collapse_duplicates: bool,
    ) -> dict[Any, int]:  # fmt: skip
        if filters.ids is not None and not filters.ids:
            return {}
        with self._lock.read():
            mask = self._filter_mask(viewer_tenant, filters)
            if collapse_duplicates:
                _, _, slots, _ = self._recency(mask, True)
                assert slots is not None
            else:
                slots = np.flatnonzero(mask)
            return self._count_facet(facet, slots)

    def group_ids(self, ids: Sequence[int]) -> dict[int, int]:
        with self._lock.read():
            return self._group_ids(ids)

    def _group_ids(self, ids: Sequence[int]) -> dict[int, int]:
        groups = self._columns.arrays["group"]
        return {
            int(doc_id): int(groups[slot])
            for doc_id in ids
            if (slot := self._slot_of.get(int(doc_id))) is not None
        }

    def stored_fields(self, ids: Sequence[int]) -> StoredFields:
        with self._lock.read():
            known = [
                (int(doc_id), slot)
                for doc_id in ids
                if (slot := self._slot_of.get(int(doc_id))) is not None
            ]
            c = self._columns
            slots = np.array([slot for _, slot in known], dtype=np.int64)
            names = self._languages.names()
            occupations = self._occupations.names()
            # Fancy indexing copies: later writes do not reach the rows handed out.
            return StoredFields(
                ids=[doc_id for doc_id, _ in known],
                vectors=self._vectors.vectors(slots),
                title_vectors=c.titles.rows[c.arrays["title_row"][slots]],
                skills=[c.skills[slot] for _, slot in known],
                languages=[names.get(code) for code in c.arrays["language"][slots].tolist()],
                sections=[_section_rows(c.sections[slot], self.dim) for _, slot in known],
                occupation_codes=[
                    occupations.get(code) for code in c.arrays["occupation"][slots].tolist()
                ],
            )

    def _count_facet(self, name: str, slots: np.ndarray) -> dict[Any, int]:
        """How many of ``slots`` have each value of facet ``name`` (unknown values left out)."""
        c = self._columns
        if name == "salary":
            low, high = c["salary_min"][slots], c["salary_max"][slots]
            counts: dict[Any, int] = {}
            with np.errstate(invalid="ignore"):
                for band, (band_low, band_high) in enumerate(SALARY_BANDS):
                    inside = high >= band_low
                    if band_high is not None:
                        inside &= low <= band_high
                    if n := int(inside.sum()):
                        counts[band] = n
            return counts
        column = {
            "city": "city_code",
            "district": "district_code",
            "employment_type": "employment_type",
            "education": "education_rank",
            "company": "company",
        }[name]
        values, counts_of = np.unique(c[column][slots], return_counts=True)
        names = {
            "employment_type": self._employment_types.names(),
            "company": self._companies.names(),
        }.get(name)
        return {
            (names[int(v)] if names is not None else int(v)): int(n)
            for v, n in zip(values, counts_of, strict=True)
            if v != _NO_CODE
        }

    # -- filters ---------------------------------------------------------------------------

    def _filter_mask(self, viewer_tenant: str, f: SearchFilters) -> np.ndarray:
        """The slots (up to ``size``) visible to ``viewer_tenant`` under ``f``, read-only."""
        return self._filter_mask_and_count(viewer_tenant, f)[0]

    def _filter_mask_and_count(
        self, viewer_tenant: str, f: SearchFilters
    ) -> tuple[np.ndarray, int]:
        key: Hashable | None = (viewer_tenant, f)
        try:
            cached = self._masks.lookup(key)
        except TypeError:  # a filter value that cannot be a key: computed each time
            key, cached = None, None
        if cached is not None:
            return cached
        generation = self._masks.generation
        size = self._columns.size
        predicates = self._predicates(viewer_tenant, f)
        mask = self._predicate_mask(predicates[0])[:size].copy()
        for predicate in predicates[1:]:
            np.logical_and(mask, self._predicate_mask(predicate)[:size], out=mask)
        if f.ids is not None:
            allowed = np.zeros(size, dtype=bool)
            slots = [self._slot_of[i] for i in f.ids if i in self._slot_of]
            allowed[np.array(slots, dtype=np.int64)] = True
            mask &= allowed
        if f.exclude:
            excluded = self._excluded_slots(f.exclude)
            mask[excluded[excluded < size]] = False
        mask.flags.writeable = False  # shared by every query with these filters
        count = int(np.count_nonzero(mask))
        if key is not None:
            self._masks.keep(key, generation, mask, count)
        return mask, count

    def _predicates(self, viewer_tenant: str, f: SearchFilters) -> list[_Predicate]:
        """``f`` (but ids and exclusions) as predicates with cached masks, visibility first."""
        predicates: list[_Predicate] = [
            ("visible", self._tenants.code(viewer_tenant, create=False))
        ]
        if f.city_codes:
            predicates.append(("city_code", tuple(sorted(set(f.city_codes)))))
        if f.district_codes:
            predicates.append(("district_code", tuple(sorted(set(f.district_codes)))))
        if f.employment_types:
            codes = {self._employment_types.code(t, create=False) for t in f.employment_types}
            predicates.append(("employment_type", tuple(sorted(codes))))
        if f.companies:
            codes = {self._companies.code(name, create=False) for name in f.companies}
            predicates.append(("company", tuple(sorted(codes))))
        bounds = {
            "salary_max>=": f.salary_min,
            "salary_min<=": f.salary_max,
            "years>=": f.years_min,
            "years<=": f.years_max,
            "education>=": f.education_min_rank,
            "education<=": f.education_max_rank,
        }
        predicates += [(name, value) for name, value in bounds.items() if value is not None]
        if f.skills_all:
            predicates.append(("skills_all", tuple(sorted(set(f.skills_all)))))
        if f.skills_any:
            predicates.append(("skills_any", tuple(sorted(set(f.skills_any)))))
        return predicates

    def _predicate_mask(self, predicate: _Predicate) -> np.ndarray:
        """The cached mask of ``predicate`` over every slot (built now when not cached)."""
        mask = self._masks.predicate(predicate)
        if mask is None:
            mask = np.zeros(self._columns.capacity, dtype=bool)
            kind, value = predicate
            if kind in ("skills_all", "skills_any"):
                sets = [self._skill_slots.get(skill, set()) for skill in value]
                chosen = set.intersection(*sets) if kind == "skills_all" else set().union(*sets)
                mask[np.fromiter(chosen, dtype=np.int64, count=len(chosen))] = True
            else:
                size = self._columns.size
                mask[:size] = self._predicate_values(predicate, slice(0, size))
            self._masks.keep_predicate(predicate, mask)
        return mask

    def _predicate_values(self, predicate: _Predicate, slots: slice | np.ndarray) -> np.ndarray:
        """Whether each of ``slots`` satisfies ``predicate``, from the columns."""
        a = self._columns.arrays
        kind, value = predicate
        if kind == "visible":
            return a["alive"][slots] & (~a["private"][slots] | (a["tenant"][slots] == value))
        if kind in _TERM_COLUMNS:
            values = a[kind][slots]
            return values == value[0] if len(value) == 1 else np.isin(values, value)
        if kind in ("skills_all", "skills_any"):
            wanted = set(value)
            skills = self._columns.skills
            test = wanted.issubset if kind == "skills_all" else wanted.intersection
            chosen = np.arange(self._columns.size)[slots] if isinstance(slots, slice) else slots
            return np.fromiter(
                (bool(test(skills[s])) for s in chosen.tolist()), dtype=bool, count=len(chosen)
            )
        column, bound = {
            "salary_max>=": ("salary_max", np.greater_equal),
            "salary_min<=": ("salary_min", np.less_equal),
            "years>=": ("years", np.greater_equal),
            "years<=": ("years", np.less_equal),
            "education>=": ("education_rank", np.greater_equal),
            "education<=": ("education_rank", np.less_equal),
        }[kind]
        values = a[column][slots]
        with np.errstate(invalid="ignore"):  # NaN (unknown) compares False, as it should
            inside = bound(values, value)
        if column == "education_rank":
            inside &= values != _NO_CODE
        return np.asarray(inside, dtype=bool)

    def _refresh_masks(self, slots: np.ndarray) -> None:
        """Bring every cached mask up to date on ``slots`` (just written) and grow them with
        the columns."""
        capacity = self._columns.capacity
        with self._masks.mutex:
            cached = list(self._masks.predicates.items())
        for predicate, mask in cached:
            if len(mask) < capacity:
                grown = np.zeros(capacity, dtype=bool)
                grown[: len(mask)] = mask
                self._masks.keep_predicate(predicate, grown)
                mask = grown
            mask[slots] = self._predicate_values(predicate, slots)
        self._masks.changed()

    def _keyword_filter(self, viewer_tenant: str, f: SearchFilters) -> list[Any]:
        """The same filters as ``_filter_mask``, as tantivy sub-queries (Occur.Must)."""
        schema = self._schema
        Q = tantivy.Query
        ft = tantivy.FieldType
        # Two term queries, not a term_set_query: tantivy (0.27) answers a term set with a
        # bit set of every match built per query, which costs more than the visibility
        # clause it replaces (bench.engine_micro).
        visible = [_PUBLIC_TERM, _visibility_term(viewer_tenant, True)]
        clauses = [
            Q.boolean_query(
                [(tantivy.Occur.Should, Q.term_query(schema, "visible", t)) for t in visible]
            )
        ]

        def any_of(field: str, values: Sequence[Any]) -> Any:
            return Q.term_set_query(schema, field, list(values))

        if f.ids is not None:
            clauses.append(any_of("id", f.ids))
        if f.city_codes:
            clauses.append(any_of("city_code", f.city_codes))
        if f.district_codes:
            clauses.append(any_of("district_code", f.district_codes))
        if f.employment_types:
            clauses.append(any_of("employment_type", f.employment_types))
        if f.companies:
            clauses.append(any_of("company", f.companies))
        if f.salary_min is not None:
            clauses.append(Q.range_query(schema, "salary_max", ft.Float, float(f.salary_min), None))
        if f.salary_max is not None:
            clauses.append(Q.range_query(schema, "salary_min", ft.Float, None, float(f.salary_max)))
        if f.years_min is not None:
            clauses.append(Q.range_query(schema, "years", ft.Float, float(f.years_min), None))
        if f.years_max is not None:
            clauses.append(Q.range_query(schema, "years", ft.Float, None, float(f.years_max)))
        if f.education_min_rank is not None:
            clauses.append(
                Q.range_query(schema, "education_rank", ft.Integer, f.education_min_rank, None)
            )
        if f.education_max_rank is not None:
            clauses.append(
                Q.range_query(schema, "education_rank", ft.Integer, 0, f.education_max_rank)
            )
        for skill in f.skills_all:
            clauses.append(Q.term_query(schema, "skills", skill))
        if f.skills_any:
            clauses.append(any_of("skills", f.skills_any))
        # Filters must not add to BM25: wrap them in a zero constant score.
        musts = [(tantivy.Occur.Must, Q.const_score_query(c, 0.0)) for c in clauses]
        return musts + [(tantivy.Occur.MustNot, self._text_query(q)) for q in f.exclude]

    # -- retrieval -------------------------------------------------------------------------

    def _keyword_query(
        self, terms: list[str], viewer_tenant: str, filters: SearchFilters,
        query: KeywordQuery | None = None,
    ) -> Any:  # fmt: skip
        text_query = self._text_query(
            query if query is not None else Match("body", tuple(terms)), chars=True
        )
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, text_query), *self._keyword_filter(viewer_tenant, filters)]
        )

    def _text_query(self, query: KeywordQuery, *, chars: bool = False) -> Any:
        """``query`` (``search_index.query_syntax``) as a scored tantivy query. With
        ``chars``, a body match of words that may stand alone (the whole query, or one side
        of an OR) also matches their Chinese character grams (weighed by ``char_weight``);
        phrases, fields, AND's sides and exclusions match words only."""
        Q, Occur, schema = tantivy.Query, tantivy.Occur, self._schema
        if isinstance(query, Match):
            if query.phrase:
                return Q.phrase_query(schema, query.field, list(query.tokens))
            words = [(Occur.Should, Q.term_query(schema, query.field, t)) for t in query.tokens]
            grams = query_char_grams(query.tokens) if chars and query.field == "body" else []
            words += [
                (Occur.Should, Q.boost_query(Q.term_query(schema, "chars", g), char_weight(g)))
                for g in grams
            ]
            return Q.boolean_query(words)
        # Sides of an AND match words only; one positive part (an OR, or a term with
        # exclusions) stands alone where its clause does.
        alone = chars and len(query.must) + bool(query.should) == 1
        clauses = [(Occur.Must, self._text_query(q, chars=alone)) for q in query.must]
        if query.should:
            any_of = [(Occur.Should, self._text_query(q, chars=alone)) for q in query.should]
            clauses.append((Occur.Must, Q.boolean_query(any_of)))
        clauses += [(Occur.MustNot, self._text_query(q)) for q in query.must_not]
        return Q.boolean_query(clauses)

    def _excluded_slots(self, excluded: Sequence[KeywordQuery]) -> np.ndarray:
        """The slots of documents matching any of ``excluded`` (a tantivy query, so the
        vector side drops exactly what the keyword side drops)."""
        query = self._text_query(Clause(should=tuple(excluded)))
        searcher = self._keyword.searcher()
        # Count first: a top-k as deep as the whole index would be allocated in full.
        matching = int(searcher.search(query, limit=1, count=True).count or 0)  # type: ignore[attr-defined]
        if matching == 0:
            return np.array([], dtype=np.int64)
        found = searcher.search(query, limit=matching, count=False).hits
        slots = [self._slot_of.get(doc_id) for doc_id, _ in self._keyword_hits(searcher, found)]
        return np.array([s for s in slots if s is not None], dtype=np.int64)

    def _vector_search(
        self, vector: np.ndarray, mask: np.ndarray, allowed: int, depth: int
    ) -> list[tuple[int, float]]:
        if allowed == 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if allowed <= self.settings.embedded.exact_search_threshold:
            return self._exact_search(query, mask, depth)
        k = min(depth, allowed)
        found = self._vectors.search(query, mask, allowed, len(self._slot_of), k)
        if found is None:
            return self._exact_search(query, mask, depth)
        ids = self._columns["ids"]
        return [(int(ids[slot]), float(s)) for slot, s in zip(*found, strict=True)]

    def _exact_search(
        self, query: np.ndarray, mask: np.ndarray, depth: int
    ) -> list[tuple[int, float]]:
        slots, scores = self._vectors.exact(query, np.flatnonzero(mask), depth)
        ids = self._columns["ids"]
        return [(int(ids[slot]), float(s)) for slot, s in zip(slots, scores, strict=True)]
