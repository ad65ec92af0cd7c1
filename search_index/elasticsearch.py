"""The Elasticsearch 9 search backend: one index per entity kind behind an alias.

The alias ``<prefix>-<kind>s`` (``talentmatch-jobs``) points at one concrete index
``<prefix>-<kind>s-v<N>``; a rebuild fills ``-v<N+1>`` while searches keep using the alias,
then moves the alias in one ``_aliases`` call and deletes the old index::

    index = ElasticsearchIndex("job", dim=512, model_id="use-v3", settings=settings.search)
    index.begin_rebuild()
    index.upsert(documents)      # into -v<N+1>; searches still see -v<N>
    index.finish_rebuild()       # alias switched, old index deleted

The request bodies are built by the pure functions below (``mapping``, ``keyword_query``,
``knn_query``, ``bulk_actions``, ``alias_switch``; pinned by golden files in the tests). The
mapping's ``_meta`` holds the embedding model, the dimensions, this module's mapping version
and the outbox marker of the last checkpoint: an index built for another model or mapping
reads as lost (``applied_through()`` is None) and answers nothing until it is rebuilt.

Keyword search runs BM25 over the project's own segmentation (``search_index.tokenize``)
indexed with a whitespace analyzer, so its matches equal the embedded backend's; the
Chinese character unigrams and bigrams beside the words (the ``chars`` field) are made
there too, as ``cjk_bigram`` with ``output_unigrams`` would, but of Han runs only (English
is searched by words alone) and identical to the embedded index's grams. Every
transport failure, 5xx or refusal surfaces as ``SearchBackendError`` (an
``IndexUnavailable``): no Elasticsearch exception leaves this module. Fusion, re-ranking and
paging stay in ``search_index.hybrid`` (the ``rrf``/``linear`` retrievers need an Enterprise
licence).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import elastic_transport
import numpy as np
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from core.errors import InvalidInput
from core.settings import ElasticsearchSettings, SearchSettings
from search_index.errors import SearchBackendError
from search_index.protocol import (
    SALARY_BANDS,
    Facet,
    IndexDocument,
    KeywordHits,
    ListedPage,
    SearchFilters,
    SearchHit,
)
from search_index.query_syntax import KeywordQuery, Match
from search_index.tokenize import char_weight, query_char_grams, segment, segment_chars

# Bumped when the mapping or the document shape changes: an index of an older version is
# rebuilt, like one of another model.
# 2: positions in the segmented text and a segmented title field (phrases, title:).
# 3: occupation_code (occupation-aware search) and Chinese character grams beside the
#    words (the chars field).
MAPPING_VERSION = 3
# index.max_result_window's default: from + size beyond it is refused by Elasticsearch.
MAX_RESULT_WINDOW = 10_000
# kNN's num_candidates ceiling (per shard).
MAX_NUM_CANDIDATES = 10_000
# index.max_terms_count's default: the most values one terms query may hold.
MAX_TERMS = 65_536

# The fields of a document that facets and duplicate folding read back.
_FACET_SOURCE = (
    "id", "group_id", "timestamp", "city_code", "district_code", "employment_type",
    "education_rank", "company", "salary_min", "salary_max",
)  # fmt: skip
_FACET_FIELDS = {
    "city": "city_code",
    "district": "district_code",
    "employment_type": "employment_type",
    "education": "education_rank",
    "company": "company",
}
_VERSION_RE = re.compile(r"-v(\d+)$")


# -- request bodies (pure) -------------------------------------------------------------------


def alias_name(prefix: str, kind: str) -> str:
    """The alias searches use for one entity kind (``talentmatch-jobs``)."""
    return f"{prefix}-{kind}s"


def index_name(alias: str, version: int) -> str:
    """The concrete index of ``version`` behind ``alias``."""
    return f"{alias}-v{version}"


def index_meta(*, dim: int, model_id: str, applied_through: int | None = None) -> dict[str, Any]:
    """The mapping's ``_meta``: what the vectors are and how far the outbox reached."""
    return {
        "model_id": model_id,
        "dims": dim,
        "mapping_version": MAPPING_VERSION,
        "applied_through": applied_through,
    }


def meta_matches(meta: dict[str, Any] | None, *, dim: int, model_id: str) -> bool:
    """Whether an index's ``_meta`` was written for this model, size and mapping version."""
    if not meta:
        return False
    return (
        meta.get("model_id") == model_id
        and meta.get("dims") == dim
        and meta.get("mapping_version") == MAPPING_VERSION
    )


