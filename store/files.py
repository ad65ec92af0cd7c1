"""Uploaded originals and bulk sources: content-addressed files under ``<data_dir>/files``
(named by the SHA-256 of the plain content, stored encrypted with the data key), plus a row
with the extracted text. The client's file name is metadata only and never becomes a path."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import EntityKind
from core.errors import NotFound
from store.models import IngestJob, StoredFile
from store.pii import DataKey, is_encrypted_file


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = re.split(r"[\\\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return base[:200] or "upload"


def content_path(files_dir: Path, sha256: str) -> Path:
    return files_dir / sha256[:2] / sha256


def write_content(files_dir: Path, content: bytes, *, key: DataKey) -> str:
    """Store bytes once (atomically, encrypted under ``key``) and return the SHA-256 of the
    plain bytes."""
    digest = hashlib.sha256(content).hexdigest()
    path = content_path(files_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(key.encrypt_bytes(content))
        os.replace(tmp, path)
    return digest


def read_content(files_dir: Path, sha256: str, *, key: DataKey) -> bytes:
    """The plain bytes of a stored file, decrypted with ``key``."""
    path = content_path(files_dir, sha256)
    if not path.exists():
        raise NotFound("the stored file is gone")
    return key.decrypt_bytes(path.read_bytes())


def encrypt_legacy_files(files_dir: Path, *, key: DataKey) -> int:
    """Encrypt (under ``key``) stored files written before encryption existed; returns how
    many."""
    count = 0
    if not files_dir.exists():
        return 0
    for path in files_dir.glob("??/*"):
        if not path.is_file() or ".tmp-" in path.name:
            continue
        with open(path, "rb") as handle:
            head = handle.read(16)
        if is_encrypted_file(head):
            continue
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(key.encrypt_bytes(path.read_bytes()))
        os.replace(tmp, path)
        count += 1
    return count


def record_file(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityKind,
    entity_id: int,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    text: str,
) -> StoredFile:
    stored = StoredFile(
        tenant_id=tenant_id, entity=entity.value, entity_id=entity_id, filename=safe_filename(filename),
        content_type=content_type, size=size, sha256=sha256, text=text,
    )  # fmt: skip
    session.add(stored)
    session.flush()
    return stored


def latest_file(session: Session, *, entity: EntityKind, entity_id: int) -> StoredFile:
    """The most recent original behind an entity."""
    stored = session.scalar(
        select(StoredFile)
        .where(StoredFile.entity == entity.value, StoredFile.entity_id == entity_id)
        .order_by(StoredFile.id.desc())
        .limit(1)
    )
    if stored is None:
        raise NotFound(f"{entity.value} {entity_id} has no original file")
    return stored


def content_in_use(session: Session, sha256: str) -> bool:
    """Whether a stored file row or an unfinished bulk load still needs these bytes."""
    files = session.scalar(
        select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == sha256)
    )
    loads = session.scalar(
        select(func.count())
        .select_from(IngestJob)
        .where(IngestJob.sha256 == sha256, IngestJob.status.in_(("queued", "running")))
    )
    return bool(files or loads)


def delete_files_of(
    session: Session, files_dir: Path, entity: EntityKind, entity_id: int
) -> list[Path]:
    """Delete the stored-file rows of an entity; returns the content files no other row
    needs, to unlink once the transaction has committed."""
    rows = list(
        session.scalars(
            select(StoredFile).where(
                StoredFile.entity == entity.value, StoredFile.entity_id == entity_id
            )
        )
    )
    for row in rows:
        session.delete(row)
    session.flush()
    return [
        content_path(files_dir, sha)
        for sha in sorted({row.sha256 for row in rows})
        if not content_in_use(session, sha)
    ]


def remove_files(paths: list[Path]) -> None:
    """Unlink content files after the transaction that stopped needing them committed."""
    for path in paths:
        path.unlink(missing_ok=True)
