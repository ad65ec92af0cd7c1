"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from store.pii import DataKey, attach_key

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def _enable_sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while the outbox drainer writes; NORMAL sync is durable
    # across application crashes (only an OS crash can lose the last transactions).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: erasure must really erase.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(settings: Settings, key: DataKey) -> Engine:
    """An engine for the configured database, its schema migrated to the latest revision,
    whose encrypted columns use ``key``. Its errors never quote their parameters: they are
    personal data (names, résumés)."""
    url = settings.database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=settings.db.echo, connect_args={"check_same_thread": False},
            hide_parameters=True,
        )  # fmt: skip
        event.listen(engine, "connect", _enable_sqlite_wal)
    else:
        engine = create_engine(url, echo=settings.db.echo, pool_pre_ping=True, hide_parameters=True)
    attach_key(engine.dialect, key)
    migrate(engine)
    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema (idempotent: a database at ``revision`` is left as it is). Processes
    starting together (a server and a CLI load) take turns: two first-time migrations would
    both try to create the tables."""
    config = alembic_config()
    if engine.dialect.name == "sqlite" and engine.url.database:
        lock_path = Path(engine.url.database).with_suffix(".migrate.lock")
        with open(lock_path, "wb") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            _upgrade(engine, config, revision)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Released at the end of this transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(7415262)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _upgrade(engine: Engine, config: Config, revision: str) -> None:
    with engine.connect() as connection:
        # A batch migration rebuilds a table by copy, drop and rename; with foreign keys on,
        # dropping a parent would cascade-delete its children. The pragma only takes effect
        # outside a transaction, hence before the migration's own.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _lost_a_race(exc: IntegrityError | OperationalError) -> bool:
    """A unique-key clash, or SQLite's writer lock held past the busy timeout."""
    reason = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):
        return "unique" in reason or "duplicate key" in reason
    return "database is locked" in reason


class Database:
    """Owns the engine and the data key its personal data is encrypted with; hands out
    sessions that commit or roll back as a unit."""

    def __init__(self, settings: Settings) -> None:
        self.data_key = DataKey(settings.auth.data_key.get_secret_value())
        self.engine = create_db_engine(settings, self.data_key)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    def run_transaction(self, work: Callable[[Session], T], *, attempts: int = 4) -> T:
        """``work`` in one transaction, run again from the start when it lost a race with a
        concurrent one: an upsert that found no row and then hit the unique key the other
        transaction inserted meanwhile finds that row the second time and updates it."""
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts or not _lost_a_race(exc):
                    raise
                time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    def reclaim_deleted_space(self) -> None:
        """After an erasure on SQLite: fold the write-ahead log back into the database (whose
        deleted rows ``secure_delete`` zeroes) and truncate it, so no old page image stays."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()
