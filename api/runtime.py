"""Everything long-lived, built once per process: database, encoder, indexes, outbox sync.
The app's lifespan and the CLI both use it."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar, cast

import numpy as np
from fastapi import Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.rate_limit import FailedAuthThrottle, RateLimiter, StorageWindowCounter, count_store
from core.domain import EntityKind
from core.encoder import Encoder
from core.errors import IndexUnavailable
from core.log_safety import describe_failure
from core.settings import Settings
from ingestion.readers import ReaderLimits
from ingestion.worker import IngestWorker
from matching.ranker import RankerModel, active_model, default_model
from matching.service import CandidateProfileCache, JobProfileCache, MatchSources
from representation.encoders import CachedEncoder, create_encoder
from representation.profiles import PROFILE_TEXT_VERSION
from search_index.factory import create_search_index
from search_index.hybrid import HybridSearch
from search_index.protocol import DocumentVectors, SearchIndex
from search_index.sync import IndexSync
from search_index.vectors import DatabaseVectors, vector_source
from store.data_key import encrypt_legacy_rows, verify_data_key
from store.db import Database
from store.files import encrypt_legacy_files
from store.keys import allowed_browser_origins
from store.market_rollup import ensure_fresh
from taxonomy.occupations import attach_title_encoder, code_title, detach_title_encoder

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``work`` every ``interval_s`` seconds on a daemon thread until ``stop``."""

    def __init__(self, name: str, work: Callable[[], None], interval_s: float) -> None:
        self.name, self.work, self.interval_s = name, work, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.work()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


T = TypeVar("T")
# ``api``: serves HTTP; ``worker``: applies the outbox and runs bulk loads (``talentmatch
# worker``). On the embedded backend one process owns the index files and does both.
ProcessRole = Literal["api", "worker"]
# Ranker models and browser origins written by another process are read again this often.
REFRESH_S = 5.0


class QueryEncoder:
    """Encodes search queries with a small in-memory LRU (queries repeat; no SQL write)."""

    def __init__(self, encoder: Encoder, size: int = 4096) -> None:
        self._encoder = encoder
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        vector = self._encoder.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def known(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of these texts that are in the LRU."""
        with self._lock:
            return {t: self._cache[t] for t in texts if t in self._cache}

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Put vectors encoded elsewhere (of the same model) into the LRU."""
        with self._lock:
            self._cache.update(vectors)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)