def index_settings(es: ElasticsearchSettings) -> dict[str, Any]:
    """Shards, replicas and the analyzers of the text fields."""
    return {
        "number_of_shards": es.number_of_shards,
        "number_of_replicas": es.number_of_replicas,
        "analysis": {
            "analyzer": {
                # The text is already segmented (jieba + lower-cased words): only split it.
                "tm_tokens": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]},
                "tm_cjk": {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["cjk_width", "lowercase", "tm_cjk_bigram"],
                },
            },
            "filter": {"tm_cjk_bigram": {"type": "cjk_bigram", "output_unigrams": True}},
        },
    }


def mapping(*, dim: int, model_id: str, es: ElasticsearchSettings) -> dict[str, Any]:
    """The index mapping: keyword/numeric fields for every filter, the content vector and
    the text fields, with ``_meta`` (``index_meta``)."""
    content: dict[str, Any] = {"type": "text", "analyzer": "tm_cjk"}
    if es.chinese_analyzer == "ik":
        content["fields"] = {
            "ik": {"type": "text", "analyzer": "ik_max_word", "search_analyzer": "ik_smart"}
        }
    elif es.chinese_analyzer == "smartcn":
        content["fields"] = {"smartcn": {"type": "text", "analyzer": "smartcn"}}
    return {
        "dynamic": "strict",
        "_meta": index_meta(dim=dim, model_id=model_id),
        # Text and vectors are searched, never read back: keeping them out of _source saves
        # space and keeps a second readable copy of profile text out of the cluster.
        "_source": {"excludes": ["body", "title", "chars", "content", "vector"]},
        "properties": {
            "id": {"type": "long"},
            "tenant_id": {"type": "keyword"},
            "private": {"type": "boolean"},
            "city_code": {"type": "integer"},
            "district_code": {"type": "integer"},
            "salary_min": {"type": "double"},
            "salary_max": {"type": "double"},
            "employment_type": {"type": "keyword"},
            "education_rank": {"type": "integer"},
            "years": {"type": "double"},
            "skills": {"type": "keyword"},
            "company": {"type": "keyword"},
            "language": {"type": "keyword"},
            "occupation_code": {"type": "keyword"},
            "group_id": {"type": "long"},
            # True when the document's group is another document's (a later near-duplicate):
            # every group of two or more holds one, so folding looks only at those groups.
            "duplicate": {"type": "boolean"},
            "timestamp": {"type": "double"},
            # jieba-segmented title (twice) and text, as the embedded backend indexes them.
            # Positions (the default index_options) for match_phrase.
            "body": {"type": "text", "analyzer": "tm_tokens"},
            "title": {"type": "text", "analyzer": "tm_tokens"},
            # Chinese character unigrams and bigrams of the title (twice) and text, made by
            # search_index.tokenize.char_grams: ranked, never phrase-matched (no positions).
            "chars": {"type": "text", "analyzer": "tm_tokens", "index_options": "freqs"},
            # The raw title and text for analyzers that need unsegmented input (cjk_bigram
            # pairs only adjacent characters, and segmentation spaces break adjacency).
            "content": content,
            # title_vector is not indexed: no query here uses it, and matching reads it from
            # the SQL embedding cache (the vector source), not from the engine.
            "vector": {
                "type": "dense_vector",
                "dims": dim,
                "index": True,
                "similarity": "cosine",
                "index_options": {"type": es.vector_index_type},
            },
        },
    }


def document_source(doc: IndexDocument) -> dict[str, Any]:
    """The indexed form of one document."""
    title = segment(doc.title)
    title_chars = segment_chars(doc.title)
    group = doc.group_id if doc.group_id is not None else doc.id
    source: dict[str, Any] = {
        "id": doc.id,
        "tenant_id": doc.tenant_id,
        "private": doc.private,
        "timestamp": float(doc.timestamp),
        "group_id": group,
        "duplicate": group != doc.id,
        # The title counts twice: a title match is worth more than a passing mention.
        "body": f"{title} {title} {segment(doc.text)}",
        "title": title,
        "chars": f"{title_chars} {title_chars} {segment_chars(doc.text)}",
        "content": f"{doc.title}\n{doc.text}",
        "skills": list(doc.skills),
    }
    source.update(doc.known_filter_values())
    if doc.occupation_code is not None:
        source["occupation_code"] = doc.occupation_code
    vector = np.asarray(doc.vector, dtype=np.float32)
    # Cosine refuses a zero vector (an empty text): such a document has no semantic match.
    if float(np.linalg.norm(vector)) > 0.0:
        source["vector"] = [float(x) for x in vector]
    return source


