"""File intake: one uploaded file → one candidate profile or posting, or a clear per-file
error. Each file is its own transaction, so a batch keeps its good files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.domain import EntityKind
from core.errors import InvalidInput, NoncompliantPosting
from ingestion.posting_text import posting_fields
from ingestion.readers import FileRejected, ReaderLimits, read_document
from ingestion.resume_text import with_resume_extraction
from store.candidates import upsert_candidate
from store.db import Database
from store.files import record_file, write_content
from store.jobs import upsert_job
from store.pii import session_key


@dataclass(frozen=True)
class FileResult:
    filename: str
    status: str  # created, updated, error
    id: int | None = None
    error: dict[str, Any] | None = field(default=None)


def store_document(
    session: Session,
    files_dir: Path,
    *,
    kind: EntityKind,
    tenant_id: str,
    filename: str,
    content: bytes,
    limits: ReaderLimits,
) -> tuple[int, bool]:
    """Read, extract and store one file inside the caller's transaction; returns (id, created).
    Raises ``FileRejected`` or ``InvalidInput`` for a file that cannot become a record."""
    document = read_document(filename, content, limits)
    digest = write_content(files_dir, content, key=session_key(session))
    external_id = f"file-{digest[:40]}"
    if kind is EntityKind.CANDIDATE:
        record, created = upsert_candidate(
            session,
            tenant_id=tenant_id,
            fields=with_resume_extraction(
                {"resume_text": document.text, "external_id": external_id}
            ),
        )
    else:
        fields = posting_fields(document.text, rates_to_cny=limits.rates_to_cny)
        if not fields.get("title"):
            raise InvalidInput(
                "no title found: start the posting with its title on a line of its own "
                "(or a line 职位：…)", field="title",
            )  # fmt: skip
        fields["external_id"] = external_id
        record, created = upsert_job(session, tenant_id=tenant_id, fields=fields)  # type: ignore[assignment]
    record_file(
        session, tenant_id=tenant_id, entity=kind, entity_id=record.id, filename=filename,
        content_type=document.content_type, size=len(content), sha256=digest, text=document.text,
    )  # fmt: skip
    return record.id, created


def ingest_file(
    db: Database,
    files_dir: Path,
    *,
    kind: EntityKind,
    tenant_id: str,
    filename: str,
    content: bytes,
    limits: ReaderLimits,
) -> FileResult:
    """One uploaded file in its own transaction; the same file again updates its record."""
    try:
        with db.session() as session:
            record_id, created = store_document(
                session, files_dir, kind=kind, tenant_id=tenant_id, filename=filename,
                content=content, limits=limits,
            )  # fmt: skip
    except FileRejected as exc:
        return FileResult(filename, "error", error={"code": exc.reason, "message": exc.message})
    except InvalidInput as exc:  # e.g. extracted values that fail validation
        code = exc.code if isinstance(exc, NoncompliantPosting) else "invalid_content"
        return FileResult(filename, "error", error={"code": code, "message": exc.message})
    return FileResult(filename, "created" if created else "updated", id=record_id)
