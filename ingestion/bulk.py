"""Bulk loads of postings or candidates from JSONL, CSV, or a zip of résumé files.

A load is an ``IngestJob`` row plus its source file (kept content-addressed). Each record
(for postings from JSONL/CSV, each batch of records) commits in one transaction with the
job's progress, so after a crash (even ``kill -9``) a resumed load continues exactly where
the last commit left it; the index is brought up to date after every batch. Records are
upserted by ``external_id`` (or, without one, by a hash of the record), so re-running a
whole file is harmless too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

from core.domain import EntityKind
from core.errors import Conflict, InvalidInput, NoncompliantPosting, NotFound
from ingestion.intake import store_document
from ingestion.posting_text import with_posting_extraction
from ingestion.readers import FileRejected, ReaderLimits
from ingestion.records import CandidateCreate, JobCreate
from ingestion.resume_text import with_resume_extraction
from store.candidates import upsert_candidate
from store.db import Database
from store.files import (
    content_in_use,
    content_path,
    read_content,
    remove_files,
    safe_filename,
    write_content,
)
from store.jobs import upsert_job, upsert_jobs
from store.models import IngestJob, utcnow

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 1000
LIST_FIELDS = {
    "required_skills",
    "preferred_skills",
    "benefits",
    "desired_titles",
    "skills",
    "languages",
}
_LIST_SEPARATORS = ("|", ";", "；", "、")


@dataclass(frozen=True)
class Record:
    line: int  # 1-based line (JSONL/CSV, header = line 1) or member number (zip)
    fields: dict[str, Any] | None = None
    document: tuple[str, bytes] | None = None  # (file name, content) for zip members
    error: str | None = None
    code: str | None = None  # with ``error`` for zip members: a per-file error code


def detect_format(filename: str, content: bytes) -> str:
    lowered = filename.lower()
    if content.startswith(b"PK\x03\x04") or lowered.endswith(".zip"):
        return "zip"
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise InvalidInput("bulk files must be .jsonl, .csv or .zip", field="file")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Chinese Windows saves CSV as GB18030 (GBK).
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is neither UTF-8 nor GB18030 text (undecodable byte at offset {exc.start})",
            field="file",
        ) from exc


def _json_value(text: str) -> Any:
    """``json.loads``, with every way hostile JSON fails as a ``ValueError`` saying why."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise ValueError("invalid JSON: nested too deeply") from exc
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ValueError("invalid JSON: a number has too many digits") from exc


def _csv_fields(row: dict[str, str | None]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None or not str(value).strip():
            continue
        key = key.strip()
        text = str(value).strip()
        if key in LIST_FIELDS:
            for separator in _LIST_SEPARATORS:
                text = text.replace(separator, ",")
            fields[key] = [item.strip() for item in text.split(",") if item.strip()]
        elif key == "education" and text.startswith("{"):
            fields[key] = _json_value(text)
        else:
            fields[key] = text
    return fields


def iter_records(fmt: str, content: bytes, limits: ReaderLimits) -> Iterator[Record]:
    """The records of a bulk file in order, malformed ones as errors with their line.
    Raises ``InvalidInput`` (field ``file``) only for a file that is unreadable as a whole."""
    if fmt == "jsonl":
        yield from _jsonl_records(_decode(content))
    elif fmt == "csv":
        yield from _csv_records(_decode(content))
    else:
        yield from _zip_records(content, limits)


def count_records(fmt: str, content: bytes, limits: ReaderLimits) -> int:
    """How many records ``iter_records`` yields, without inflating a zip's members."""
    if fmt == "zip":
        return len(_zip_members(_open_zip(content, limits)))
    return sum(1 for _ in iter_records(fmt, content, limits))


def _jsonl_records(text: str) -> Iterator[Record]:
    # Lines end at "\n" only: str.splitlines would also split inside JSON strings holding
    # U+2028 or other separators that JSON allows unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = _json_value(line)
        except ValueError as exc:
            yield Record(number, error=str(exc))
            continue
        if not isinstance(value, dict):
            yield Record(number, error="each line must be a JSON object")
            continue
        yield Record(number, fields=value)


def _csv_records(text: str) -> Iterator[Record]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        reader.fieldnames  # noqa: B018 - reads the header row
    except csv.Error as exc:
        raise InvalidInput(f"the CSV header row cannot be read: {exc}", field="file") from exc
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit, a NUL byte, ...
            yield Record(reader.reader.line_num, error=f"the CSV row cannot be read: {exc}")
            continue
        try:
            yield Record(reader.line_num, fields=_csv_fields(row))
        except ValueError:
            yield Record(reader.line_num, error="education must be a JSON object or a level")


def _zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
    ]