class TitleEncoder:
    """What the Chinese title coder encodes titles with: a search query's text is coded and
    embedded for vector search, a posting's title coded at intake and embedded when indexed;
    each is encoded once. The query LRU first, then the embedding cache, read but not
    written (intake codes inside a database transaction; indexing stores the vector)."""

    def __init__(self, queries: QueryEncoder, cache: CachedEncoder) -> None:
        self._queries = queries
        self._cache = cache.unstored()
        self.model_id = cache.model_id
        self.dim = cache.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        known = self._queries.known(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self._cache.encode(missing), strict=True))
            self._queries.remember(fresh)
            known.update(fresh)
        return np.stack([known[t] for t in texts])


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        encoder: Encoder | None = None,
        cache_db: Database | None = None,
        role: ProcessRole = "api",
    ) -> None:
        self.settings = settings
        self.role = role
        # Who applies the outbox: every process on the embedded backend (one owns it), and
        # only worker processes on a shared backend, where API processes never index inline.
        self.consumes_outbox = role == "worker" or settings.search.backend == "embedded"
        self.db = Database(settings)
        # Outbox consumers (the API on the embedded default, workers beside a shared engine)
        # keep the statistics rollups fresh, so a statistics request seldom waits for one.
        self._refresh_statistics = Periodic(
            "statistics-rollup", self.refresh_statistics, settings.statistics_refresh_interval_s
        )
        try:
            # Before anything reads or writes personal data: a wrong key must stop the start.
            verify_data_key(self.db, settings.files_dir)
        except Exception:
            self.db.dispose()
            raise
        base_encoder = encoder or create_encoder(settings.embedding)
        # The embedding cache lives in the main database unless another one is given.
        self.encoder = CachedEncoder(base_encoder, cache_db or self.db)
        self.encode_query = QueryEncoder(base_encoder)
        # Set once the title coder is blended with this encoder (or stays lexical).
        self.title_coder_ready = threading.Event()
        self._closed = threading.Event()
        try:
            self.indexes: dict[EntityKind, SearchIndex] = {
                kind: create_search_index(
                    kind,
                    settings,
                    dim=base_encoder.dim,
                    # The index holds vectors of profile texts: both the model and the way the
                    # texts are written must match, or it is rebuilt.
                    model_id=f"{base_encoder.model_id}/profiles-v{PROFILE_TEXT_VERSION}",
                )
                for kind in EntityKind
            }
        except Exception:
            self.db.dispose()
            raise
        self.limits = ReaderLimits.from_settings(settings.uploads)
        self.ingest = IngestWorker(
            self.db, settings.files_dir, self.limits, after_batch=lambda _job: index_now(self)
        )
        # Shared by every API process when TALENTMATCH_REDIS_URL is set.
        limits_store = count_store(settings.redis_url)
        self.rate_limiter = RateLimiter(settings.auth.rate_limits_per_minute, limits_store)
        self.auth_throttle = FailedAuthThrottle(
            per_address=settings.auth.failed_auth_per_minute_per_address,
            per_key=settings.auth.failed_auth_per_minute_per_key,
            counter=StorageWindowCounter(limits_store),
        )
        self._browser_origins: tuple[set[str], float] = (set(), -1e9)
        self._rankers: dict[str, tuple[RankerModel, float]] = {}
        self._rankers_lock = threading.Lock()
        # Matching and re-ranking read vectors from the engine when it holds them, else from
        # the database (search_index.vectors).
        database_vectors = {
            kind: DatabaseVectors(self.db, kind, self.encoder)
            for kind, index in self.indexes.items()
            if vector_source(settings.search, index) == "database"
        }
        self.vectors: dict[EntityKind, DocumentVectors] = {
            kind: database_vectors.get(kind) or cast(DocumentVectors, index)
            for kind, index in self.indexes.items()
        }
        # The shared pipeline (fusion, re-ranking, collapsing, paging) over each backend.
        self.search = {
            kind: HybridSearch(index, vectors=self.vectors[kind])
            for kind, index in self.indexes.items()
        }
        self.job_profiles = JobProfileCache()
        self.matching = MatchSources(
            search=self.search,
            vectors=self.vectors,
            settings=settings.match,
            job_profiles=self.job_profiles,
            candidate_profiles=CandidateProfileCache(),
        )
        self.sync = IndexSync(
            self.db,
            self.encoder,
            self.indexes,
            database_vectors=database_vectors,
            checkpoint_interval_s=settings.search.embedded.checkpoint_interval_s,
            checkpoint_every_events=settings.search.embedded.checkpoint_every_events,
            purge_interval_s=settings.search.purge_interval_s,
        )

    def cached_browser_origins(self) -> set[str] | None:
        """``browser_origins`` while its last reading is fresh, without touching the database
        (None when it is due a re-read): a request need not hop to a thread to learn it."""
        origins, fetched = self._browser_origins
        return origins if time.monotonic() - fetched < REFRESH_S else None

    def browser_origins(self) -> set[str]:
        """Page origins some active public key allows (for CORS preflights), re-read after a
        few seconds so new keys take effect without a restart."""
        origins, fetched = self._browser_origins
        if time.monotonic() - fetched < REFRESH_S:
            return origins
        with self.db.session() as session:
            origins = allowed_browser_origins(session)
        self._browser_origins = (origins, time.monotonic())
        return origins

    def ranker_for(self, tenant_id: str) -> RankerModel:
        """The tenant's active ranker model (its own trained one, else the default). Read
        again after a few seconds, so a model promoted by ``talentmatch ranker train`` in
        another process takes over without a restart."""
        now = time.monotonic()
        with self._rankers_lock:
            cached = self._rankers.get(tenant_id)
        if cached is not None and now - cached[1] < REFRESH_S:
            return cached[0]
        with self.db.session() as session:
            model = active_model(session, tenant_id) or default_model()
        with self._rankers_lock:
            self._rankers[tenant_id] = (model, now)
        return model

    @property
    def jobs_index(self) -> SearchIndex:
        return self.indexes[EntityKind.JOB]

    @property
    def candidates_index(self) -> SearchIndex:
        return self.indexes[EntityKind.CANDIDATE]

    def start(self, *, background: bool = True) -> None:
        """Bring the indexes up to date with the database; optionally keep polling the outbox."""
        # Build the occupation coders now rather than inside the first write (and before
        # the thread that blends one: two first calls at once would build two coders).
        started = time.monotonic()
        code_title("会计")
        code_title("Accountant")
        if background:
            threading.Thread(
                target=self._blend_title_coder, name="title-coder", daemon=True
            ).start()
        else:
            self._blend_title_coder()
        with self.db.session() as session:
            rewritten = encrypt_legacy_rows(session)
        if rewritten:
            log.info(
                "encrypted the personal data of %d profiles stored before encryption", rewritten
            )
        encrypted_files = encrypt_legacy_files(self.settings.files_dir, key=self.db.data_key)
        if encrypted_files:
            log.info("encrypted %d stored files written before encryption", encrypted_files)
        if not self.consumes_outbox:
            # Workers recover and fill the shared index; this process only reads it.
            self.sync.recovered.set()
            self._wait_for_title_coder(started)
            return
        if not background:
            self.sync.recover_now()
            return
        # Index the backlog in the background: the service answers at once (health says
        # the index is catching up) instead of after the whole backlog is embedded.
        self.sync.start(self.settings.search.outbox_poll_interval_s, recover_first=True)
        # A worker also runs loads that API processes queued (they do not run any).
        self.ingest.start(
            poll_interval_s=self.settings.search.outbox_poll_interval_s
            if self.role == "worker"
            else None
        )
        self._refresh_statistics.start()
        if not self.sync.recovered.wait(self.settings.search.startup_wait_s):
            log.info("serving while the index catches up with the database")
        self._wait_for_title_coder(started)

    def _blend_title_coder(self) -> None:
        """Blend the Chinese title coder with this runtime's encoder, where a blend was
        measured for its model. Its document vectors come through the embedding cache: a
        start with a fresh cache encodes them (minutes on two cores; titles are coded
        lexically meanwhile), later starts read them."""
        started = time.monotonic()
        try:
            titles = TitleEncoder(self.encode_query, self.encoder)
            blended = attach_title_encoder(self.encoder, titles=titles)
        except Exception as exc:  # the coder stays lexical; the service keeps running
            log.warning("title coder not blended with the encoder: %s", describe_failure(exc))
            blended = False
        if self._closed.is_set():  # closed meanwhile: the coder is not ours to change now
            detach_title_encoder(self.encoder)
        elif blended:
            log.info("title coder blended with %s in %.1f s", self.encoder.model_id,
                     time.monotonic() - started)  # fmt: skip
        self.title_coder_ready.set()

    def _wait_for_title_coder(self, started: float) -> None:
        remaining = self.settings.search.startup_wait_s - (time.monotonic() - started)
        if not self.title_coder_ready.wait(max(0.0, remaining)):
            log.info("coding titles lexically while the title coder's vectors are encoded")

    @property
    def index_state(self) -> Literal["ready", "catching_up"]:
        """``catching_up`` until start-up recovery has run, then ``ready``."""
        return "ready" if self.sync.recovered.is_set() else "catching_up"

    def refresh_statistics(self) -> None:
        """Rebuild the market-statistics rollups if the data moved on (``store.market_rollup``)."""
        interval = self.settings.statistics_refresh_interval_s
        try:
            with self.db.session() as session:
                ensure_fresh(session, max_age_s=interval)
        except SQLAlchemyError as exc:  # the next round tries again
            log.warning("market statistics not refreshed: %s", describe_failure(exc))

    def close(self) -> None:
        self._closed.set()
        detach_title_encoder(self.encoder)
        self._refresh_statistics.stop()
        self.ingest.stop()
        self.sync.stop()
        try:
            if self.consumes_outbox:
                self.sync.drain()
        except IndexUnavailable as exc:
            # The outbox keeps the events: the next start (or a worker) applies them.
            log.warning("stopping with outbox events not indexed: %s", describe_failure(exc))
        finally:
            for index in self.indexes.values():
                index.close()
            self.db.dispose()


def index_now(runtime: Runtime) -> None:
    """Apply just-committed changes to the indexes so the caller can search them at once.
    A failure here loses nothing: the outbox keeps the events and the poller retries.
    While the index catches up after a start, the background thread indexes them instead:
    draining here would wait for the whole backlog. API processes on a shared backend leave
    every change to the workers."""
    if not runtime.consumes_outbox or not runtime.sync.recovered.is_set():
        return
    try:
        runtime.sync.drain()
    except Exception as exc:
        log.error("indexing after a write failed; the outbox will retry: %s",
                  describe_failure(exc))  # fmt: skip


def upsert_and_index(
    runtime: Runtime, response: Response, upsert: Callable[[Session], tuple[T, bool]]
) -> T:
    """A create-or-update route's write: ``upsert`` returns (what to answer, created). It runs
    in one transaction, again if it lost a race to a concurrent one (it then updates the
    winner's row), is indexed at once, and answers 200 instead of 201 when it updated."""
    result, created = runtime.db.run_transaction(upsert)
    index_now(runtime)
    if not created:
        response.status_code = 200
    return result