def bulk_actions(
    index: str, upserts: Sequence[IndexDocument] = (), deletes: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """``helpers.streaming_bulk`` actions: index (insert or replace) or delete by id."""
    actions: list[dict[str, Any]] = [
        {"_op_type": "index", "_index": index, "_id": str(doc.id), "_source": document_source(doc)}
        for doc in upserts
    ]
    actions += [{"_op_type": "delete", "_index": index, "_id": str(i)} for i in deletes]
    return actions


def alias_switch(alias: str, old: Sequence[str], new: str) -> dict[str, Any]:
    """One ``_aliases`` body moving ``alias`` from ``old`` to ``new`` (atomic)."""
    actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions.append({"add": {"index": new, "alias": alias}})
    return {"actions": actions}


def filter_clauses(viewer_tenant: str, f: SearchFilters) -> list[dict[str, Any]]:
    """The filter grammar of ``search_index.protocol`` with visibility first, as clauses
    for ``bool.filter`` (a missing field matches neither a term nor a range: an unknown
    value never passes)."""
    clauses: list[dict[str, Any]] = [
        {
            "bool": {
                "should": [
                    {"term": {"tenant_id": viewer_tenant}},
                    {"term": {"private": False}},
                ],
                "minimum_should_match": 1,
            }
        }
    ]
    if f.ids is not None:
        clauses.append({"terms": {"id": list(f.ids)}})
    for field, values in (
        ("city_code", f.city_codes),
        ("district_code", f.district_codes),
        ("employment_type", f.employment_types),
        ("company", f.companies),
    ):
        if values:
            clauses.append({"terms": {field: list(values)}})
    # Salary ranges overlap the requested one.
    if f.salary_min is not None:
        clauses.append({"range": {"salary_max": {"gte": f.salary_min}}})
    if f.salary_max is not None:
        clauses.append({"range": {"salary_min": {"lte": f.salary_max}}})
    for field, low, high in (
        ("education_rank", f.education_min_rank, f.education_max_rank),
        ("years", f.years_min, f.years_max),
    ):
        bounds = {name: v for name, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            clauses.append({"range": {field: bounds}})
    clauses += [{"term": {"skills": skill}} for skill in f.skills_all]
    if f.skills_any:
        clauses.append({"terms": {"skills": list(f.skills_any)}})
    if f.exclude:
        # In every body's filter, knn.filter too: an excluded document is no neighbour.
        clauses.append({"bool": {"must_not": [syntax_clause(q) for q in f.exclude]}})
    return clauses


def syntax_clause(query: KeywordQuery, *, chars: bool = False) -> dict[str, Any]:
    """A parsed query (``search_index.query_syntax``) as Query DSL: ``term`` per token,
    ``match_phrase`` on the segmented field for a phrase, ``bool`` must/should/must_not.
    With ``chars``, a body match of words that may stand alone (the whole query, or one side
    of an OR) also matches their Chinese character grams on ``chars`` (boosted by
    ``char_weight``), as the embedded backend does; phrases, fields, AND's sides and
    exclusions match words only."""
    if isinstance(query, Match):
        if query.phrase:
            return {"match_phrase": {query.field: {"query": " ".join(query.tokens)}}}
        grams = query_char_grams(query.tokens) if chars and query.field == "body" else []
        if len(query.tokens) == 1 and not (chars and query.field == "body"):
            return {"term": {query.field: query.tokens[0]}}
        should: list[dict[str, Any]] = [{"term": {query.field: token}} for token in query.tokens]
        should += [{"term": {"chars": {"value": g, "boost": char_weight(g)}}} for g in grams]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    # Sides of an AND match words only; one positive part (an OR, or a term with
    # exclusions) stands alone where its clause does.
    alone = chars and len(query.must) + bool(query.should) == 1
    body: dict[str, Any] = {}
    if query.must:
        body["must"] = [syntax_clause(q, chars=alone) for q in query.must]
    if query.should:
        body["should"] = [syntax_clause(q, chars=alone) for q in query.should]
        body["minimum_should_match"] = 1
    if query.must_not:
        body["must_not"] = [syntax_clause(q) for q in query.must_not]
    return {"bool": body}


def keyword_query(
    viewer_tenant: str, terms: Sequence[str], filters: SearchFilters, *, limit: int,
    query: KeywordQuery | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The BM25 search body: scored text clause (any of ``terms`` or their Chinese
    character grams, or the parsed ``query``: ``syntax_clause`` with ``chars``), every
    filter in ``bool.filter``, the exact total (``track_total_hits``), ids only."""
    text = syntax_clause(query if query is not None else Match("body", tuple(terms)), chars=True)
    return {
        "query": {
            "bool": {
                "must": [text],
                "filter": filter_clauses(viewer_tenant, filters),
            }
        },
        "size": limit,
        "track_total_hits": True,
        "_source": False,
        "track_scores": True,
        # Ties in BM25 by id, so search_after pages deeper than the result window.
        "sort": [{"_score": "desc"}, {"id": "asc"}],
    }


def knn_query(
    viewer_tenant: str, vector: np.ndarray, filters: SearchFilters, *, limit: int,
    num_candidates_factor: int = 2,
) -> dict[str, Any]:  # fmt: skip
    """The kNN search body: every filter (visibility too) inside ``knn.filter``, so the
    graph search pre-filters and still returns ``k`` hits; ids only."""
    k = max(1, min(limit, MAX_NUM_CANDIDATES))
    return {
        "knn": {
            "field": "vector",
            "query_vector": [float(x) for x in np.asarray(vector, dtype=np.float32).reshape(-1)],
            "k": k,
            "num_candidates": min(MAX_NUM_CANDIDATES, max(100, num_candidates_factor * k, k)),
            "filter": {"bool": {"filter": filter_clauses(viewer_tenant, filters)}},
        },
        "size": k,
        "_source": False,
    }


def recent_query(
    viewer_tenant: str, filters: SearchFilters, *, offset: int, limit: int, collapse: bool
) -> dict[str, Any]:
    """Filtered documents newest first (ties: higher id first); with ``collapse``, the
    newest of each duplicate group."""
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filter_clauses(viewer_tenant, filters)}},
        "sort": [{"timestamp": "desc"}, {"id": "desc"}],
        "from": offset,
        "size": limit,
        "track_total_hits": True,
        "_source": ["group_id"],
    }
    if collapse:
        body["collapse"] = {"field": "group_id"}
    return body


def facet_aggregation(facet: Facet, *, after: dict[str, Any] | None = None) -> dict[str, Any]:
    """The aggregation counting one facet: salary bands as overlap filters (the salary
    filter's own semantics), other facets as a composite terms source (exact, paged)."""
    if facet == "salary":
        bands: dict[str, Any] = {}
        for band, (low, high) in enumerate(SALARY_BANDS):
            clauses: list[dict[str, Any]] = [{"range": {"salary_max": {"gte": low}}}]
            if high is not None:
                clauses.append({"range": {"salary_min": {"lte": high}}})
            bands[str(band)] = {"bool": {"filter": clauses}}
        return {"filters": {"filters": bands}}
    composite: dict[str, Any] = {
        "size": MAX_RESULT_WINDOW,
        "sources": [{"value": {"terms": {"field": _FACET_FIELDS[facet]}}}],
    }
    if after is not None:
        composite["after"] = after
    return {"composite": composite}


def facet_values(facet: Facet, source: dict[str, Any]) -> list[Any]:
    """The values of ``facet`` one document (its ``_source``) counts under."""
    if facet == "salary":
        # The salary filter's overlap: salary_max >= band low, salary_min <= band high.
        low, high = source.get("salary_min"), source.get("salary_max")
        if high is None:
            return []
        return [
            band
            for band, (band_low, band_high) in enumerate(SALARY_BANDS)
            if high >= band_low and (band_high is None or (low is not None and low <= band_high))
        ]
    value = source.get(_FACET_FIELDS[facet])
    return [] if value is None else [value]


# -- the backend -------------------------------------------------------------------------------


@contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Every failure of the client as ``SearchBackendError``: the API answers 503."""
    try:
        yield
    except SearchBackendError:
        raise
    except helpers.BulkIndexError as exc:
        # Item errors only by id and type: their reasons can quote document text.
        failed = [
            f"{op.get('_id')}: {(op.get('error') or {}).get('type', op.get('status'))}"
            for item in exc.errors
            for op in item.values()
        ]
        raise SearchBackendError(
            f"Elasticsearch refused {len(failed)} document(s) in {what}: {', '.join(failed[:10])}"
        ) from exc
    except ApiError as exc:
        kind = exc.error if isinstance(exc.error, str) else type(exc).__name__
        raise SearchBackendError(
            f"Elasticsearch answered {exc.meta.status} ({kind}) to {what}"
        ) from exc
    except (elastic_transport.TransportError, elastic_transport.SerializationError) as exc:
        raise SearchBackendError(
            f"Elasticsearch is unreachable ({type(exc).__name__}) during {what}"
        ) from exc
    except Exception as exc:  # the client's own errors (e.g. UnsupportedProductError)
        if type(exc).__module__.split(".")[0] in {"elasticsearch", "elastic_transport"}:
            raise SearchBackendError(
                f"Elasticsearch client failed ({type(exc).__name__}) during {what}"
            ) from exc
        raise


def create_client(es: ElasticsearchSettings) -> Elasticsearch:
    """A client for the configured cluster; contacts nothing until the first request."""
    if not es.url:
        raise ValueError(
            "search.backend is elasticsearch but no URL is set: set "
            "TALENTMATCH_SEARCH__ELASTICSEARCH__URL (e.g. https://es.internal:9200)"
        )
    auth: dict[str, Any] = {}
    if es.api_key is not None:
        auth["api_key"] = es.api_key.get_secret_value()
    elif es.username is not None:
        password = es.password.get_secret_value() if es.password is not None else ""
        auth["basic_auth"] = (es.username, password)
    if es.ca_certs is not None:
        auth["ca_certs"] = es.ca_certs
    return Elasticsearch(
        es.url,
        request_timeout=es.request_timeout_s,
        max_retries=es.max_retries,
        retry_on_timeout=False,
        **auth,
    )


class ElasticsearchIndex:
    """``SearchBackend`` on an Elasticsearch 9 cluster (see the module docstring)."""

    def __init__(
        self, kind: str, *, dim: int, model_id: str, settings: SearchSettings,
        client: Elasticsearch | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.es = settings.elasticsearch
        self.dim = dim
        self.model_id = model_id
        self.alias = alias_name(self.es.index_prefix, kind)
        self.client = client or create_client(self.es)
        self._lock = threading.RLock()
        # Whether the alias's index was built for this model (None: not asked yet).
        self._compatible: bool | None = None
        self._rebuilding: str | None = None  # the index a rebuild writes into

    # -- index lifecycle -------------------------------------------------------------------

    def _versions(self) -> dict[str, bool]:
        """Every concrete index of this kind → whether the alias points at it."""
        with _unavailable("listing indexes"):
            try:
                found = self.client.indices.get_alias(index=f"{self.alias}-v*")
            except NotFoundError:
                return {}
        return {
            name: self.alias in (info.get("aliases") or {})
            for name, info in found.body.items()
            if _VERSION_RE.search(name)
        }

    def _meta(self) -> dict[str, Any] | None:
        """The ``_meta`` of the alias's index; None when there is none."""
        with _unavailable("reading the index mapping"):
            try:
                found = self.client.indices.get_mapping(index=self.alias)
            except NotFoundError:
                return None
        for info in found.body.values():
            meta = (info.get("mappings") or {}).get("_meta")
            return dict(meta) if meta else None
        return None

    def _is_compatible(self) -> bool:
        """Whether the alias holds an index of this model (reads of another one answer
        nothing: its vectors are of another space)."""
        # Only a yes is remembered: another process (a reindex) may create the index later.
        if not self._compatible:
            self._compatible = meta_matches(self._meta(), dim=self.dim, model_id=self.model_id)
        return bool(self._compatible)

    def _create(self, name: str) -> None:
        with _unavailable(f"creating index {name}"):
            self.client.indices.create(
                index=name,
                body={
                    "settings": index_settings(self.es),
                    "mappings": mapping(dim=self.dim, model_id=self.model_id, es=self.es),
                },
            )

    def _write_target(self) -> str:
        """Where writes go: the index being rebuilt, else the alias (created when missing,
        rebuilt empty when it holds another model's index)."""
        if self._rebuilding is not None:
            return self._rebuilding
        if not self._is_compatible():
            self.clear()
        return self.alias

    def begin_rebuild(self) -> str:
        """Create the next version's index; until ``finish_rebuild`` writes go there and
        searches keep using the alias's current index. Returns the new index's name."""
        with self._lock:
            if self._rebuilding is not None:
                return self._rebuilding
            numbers = [_VERSION_RE.search(name) for name in self._versions()]
            latest = max((int(m.group(1)) for m in numbers if m), default=0)
            name = index_name(self.alias, latest + 1)
            self._create(name)
            self._rebuilding = name
            return name

    def finish_rebuild(self) -> None:
        """Make the rebuilt index searchable, move the alias to it in one ``_aliases`` call
        and delete the indexes it replaces."""
        with self._lock:
            new = self._rebuilding
            if new is None:
                return
            versions = self._versions()
            old = [name for name, aliased in versions.items() if aliased and name != new]
            with _unavailable("switching the alias"):
                self.client.indices.refresh(index=new)
                self.client.indices.update_aliases(body=alias_switch(self.alias, old, new))
                # The replaced index, and any a crashed rebuild left without the alias.
                for name in versions:
                    if name != new:
                        self.client.indices.delete(index=name, ignore_unavailable=True)
            self._rebuilding = None
            self._compatible = True

    def abort_rebuild(self) -> None:
        """Drop a rebuild's index; the alias keeps its current one."""
        with self._lock:
            new, self._rebuilding = self._rebuilding, None
            if new is not None:
                with _unavailable("dropping a rebuild"):
                    self.client.indices.delete(index=new, ignore_unavailable=True)

    # -- writes ----------------------------------------------------------------------------

    def _bulk(self, actions: list[dict[str, Any]], *, ignore_status: tuple[int, ...] = ()) -> None:
        with _unavailable("a bulk write"):
            for _ok, _item in helpers.streaming_bulk(
                self.client, actions, max_chunk_bytes=self.es.bulk_chunk_bytes,
                max_retries=self.es.max_retries, initial_backoff=self.es.initial_backoff_s,
                raise_on_error=True, raise_on_exception=True, ignore_status=ignore_status,
                yield_ok=False,
            ):  # fmt: skip
                pass  # raise_on_error raises on the first chunk with a failed item

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        """Insert or replace documents by id; searchable after ``commit``."""
        if not documents:
            return
        for doc in documents:
            for vector in (doc.vector, doc.title_vector):
                if np.shape(vector) != (self.dim,):
                    raise SearchBackendError(
                        f"document {doc.id}: vector has shape {np.shape(vector)}, "
                        f"index expects ({self.dim},)"
                    )
        with self._lock:
            self._bulk(bulk_actions(self._write_target(), upserts=documents))

    def delete(self, ids: Sequence[int]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        if not ids:
            return
        with self._lock:
            self._bulk(bulk_actions(self._write_target(), deletes=ids), ignore_status=(404,))

    def commit(self) -> None:
        """Refresh the alias's index: every write so far becomes searchable."""
        with self._lock, _unavailable("a refresh"):
            try:
                self.client.indices.refresh(index=self.alias)
            except NotFoundError:
                return  # nothing written yet

    def checkpoint(self, applied_through: int | None = None) -> None:
        """Refresh, and store ``applied_through`` in the index's ``_meta`` (acknowledged
        writes are already durable in the translog; the marker lives and dies with the
        index it describes)."""
        with self._lock:
            target = self._write_target() if applied_through is not None else None
            self.commit()
            if target is None:
                return
            meta = index_meta(dim=self.dim, model_id=self.model_id, applied_through=applied_through)
            with _unavailable("storing the checkpoint marker"):
                self.client.indices.put_mapping(index=target, body={"_meta": meta})

    def applied_through(self) -> int | None:
        """The marker of the last checkpoint; None without an index of this model."""
        with self._lock:
            meta = self._meta()
            self._compatible = meta_matches(meta, dim=self.dim, model_id=self.model_id)
            if not self._compatible or meta is None:
                return None
            marker = meta.get("applied_through")
            return int(marker) if marker is not None else None

    def clear(self) -> None:
        """Replace the index with an empty one (no marker) behind the alias."""
        with self._lock:
            self.abort_rebuild()
            self.begin_rebuild()
            self.finish_rebuild()

    def close(self) -> None:
        """Close the client's connections. Acknowledged writes are durable already, and the
        marker is stored by ``checkpoint``: a cluster that is down must not stall a stop."""
        self.client.close()

    # -- reads -----------------------------------------------------------------------------

    def _search(self, body: dict[str, Any], what: str) -> dict[str, Any] | None:
        """One search on the alias; None when there is no index of this model yet."""
        if not self._is_compatible():
            return None
        with _unavailable(what):
            try:
                # body= sends the golden-tested JSON as is (REST names: from, _source).
                return dict(self.client.search(index=self.alias, body=body).body)
            except NotFoundError:
                self._compatible = None
                return None

    def count(self) -> int:
        """The number of documents behind the alias."""
        if not self._is_compatible():
            return 0
        with _unavailable("a count"):
            try:
                return int(self.client.count(index=self.alias)["count"])
            except NotFoundError:
                return 0

    def keyword_search(
        self, viewer_tenant: str, terms: Sequence[str], filters: SearchFilters, *, limit: int,
        count_groups: bool = False, query: KeywordQuery | None = None,
    ) -> KeywordHits:  # fmt: skip
        """BM25 hits (pages past the result window follow ``search_after``), the exact
        total, and with ``count_groups`` the exact number of groups (see
        ``_folded_groups``)."""
        if (filters.ids is not None and not filters.ids) or not (terms or query):
            return KeywordHits(hits=[], total=0, groups=0 if count_groups else None)
        body = keyword_query(
            viewer_tenant, terms, filters, limit=min(limit, MAX_RESULT_WINDOW), query=query
        )
        found = self._search(body, "a keyword search")
        if found is None:
            return KeywordHits(hits=[], total=0, groups=0 if count_groups else None)
        total = int(found["hits"]["total"]["value"])
        page = found["hits"]["hits"]
        hits = [(int(h["_id"]), float(h["_score"])) for h in page]
        while len(hits) < min(limit, total) and page:
            deeper = {
                **body,
                "size": min(MAX_RESULT_WINDOW, limit - len(hits)),
                "track_total_hits": False,
                "search_after": page[-1]["sort"],
            }
            more = self._search(deeper, "a keyword search")
            page = more["hits"]["hits"] if more else []
            hits += [(int(h["_id"]), float(h["_score"])) for h in page]
        groups = None
        if count_groups:
            folded = self._folded_groups(body["query"])
            groups = total - sum(len(members) - 1 for members in folded.values())
        return KeywordHits(hits=hits[:limit], total=total, groups=groups)

    def vector_search(
        self, viewer_tenant: str, vector: np.ndarray, filters: SearchFilters, *, limit: int
    ) -> list[tuple[int, float]]:
        """kNN under the filters (inside the graph search), as cosine similarities."""
        if (filters.ids is not None and not filters.ids) or limit <= 0:
            return []
        if np.shape(vector) != (self.dim,):
            raise SearchBackendError(
                f"query vector has shape {np.shape(vector)}, not ({self.dim},)"
            )
        body = knn_query(
            viewer_tenant, vector, filters, limit=limit,
            num_candidates_factor=self.es.num_candidates_factor,
        )  # fmt: skip
        found = self._search(body, "a vector search")
        if found is None:
            return []
        # Elasticsearch's cosine _score is (1 + cosine) / 2.
        return [(int(h["_id"]), 2.0 * float(h["_score"]) - 1.0) for h in found["hits"]["hits"]]

    def list_recent(
        self, viewer_tenant: str, filters: SearchFilters, *, offset: int, limit: int,
        collapse_duplicates: bool,
    ) -> ListedPage:  # fmt: skip
        """Newest first; when collapsing, the newest of each group with the number of others
        under the filters, and the exact number of groups as the total."""
        if filters.ids is not None and not filters.ids:
            return ListedPage(total=0, hits=[])
        if offset + limit > MAX_RESULT_WINDOW:
            raise InvalidInput(
                f"offset + limit may not exceed {MAX_RESULT_WINDOW} on this search backend; "
                "narrow the filters instead",
                field="offset",
            )
        body = recent_query(
            viewer_tenant, filters, offset=offset, limit=limit, collapse=collapse_duplicates
        )
        found = self._search(body, "a listing")
        if found is None:
            return ListedPage(total=0, hits=[])
        total = int(found["hits"]["total"]["value"])
        page = found["hits"]["hits"]
        if not collapse_duplicates:
            return ListedPage(
                total=total, hits=[SearchHit(id=int(h["_id"]), score=0.0) for h in page]
            )
        folded = self._folded_groups(body["query"])
        groups_total = total - sum(len(members) - 1 for members in folded.values())
        hits = [
            SearchHit(
                id=int(h["_id"]),
                score=0.0,
                duplicates=len(folded.get(int(h["_source"]["group_id"]), [None])) - 1,
            )  # fmt: skip
            for h in page
        ]
        return ListedPage(total=groups_total, hits=hits)

    def facet_counts(
        self, facet: Facet, viewer_tenant: str, filters: SearchFilters, *,
        collapse_duplicates: bool,
    ) -> dict[Any, int]:  # fmt: skip
        """Exact counts per value: a composite aggregation (terms) or band filters
        (salary); when collapsing, the documents a group's newest one stands for are
        subtracted (two steps: count everything, then fold the few multi-document groups)."""
        if filters.ids is not None and not filters.ids:
            return {}
        query = {"bool": {"filter": filter_clauses(viewer_tenant, filters)}}
        counts = self._count_facet(facet, query)
        if collapse_duplicates:
            for members in self._folded_groups(query).values():
                for folded in members[1:]:  # members[0] is the group's newest: it counts
                    for value in facet_values(facet, folded):
                        counts[value] -= 1
                        if counts[value] == 0:
                            del counts[value]
        return counts

    def _count_facet(self, facet: Facet, query: dict[str, Any]) -> dict[Any, int]:
        counts: dict[Any, int] = {}
        after: dict[str, Any] | None = None
        while True:
            body = {
                "query": query,
                "size": 0,
                "aggs": {"facet": facet_aggregation(facet, after=after)},
            }
            found = self._search(body, "a facet count")
            if found is None:
                return counts
            aggregation = found["aggregations"]["facet"]
            if facet == "salary":
                return {
                    int(band): int(bucket["doc_count"])
                    for band, bucket in aggregation["buckets"].items()
                    if bucket["doc_count"]
                }
            for bucket in aggregation["buckets"]:
                counts[bucket["key"]["value"]] = int(bucket["doc_count"])
            after = aggregation.get("after_key")
            if after is None or len(aggregation["buckets"]) < MAX_RESULT_WINDOW:
                return counts

    def _folded_groups(self, query: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
        """Each duplicate group with two or more documents matching ``query``: its members'
        facet fields, newest first (ties: higher id first). Exact, in two steps whose cost
        follows the number of duplicates, not of matches: the groups that hold a matching
        ``duplicate`` document (a composite aggregation), then those groups' matches."""
        groups: list[int] = []
        after: dict[str, Any] | None = None
        duplicates = {"bool": {"filter": [query, {"term": {"duplicate": True}}]}}
        while True:
            composite: dict[str, Any] = {
                "size": MAX_RESULT_WINDOW,
                "sources": [{"group": {"terms": {"field": "group_id"}}}],
            }
            if after is not None:
                composite["after"] = after
            body = {"query": duplicates, "size": 0, "aggs": {"groups": {"composite": composite}}}
            found = self._search(body, "counting duplicate groups")
            if found is None:
                return {}
            aggregation = found["aggregations"]["groups"]
            groups += [int(b["key"]["group"]) for b in aggregation["buckets"]]
            after = aggregation.get("after_key")
            if after is None or len(aggregation["buckets"]) < MAX_RESULT_WINDOW:
                break
        members: dict[int, list[dict[str, Any]]] = {}
        for start in range(0, len(groups), MAX_TERMS):
            chunk = groups[start : start + MAX_TERMS]
            in_groups = {"bool": {"filter": [query, {"terms": {"group_id": chunk}}]}}
            for source in self._scan(in_groups, list(_FACET_SOURCE)):
                members.setdefault(int(source["group_id"]), []).append(source)
        for group in members.values():
            group.sort(key=lambda s: (-float(s["timestamp"]), -int(s["id"])))
        return {group: found for group, found in members.items() if len(found) > 1}

    def _scan(self, query: dict[str, Any], fields: list[str]) -> Iterator[dict[str, Any]]:
        """Every match's ``fields``, in id order, a result window at a time."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "query": query, "size": MAX_RESULT_WINDOW, "sort": [{"id": "asc"}],
                "_source": fields, "track_total_hits": False,
            }  # fmt: skip
            if after is not None:
                body["search_after"] = after
            found = self._search(body, "reading matches")
            page = found["hits"]["hits"] if found else []
            for hit in page:
                yield hit["_source"]
            if len(page) < MAX_RESULT_WINDOW:
                return
            after = page[-1]["sort"]

    def group_ids(self, ids: Sequence[int]) -> dict[int, int]:
        """The duplicate group of each known document (its own id when alone)."""
        groups: dict[int, int] = {}
        unique = list(dict.fromkeys(int(i) for i in ids))
        for start in range(0, len(unique), MAX_RESULT_WINDOW):
            chunk = unique[start : start + MAX_RESULT_WINDOW]
            body = {
                "query": {"terms": {"id": chunk}}, "size": len(chunk),
                "_source": ["group_id"], "track_total_hits": False,
            }  # fmt: skip
            found = self._search(body, "reading duplicate groups")
            for hit in found["hits"]["hits"] if found else []:
                groups[int(hit["_id"])] = int(hit["_source"]["group_id"])
        return groups