def _zip_records(content: bytes, limits: ReaderLimits) -> Iterator[Record]:
    archive = _open_zip(content, limits)
    for number, info in enumerate(_zip_members(archive), start=1):
        name = safe_filename(info.filename)
        if info.file_size > limits.max_bytes:
            yield Record(number, document=(name, b""), code="too_large",
                         error=f"the file exceeds {limits.max_bytes} bytes")  # fmt: skip
            continue
        try:
            # zipfile stops at the declared size and checks the CRC: a member whose header
            # lies about its size fails here instead of inflating without bound.
            data = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:  # fmt: skip
            yield Record(
                number,
                document=(name, b""),
                code="unreadable",
                error=f"the file cannot be read from the zip ({type(exc).__name__})",
            )
            continue
        yield Record(number, document=(name, data))


def _open_zip(content: bytes, limits: ReaderLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise InvalidInput("the zip file is corrupted", field="file") from exc
    infos = archive.infolist()
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    if (
        total > limits.max_uncompressed_bytes * 20
        or total / compressed > limits.max_compression_ratio
    ):
        raise InvalidInput("the zip file inflates far beyond its size; refused", field="file")
    return archive


def create_ingest_job(
    db: Database, files_dir: Path, *, tenant_id: str, entity: EntityKind, filename: str, content: bytes,
    limits: ReaderLimits,
) -> IngestJob:  # fmt: skip
    """Register a load (or return the unfinished load of the same file, to resume it)."""
    fmt = detect_format(filename, content)
    if fmt == "zip" and entity is EntityKind.JOB:
        raise InvalidInput(
            "zip loads of files are for candidates; send postings as JSONL or CSV", field="file"
        )
    total = count_records(fmt, content, limits)
    digest = write_content(files_dir, content, key=db.data_key)
    with db.session() as session:
        existing = session.scalar(
            select(IngestJob).where(
                IngestJob.tenant_id == tenant_id,
                IngestJob.entity == entity.value,
                IngestJob.sha256 == digest,
                IngestJob.status.in_(("queued", "running")),
            )
        )
        if existing is not None:
            return existing
        job = IngestJob(
            id=str(uuid.uuid4()), tenant_id=tenant_id, entity=entity.value, format=fmt,
            filename=safe_filename(filename), sha256=digest, status="queued", total=total,
            position=0, succeeded=0, failed=0, errors=[],
        )  # fmt: skip
        session.add(job)
    return job


def get_ingest_job(db: Database, job_id: str, *, tenant_id: str) -> IngestJob:
    with db.session() as session:
        job = session.get(IngestJob, job_id)
        if job is None or job.tenant_id != tenant_id:
            raise NotFound(f"ingest job {job_id} not found")
        return job


def unfinished_jobs(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(IngestJob.id)
                .where(IngestJob.status.in_(("queued", "running")))
                .order_by(IngestJob.created_at)
            )
        )


# The first of PostgreSQL's two advisory lock keys for loads being run (the second: the id's hash).
_LOAD_LOCK_SPACE = 74152641


@contextmanager
def load_lease(db: Database, job_id: str) -> Iterator[bool]:
    """Whether this process may run the load now. On PostgreSQL several worker processes
    share the loads: the one holding the load's session advisory lock runs it, and the lock
    goes with its connection, so a load whose worker died is resumed by another, and a load
    a live worker runs is left alone. SQLite: one process runs every load."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = {"space": _LOAD_LOCK_SPACE, "id": job_id}
    with db.engine.connect() as connection:
        held = bool(connection.execute(
            text("SELECT pg_try_advisory_lock(:space, hashtext(:id))"), key
        ).scalar())  # fmt: skip
        connection.commit()  # the lock outlives the transaction; no transaction stays open
        try:
            yield held and job_id in unfinished_jobs(db)
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:space, hashtext(:id))"), key)
                connection.commit()


def _external_id(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return "hash-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _validated_fields(entity: EntityKind, record: Record) -> dict[str, Any]:
    """A structured record's fields as the API would accept them, with an external id."""
    assert record.fields is not None
    schema = CandidateCreate if entity is EntityKind.CANDIDATE else JobCreate
    try:
        model = schema.model_validate(record.fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise InvalidInput(str(first.get("msg")), field=field) from exc
    valid = model.model_dump()
    if entity is EntityKind.JOB:
        # The same intake as the API and file uploads: the description fills what is missing.
        valid = with_posting_extraction(valid, given=model.model_fields_set)
    if not valid.get("external_id"):
        valid["external_id"] = _external_id(record.fields)
    return valid


def _error_entry(record: Record, exc: InvalidInput | FileRejected) -> dict[str, Any]:
    field = getattr(exc, "field", None)
    if field is not None:
        # A field path may hold a key the record made up: never store its control bytes.
        field = _CONTROL_CHARACTERS.sub("?", field)[:200]
    entry = {"line": record.line, "field": field, "message": exc.message,
             "file": record.document[0] if record.document else None}  # fmt: skip
    if isinstance(exc, FileRejected):
        entry["code"] = exc.reason
    if isinstance(exc, NoncompliantPosting):  # refused under the tenant's block policy
        entry["code"] = exc.code
    return entry


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\ud800-\udfff]")


