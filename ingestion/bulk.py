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
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from api.schemas import CandidateCreate, JobCreate
from core.domain import EntityKind
from core.errors import InvalidInput, NotFound
from ingestion.intake import store_document
from ingestion.readers import FileRejected, ReaderLimits
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
        # Excel on Chinese Windows saves CSV as GB18030 (GBK).
        return content.decode("gb18030")


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
            fields[key] = json.loads(text)
        else:
            fields[key] = text
    return fields


def iter_records(fmt: str, content: bytes, limits: ReaderLimits) -> Iterator[Record]:
    """The records of a bulk file in order, malformed ones as errors with their line."""
    if fmt == "jsonl":
        for number, line in enumerate(_decode(content).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Record(number, error=f"invalid JSON: {exc.msg}")
                continue
            if not isinstance(value, dict):
                yield Record(number, error="each line must be a JSON object")
                continue
            yield Record(number, fields=value)
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(_decode(content)))
        for row in reader:
            try:
                yield Record(reader.line_num, fields=_csv_fields(row))
            except json.JSONDecodeError:
                yield Record(reader.line_num, error="education must be a JSON object or a level")
    else:
        archive = _open_zip(content, limits)
        members = [
            i
            for i in archive.infolist()
            if not i.is_dir() and not i.filename.startswith("__MACOSX/")
        ]
        for number, info in enumerate(members, start=1):
            yield Record(number, document=(safe_filename(info.filename), archive.read(info)))


def _open_zip(content: bytes, limits: ReaderLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
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
    total = sum(1 for _ in iter_records(fmt, content, limits))
    digest = write_content(files_dir, content)
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


def _external_id(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return "hash-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _validated_fields(entity: EntityKind, record: Record) -> dict[str, Any]:
    """A structured record's fields as the API would accept them, with an external id."""
    assert record.fields is not None
    schema = CandidateCreate if entity is EntityKind.CANDIDATE else JobCreate
    try:
        valid = schema.model_validate(record.fields).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise InvalidInput(str(first.get("msg")), field=field) from exc
    if not valid.get("external_id"):
        valid["external_id"] = _external_id(record.fields)
    return valid


def _error_entry(record: Record, exc: InvalidInput | FileRejected) -> dict[str, Any]:
    return {"line": record.line, "field": getattr(exc, "field", None), "message": exc.message,
            "file": record.document[0] if record.document else None}  # fmt: skip


def _store_errors(job: IngestJob, entries: list[dict[str, Any]]) -> None:
    room = MAX_STORED_ERRORS - len(job.errors or [])
    if entries and room > 0:
        job.errors = [*(job.errors or []), *entries[:room]]


def _apply_posting_batch(db: Database, job_id: str, batch: list[Record]) -> bool:
    """Postings from JSONL/CSV: the whole batch, its invalid lines and the load's progress
    in one transaction, written with one batched upsert (several times faster than a
    transaction per record). False, with nothing written, if a record fails past schema
    validation: the caller then takes the batch record by record."""
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
    except InvalidInput:
        return False
    return True


def _apply_record(
    session: Any, files_dir: Path, job: IngestJob, record: Record, limits: ReaderLimits
) -> None:
    entity = EntityKind(job.entity)
    if record.error is not None:
        raise InvalidInput(record.error)
    if record.document is not None:
        name, content = record.document
        store_document(session, files_dir, kind=entity, tenant_id=job.tenant_id, filename=name,
                       content=content, limits=limits)  # fmt: skip
        return
    valid = _validated_fields(entity, record)
    if entity is EntityKind.CANDIDATE:
        upsert_candidate(session, tenant_id=job.tenant_id, fields=valid)
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
    content = read_content(files_dir, job.sha256)
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
            except (InvalidInput, FileRejected) as exc:
                with db.session() as session:
                    job = session.get(IngestJob, job_id)
                    assert job is not None
                    job.position += 1
                    job.failed += 1
                    _store_errors(job, [_error_entry(record, exc)])
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
