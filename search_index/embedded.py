"""The embedded search backend: one directory on disk, no server.

- keywords: tantivy (BM25) over jieba-segmented text, filters as tantivy sub-queries;
- vectors: an hnswlib HNSW graph, or an exact numpy scan when the filtered set is small;
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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import hnswlib
import numpy as np
import tantivy

from core.settings import SearchSettings
from search_index.errors import IndexLockedError, SearchBackendError
from search_index.fusion import reciprocal_rank_fusion
from search_index.protocol import (
    FACET_FILTERS,
    SALARY_BANDS,
    IndexDocument,
    SearchFilters,
    SearchHit,
    SearchQuery,
    SearchResult,
    StoredVectors,
)
from search_index.rerank import rerank_signals, text_language
from search_index.tokenize import segment, tokenize

log = logging.getLogger(__name__)

_FORMAT_VERSION = 4
_NO_CODE = -1


def _without_filters(filters: SearchFilters, names: Sequence[str]) -> SearchFilters:
    """``filters`` with the named fields back at their defaults (no restriction)."""
    unrestricted = SearchFilters()
    return replace(filters, **{name: getattr(unrestricted, name) for name in names})


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
    builder.add_text_field("tenant", tokenizer_name="raw")
    builder.add_integer_field("private", indexed=True)
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
    # Pre-segmented by jieba; the whitespace tokenizer only splits on the spaces we put in.
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


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
        "education_rank": (np.int32, _NO_CODE),
        "years": (np.float64, np.nan),
        "timestamp": (np.float64, 0.0),
        "group": (np.int64, -1),
    }

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self.size = 0  # slots in use (alive or free)
        self.arrays: dict[str, np.ndarray] = {
            name: np.full(capacity, fill, dtype=dtype)
            for name, (dtype, fill) in self.NUMERIC.items()
        }
        self.vectors = np.zeros((capacity, dim), dtype=np.float32)
        self.title_vectors = np.zeros((capacity, dim), dtype=np.float32)
        self.skills: list[tuple[str, ...]] = [()] * capacity

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
        for attr in ("vectors", "title_vectors"):
            grown_vectors = np.zeros((new_capacity, self.dim), dtype=np.float32)
            grown_vectors[: self.size] = getattr(self, attr)[: self.size]
            setattr(self, attr, grown_vectors)
        self.skills.extend([()] * (new_capacity - len(self.skills)))

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


class EmbeddedIndex:
    """``SearchIndex`` over a local directory (see the module docstring)."""

    def __init__(self, path: Path, *, dim: int, model_id: str, settings: SearchSettings) -> None:
        self.path = Path(path)
        self.dim = dim
        self.model_id = model_id
        self.settings = settings
        self._lock = threading.RLock()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_file = _acquire_directory_lock(self.path)
        self._schema = _build_schema()
        self._columns = _Columns(dim)
        self._slot_of: dict[int, int] = {}
        self._free_slots: list[int] = []
        self._skill_slots: dict[str, set[int]] = {}
        self._tenants = _Codes({})
        self._employment_types = _Codes({})
        self._companies = _Codes({})
        self._languages = _Codes({})
        self._hnsw = self._new_hnsw(1024)
        self._dirty = False
        self._closed = False
        if not self._load_checkpoint():
            # Without a usable checkpoint the keyword side cannot be trusted either.
            shutil.rmtree(self.path / "keyword", ignore_errors=True)
        (self.path / "keyword").mkdir(exist_ok=True)
        self._keyword = tantivy.Index(self._schema, path=str(self.path / "keyword"), reuse=True)
        self._writer = self._keyword.writer(heap_size=64_000_000, num_threads=1)

    # -- persistence -----------------------------------------------------------------------

    def _new_hnsw(self, capacity: int) -> Any:
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.init_index(
            max_elements=capacity,
            ef_construction=self.settings.hnsw_ef_construction,
            M=self.settings.hnsw_m,
        )
        index.set_ef(self.settings.hnsw_ef_search)
        return index

    def _load_checkpoint(self) -> bool:
        manifest_path = self.path / "checkpoint.json"
        if not manifest_path.exists():
            return False
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest["format"] != _FORMAT_VERSION or manifest["model_id"] != self.model_id:
                log.warning("index at %s was built for another model or format", self.path)
                return False
            data = np.load(self.path / manifest["columns"], allow_pickle=False)
            size = int(manifest["size"])
            columns = _Columns(self.dim, capacity=max(1024, size))
            columns.size = size
            for name in _Columns.NUMERIC:
                columns.arrays[name][:size] = data[name]
            columns.vectors[:size] = data["vectors"]
            columns.title_vectors[:size] = data["title_vectors"]
            skills = json.loads(str(data["skills"]))
            columns.skills[:size] = [tuple(s) for s in skills]
            hnsw = hnswlib.Index(space="ip", dim=self.dim)
            hnsw.load_index(str(self.path / manifest["hnsw"]), max_elements=columns.capacity)
            hnsw.set_ef(self.settings.hnsw_ef_search)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            log.warning("ignoring unreadable index checkpoint at %s: %s", self.path, exc)
            return False
        self._columns = columns
        self._hnsw = hnsw
        self._tenants = _Codes(manifest["tenants"])
        self._employment_types = _Codes(manifest["employment_types"])
        self._companies = _Codes(manifest["companies"])
        self._languages = _Codes(manifest["languages"])
        alive = columns["alive"]
        ids = columns["ids"]
        self._slot_of = {int(ids[s]): int(s) for s in np.flatnonzero(alive)}
        self._free_slots = [int(s) for s in np.flatnonzero(~alive)]
        for slot in self._slot_of.values():
            for skill in columns.skills[slot]:
                self._skill_slots.setdefault(skill, set()).add(slot)
        return True

    def checkpoint(self) -> None:
        """Write vectors and columns atomically; tantivy's own commit covers keywords."""
        with self._lock:
            self.commit()
            if not self._dirty and (self.path / "checkpoint.json").exists():
                return
            size = self._columns.size
            generation = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
            columns_name = f"columns-{generation}.npz"
            hnsw_name = f"hnsw-{generation}.bin"
            arrays: dict[str, Any] = {name: self._columns[name] for name in _Columns.NUMERIC}
            with open(self.path / columns_name, "wb") as handle:
                np.savez(
                    handle,
                    vectors=self._columns.vectors[:size],
                    title_vectors=self._columns.title_vectors[:size],
                    skills=np.array(json.dumps([list(s) for s in self._columns.skills[:size]])),
                    **arrays,
                )
                handle.flush()
                os.fsync(handle.fileno())
            self._hnsw.save_index(str(self.path / hnsw_name))
            manifest = {
                "format": _FORMAT_VERSION,
                "model_id": self.model_id,
                "size": size,
                "columns": columns_name,
                "hnsw": hnsw_name,
                "tenants": self._tenants.values,
                "employment_types": self._employment_types.values,
                "companies": self._companies.values,
                "languages": self._languages.values,
            }
            tmp = self.path / "checkpoint.json.tmp"
            tmp.write_text(json.dumps(manifest))
            os.replace(tmp, self.path / "checkpoint.json")
            for stale in self.path.glob("columns-*.npz"):
                if stale.name != columns_name:
                    stale.unlink(missing_ok=True)
            for stale in self.path.glob("hnsw-*.bin"):
                if stale.name != hnsw_name:
                    stale.unlink(missing_ok=True)
            self._dirty = False

    def close(self) -> None:
        """Checkpoint and release the writer lock (idempotent)."""
        with self._lock:
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
        with self._lock:
            for doc in documents:
                self._check_vector(doc.vector, doc.id)
                self._check_vector(doc.title_vector, doc.id)
            self._columns.grow(self._columns.size + len(documents))
            if self._columns.capacity > self._hnsw.get_max_elements():
                self._hnsw.resize_index(self._columns.capacity)
            slots = [self._place(doc) for doc in documents]
            vectors = np.stack([doc.vector for doc in documents]).astype(np.float32)
            # Re-adding a label hnswlib has marked deleted un-marks it and updates its vector.
            self._hnsw.add_items(vectors, np.asarray(slots), num_threads=1)
            for doc in documents:
                self._writer.delete_documents_by_term("id", doc.id)
                self._writer.add_document(self._keyword_document(doc))
            self._dirty = True

    def _check_vector(self, vector: np.ndarray, doc_id: int) -> None:
        if vector.shape != (self.dim,):
            raise SearchBackendError(
                f"document {doc_id}: vector has shape {vector.shape}, index expects ({self.dim},)"
            )

    def _place(self, doc: IndexDocument) -> int:
        columns = self._columns
        slot = self._slot_of.get(doc.id)
        if slot is None:
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
        a["education_rank"][slot] = (
            doc.education_rank if doc.education_rank is not None else _NO_CODE
        )
        a["years"][slot] = np.nan if doc.years is None else doc.years
        a["timestamp"][slot] = doc.timestamp
        a["group"][slot] = doc.group_id if doc.group_id is not None else doc.id
        columns.vectors[slot] = doc.vector
        columns.title_vectors[slot] = doc.title_vector
        columns.skills[slot] = tuple(doc.skills)
        for skill in doc.skills:
            self._skill_slots.setdefault(skill, set()).add(slot)
        return slot

    def _keyword_document(self, doc: IndexDocument) -> tantivy.Document:
        title_tokens = segment(doc.title)
        fields: dict[str, Any] = {
            "id": doc.id,
            "tenant": doc.tenant_id,
            "private": int(doc.private),
            "timestamp": int(doc.timestamp),
            # The title counts twice: a title match is worth more than a passing mention.
            "body": f"{title_tokens} {title_tokens} {segment(doc.text)}",
            "skills": list(doc.skills),
        }
        optional = {
            "city_code": doc.city_code,
            "district_code": doc.district_code,
            "salary_min": doc.salary_min,
            "salary_max": doc.salary_max,
            "employment_type": doc.employment_type,
            "company": doc.company,
            "education_rank": doc.education_rank,
            "years": doc.years,
        }
        for name, value in optional.items():
            if value is not None:
                fields[name] = (
                    float(value) if name in {"salary_min", "salary_max", "years"} else value
                )
        return tantivy.Document(**fields)

    def delete(self, ids: Sequence[int]) -> None:
        with self._lock:
            for doc_id in ids:
                self._writer.delete_documents_by_term("id", int(doc_id))
                slot = self._slot_of.pop(int(doc_id), None)
                if slot is None:
                    continue
                self._columns.arrays["alive"][slot] = False
                for skill in self._columns.skills[slot]:
                    self._skill_slots.get(skill, set()).discard(slot)
                self._columns.skills[slot] = ()
                self._hnsw.mark_deleted(slot)
                self._free_slots.append(slot)
                self._dirty = True

    def commit(self) -> None:
        with self._lock:
            self._writer.commit()
            self._keyword.reload()

    def clear(self) -> None:
        with self._lock:
            self._writer.delete_all_documents()
            self._writer.commit()
            self._writer.garbage_collect_files()  # drop the old segments' files now
            self._keyword.reload()
            self._columns = _Columns(self.dim)
            self._slot_of.clear()
            self._free_slots.clear()
            self._skill_slots.clear()
            self._hnsw = self._new_hnsw(1024)
            self._dirty = True

    # -- reads -----------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._slot_of)

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._slot_of)

    def vectors(self, ids: Sequence[int]) -> dict[int, StoredVectors]:
        with self._lock:
            found: dict[int, StoredVectors] = {}
            for doc_id in ids:
                slot = self._slot_of.get(int(doc_id))
                if slot is not None:
                    found[int(doc_id)] = StoredVectors(
                        self._columns.vectors[slot].copy(), self._columns.title_vectors[slot].copy()
                    )
            return found

    def search(self, query: SearchQuery) -> SearchResult:
        if query.filters.ids is not None and not query.filters.ids:
            return SearchResult(total=0, hits=[], facets={name: {} for name in query.facets})
        with self._lock:
            result, slots = self._search(query)
            if not query.facets:
                return result
            facets: dict[str, dict[Any, int]] = {}
            for name in query.facets:
                relaxed = _without_filters(query.filters, FACET_FILTERS[name])
                if relaxed != query.filters:
                    _, counted = self._search(replace(query, filters=relaxed, limit=0, offset=0))
                else:
                    counted = slots
                facets[name] = self._count_facet(name, counted)
            return replace(result, facets=facets)

    def _search(self, query: SearchQuery) -> tuple[SearchResult, np.ndarray]:
        """One page of the result, and the slots of the whole result (for facet counts)."""
        mask = self._filter_mask(query.viewer_tenant, query.filters)
        depth = max(self.settings.candidate_depth, query.offset + query.limit)
        terms = list(dict.fromkeys(tokenize(query.text))) if query.text.strip() else []
        if not terms and query.vector is None:
            return self._list_by_recency(mask, query)
        keyword: list[tuple[int, float]] = []
        semantic: list[tuple[int, float]] = []
        if terms and query.mode in ("hybrid", "keyword"):
            keyword = self._keyword_search(terms, query, depth)
        if query.vector is not None and query.mode in ("hybrid", "semantic"):
            semantic = [
                (doc_id, score)
                for doc_id, score in self._vector_search(query.vector, mask, depth)
                if score >= self.settings.semantic_floor
            ]
        return self._fuse(keyword, semantic, query)

    def _fuse(
        self,
        keyword: list[tuple[int, float]],
        semantic: list[tuple[int, float]],
        query: SearchQuery,
    ) -> tuple[SearchResult, np.ndarray]:
        lists = [[doc_id for doc_id, _ in ranking] for ranking in (keyword, semantic) if ranking]
        fused = reciprocal_rank_fusion(lists, k=self.settings.rrf_k)
        if query.rerank is not None and query.vector is not None:
            fused = self._rerank(fused, keyword, query)
        folded: dict[int, int] = {}
        if query.collapse_duplicates:
            fused, folded = self._collapse(fused)
        keyword_rank = {doc_id: (r, s) for r, (doc_id, s) in enumerate(keyword, start=1)}
        semantic_rank = {doc_id: (r, s) for r, (doc_id, s) in enumerate(semantic, start=1)}
        page = fused[query.offset : query.offset + query.limit]
        hits = []
        for doc_id, score in page:
            k_rank, k_score = keyword_rank.get(doc_id, (None, None))
            s_rank, s_score = semantic_rank.get(doc_id, (None, None))
            hits.append(
                SearchHit(
                    id=doc_id,
                    score=round(score, 6),
                    keyword_rank=k_rank,
                    keyword_score=k_score,
                    semantic_rank=s_rank,
                    semantic_score=s_score,
                    duplicates=folded.get(doc_id, 0),
                )
            )
        slots = np.fromiter(
            (self._slot_of[doc_id] for doc_id, _ in fused if doc_id in self._slot_of),
            dtype=np.int64,
        )
        return SearchResult(total=len(fused), hits=hits), slots

    def _rerank(
        self,
        fused: list[tuple[int, float]],
        keyword: list[tuple[int, float]],
        query: SearchQuery,
    ) -> list[tuple[int, float]]:
        """The fused documents ordered by the re-ranker's score (see ``search_index.rerank``)."""
        ids = [doc_id for doc_id, _ in fused if doc_id in self._slot_of]
        if not ids:
            return []
        slots = np.array([self._slot_of[doc_id] for doc_id in ids], dtype=np.int64)
        bm25 = dict(keyword)
        assert query.vector is not None and query.rerank is not None
        signals = rerank_signals(
            query.vector, self._columns.vectors[slots], self._columns.title_vectors[slots],
            [bm25.get(d, 0.0) for d in ids], query.skills,
            [self._columns.skills[slot] for slot in slots.tolist()],
        )  # fmt: skip
        names = self._languages.names()
        languages = [names.get(int(code)) for code in self._columns["language"][slots]]
        scores = query.rerank.score(
            signals, text_language(query.text), languages, skills=bool(query.skills)
        )
        order = np.argsort(-scores, kind="stable")  # ties keep the fused order
        return [(ids[i], float(scores[i])) for i in order]

    def _group_of(self, doc_id: int) -> int:
        slot = self._slot_of.get(doc_id)
        return int(self._columns.arrays["group"][slot]) if slot is not None else doc_id

    def _collapse(
        self, ranked: list[tuple[int, float]]
    ) -> tuple[list[tuple[int, float]], dict[int, int]]:
        """The best-ranked document of each group, and how many others each one stands for."""
        kept: list[tuple[int, float]] = []
        leader: dict[int, int] = {}
        folded: dict[int, int] = {}
        for doc_id, score in ranked:
            group = self._group_of(doc_id)
            if group in leader:
                folded[leader[group]] = folded.get(leader[group], 0) + 1
                continue
            leader[group] = doc_id
            kept.append((doc_id, score))
        return kept, folded

    def _list_by_recency(
        self, mask: np.ndarray, query: SearchQuery
    ) -> tuple[SearchResult, np.ndarray]:
        slots = np.flatnonzero(mask)
        timestamps = self._columns["timestamp"][slots]
        ids = self._columns["ids"][slots]
        # Newest first; equal timestamps by descending id so paging is stable.
        order = np.lexsort((-ids, -timestamps))
        if not query.collapse_duplicates:
            page = order[query.offset : query.offset + query.limit]
            hits = [SearchHit(id=int(ids[i]), score=0.0) for i in page]
            return SearchResult(total=int(len(slots)), hits=hits), slots
        groups = self._columns["group"][slots][order]
        _, first_positions, counts = np.unique(groups, return_index=True, return_counts=True)
        leaders = np.sort(first_positions)  # the newest document of each group, in order
        folded = dict(zip(groups[first_positions].tolist(), (counts - 1).tolist(), strict=True))
        page = leaders[query.offset : query.offset + query.limit]
        hits = [
            SearchHit(id=int(ids[order[p]]), score=0.0, duplicates=int(folded[int(groups[p])]))
            for p in page
        ]
        return SearchResult(total=int(len(leaders)), hits=hits), slots[order[leaders]]

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
        c = self._columns
        viewer = self._tenants.code(viewer_tenant, create=False)
        mask = c["alive"] & (~c["private"] | (c["tenant"] == viewer))
        if f.ids is not None:
            allowed = np.zeros(len(mask), dtype=bool)
            slots = [self._slot_of[i] for i in f.ids if i in self._slot_of]
            allowed[np.array(slots, dtype=np.int64)] = True
            mask &= allowed
        if f.city_codes:
            mask &= np.isin(c["city_code"], f.city_codes)
        if f.district_codes:
            mask &= np.isin(c["district_code"], f.district_codes)
        with np.errstate(invalid="ignore"):
            if f.salary_min is not None:
                mask &= c["salary_max"] >= f.salary_min
            if f.salary_max is not None:
                mask &= c["salary_min"] <= f.salary_max
            if f.years_min is not None:
                mask &= c["years"] >= f.years_min
            if f.years_max is not None:
                mask &= c["years"] <= f.years_max
        if f.employment_types:
            codes = [self._employment_types.code(t, create=False) for t in f.employment_types]
            mask &= np.isin(c["employment_type"], codes)
        if f.companies:
            codes = [self._companies.code(name, create=False) for name in f.companies]
            mask &= np.isin(c["company"], codes)
        known_education = c["education_rank"] != _NO_CODE
        if f.education_min_rank is not None:
            mask &= known_education & (c["education_rank"] >= f.education_min_rank)
        if f.education_max_rank is not None:
            mask &= known_education & (c["education_rank"] <= f.education_max_rank)
        for skill in f.skills_all:
            mask &= self._skill_mask(skill)
        if f.skills_any:
            any_mask = np.zeros_like(mask)
            for skill in f.skills_any:
                any_mask |= self._skill_mask(skill)
            mask &= any_mask
        return mask

    def _skill_mask(self, skill: str) -> np.ndarray:
        mask = np.zeros(self._columns.size, dtype=bool)
        slots = self._skill_slots.get(skill)
        if slots:
            mask[np.fromiter(slots, dtype=np.int64, count=len(slots))] = True
        return mask

    def _keyword_filter(self, viewer_tenant: str, f: SearchFilters) -> list[Any]:
        """The same filters as ``_filter_mask``, as tantivy sub-queries (Occur.Must)."""
        schema = self._schema
        Q = tantivy.Query
        ft = tantivy.FieldType
        clauses = [
            Q.boolean_query(
                [
                    (tantivy.Occur.Should, Q.term_query(schema, "private", 0)),
                    (tantivy.Occur.Should, Q.term_query(schema, "tenant", viewer_tenant)),
                ]
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
        return [(tantivy.Occur.Must, Q.const_score_query(c, 0.0)) for c in clauses]

    # -- retrieval -------------------------------------------------------------------------

    def _keyword_search(
        self, terms: list[str], query: SearchQuery, depth: int
    ) -> list[tuple[int, float]]:
        schema = self._schema
        text_query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in terms]
        )
        full = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, text_query),
                *self._keyword_filter(query.viewer_tenant, query.filters),
            ]
        )
        searcher = self._keyword.searcher()
        result = searcher.search(full, limit=depth, count=False)
        if not result.hits:
            return []
        addresses = [address for _, address in result.hits]
        ids = searcher.fast_field_values("id", addresses)
        return [
            (int(doc_id), float(score))
            for (score, _), doc_id in zip(result.hits, ids, strict=True)
            if doc_id is not None
        ]

    def _vector_search(
        self, vector: np.ndarray, mask: np.ndarray, depth: int
    ) -> list[tuple[int, float]]:
        allowed = int(mask.sum())
        if allowed == 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        ids = self._columns["ids"]
        if allowed <= self.settings.exact_search_threshold:
            slots = np.flatnonzero(mask)
            scores = self._columns.vectors[slots] @ query
            k = min(depth, len(slots))
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [(int(ids[slots[i]]), float(scores[i])) for i in top]
        k = min(depth, allowed)
        labels, distances = self._hnsw.knn_query(
            query, k=k, num_threads=1, filter=lambda slot: bool(mask[slot])
        )
        # hnswlib's "ip" space returns 1 - inner product.
        return [
            (int(ids[slot]), float(1.0 - d))
            for slot, d in zip(labels[0], distances[0], strict=True)
        ]