def _record_fault(exc: Exception) -> InvalidInput | None:
    """A failure to store one record as that record's error, or None where the database
    itself failed (connection lost, locked): the load then stops, to resume at the next
    start, instead of marking every remaining record failed."""
    if isinstance(exc, InvalidInput):
        return exc
    if isinstance(exc, Conflict):  # e.g. an external id another record already holds
        return InvalidInput(exc.message)
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return None
    if isinstance(exc, SQLAlchemyError | ValueError | ArithmeticError | TypeError):
        # The type only: the exception's text may quote the record's personal data.
        return InvalidInput(f"the record could not be stored ({type(exc).__name__})")
    return None


def _store_errors(job: IngestJob, entries: list[dict[str, Any]]) -> None:
    room = MAX_STORED_ERRORS - len(job.errors or [])
    if entries and room > 0:
        job.errors = [*(job.errors or []), *entries[:room]]


def _apply_posting_batch(db: Database, job_id: str, batch: list[Record]) -> bool:
    """Postings from JSONL/CSV: the whole batch, its invalid lines and the load's progress
    in one transaction, written with one batched upsert (several times faster than a
    transaction per record). False, with nothing written, if a record fails past schema
    validation (a value the store or the database refuses): the caller then takes the batch
    record by record, so one bad record never holds back the others."""
    valid: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for record in batch:
        if record.document is not None:
            return False
        try:
            if record.error is not None:
                raise InvalidInput(record.error)
            valid.append(_validated_fields(EntityKind.JOB, record))
        except InvalidInput as exc:
            errors.append(_error_entry(record, exc))
    try:
        with db.session() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            upsert_jobs(session, tenant_id=job.tenant_id, records=valid)
            job.position += len(batch)
            job.succeeded += len(valid)
            job.failed += len(errors)
            _store_errors(job, errors)
    except Exception as exc:
        if _record_fault(exc) is None:
            raise
        return False
    return True


def _apply_record(
    session: Any, files_dir: Path, job: IngestJob, record: Record, limits: ReaderLimits
) -> None:
    entity = EntityKind(job.entity)
    if record.error is not None and record.code is not None:
        raise FileRejected(record.code, record.error)
    if record.error is not None:
        raise InvalidInput(record.error)
    if record.document is not None:
        name, content = record.document
        store_document(session, files_dir, kind=entity, tenant_id=job.tenant_id, filename=name,
                       content=content, limits=limits)  # fmt: skip
        return
    valid = _validated_fields(entity, record)
    if entity is EntityKind.CANDIDATE:
        upsert_candidate(session, tenant_id=job.tenant_id, fields=with_resume_extraction(valid))
    else:
        upsert_job(session, tenant_id=job.tenant_id, fields=valid)


def run_ingest_job(
    db: Database,
    files_dir: Path,
    job_id: str,
    *,
    limits: ReaderLimits | None = None,
    batch_size: int = 200,
    after_batch: Callable[[IngestJob], None] | None = None,
) -> IngestJob:
    """Process a load from where it stands to the end (see the module docstring)."""
    limits = limits or ReaderLimits()
    with db.session() as session:
        job = session.get(IngestJob, job_id)
        if job is None:
            raise NotFound(f"ingest job {job_id} not found")
        job.status = "running"
        job.started_at = utcnow()
        start = job.position
    content = read_content(files_dir, job.sha256, key=db.data_key)
    records = iter_records(job.format, content, limits)
    for _ in range(start):
        next(records, None)
    batch: list[Record] = []
    exhausted = False
    while not exhausted:
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                break
        else:
            exhausted = True
        if not batch:
            break
        if job.entity == EntityKind.JOB.value and _apply_posting_batch(db, job_id, batch):
            batch = []
        for record in batch:
            # One transaction per record, holding the record and the job's progress: a crash
            # can neither lose a committed record nor count one twice.
            try:
                with db.session() as session:
                    job = session.get(IngestJob, job_id)
                    assert job is not None
                    _apply_record(session, files_dir, job, record, limits)
                    job.position += 1
                    job.succeeded += 1
            except Exception as exc:
                fault = _record_fault(exc)
                if fault is None:
                    raise
                if fault is not exc:
                    log.warning("bulk load %s: line %d not stored (%s)", job_id, record.line,
                                type(exc).__name__)  # fmt: skip
                with db.session() as session:
                    job = session.get(IngestJob, job_id)
                    assert job is not None
                    job.position += 1
                    job.failed += 1
                    _store_errors(job, [_error_entry(record, fault)])
        if after_batch is not None:
            with db.session() as session:
                current = session.get(IngestJob, job_id)
            assert current is not None
            after_batch(current)
    return _finish(db, files_dir, job_id)


def _finish(db: Database, files_dir: Path, job_id: str) -> IngestJob:
    """Mark a load done and drop its source file: the records are stored, and a source kept
    on would hold people that erasure could not reach."""
    with db.session() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        job.status = "done"
        job.finished_at = utcnow()
        session.flush()
        unused = (
            [] if content_in_use(session, job.sha256) else [content_path(files_dir, job.sha256)]
        )
    remove_files(unused)
    return job
