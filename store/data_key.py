"""Which data key the stored personal data was written with, and changing it on purpose.

The ``instance_meta`` table keeps a check value of the data key (``DataKey.check_value``: an
HMAC of a fixed label, never the key or a plain hash of it). Every start compares it with
the configured ``TALENTMATCH_AUTH__DATA_KEY`` before anything is written: a different key
would make every read fail and every new write use a second key. The first start records
it; a database from before check values gets one only if a sample of its encrypted values
decrypts with the configured key.

``rotate_data_key`` re-encrypts everything under a new key: first the stored files (each
written anew, then renamed over the old one), then, in one database transaction, every
encrypted column, the identity digests and the check value. While it runs a marker names
the new key; a crash leaves the marker, starts refuse, and running the rotation again with
the same two keys finishes it (files already under the new key are recognized and kept).

``encrypt_legacy_rows`` encrypts the rows written before encryption existed (it lives here,
not in ``store.pii``, because it reads the models, whose column types ``store.pii`` defines).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.errors import InvalidInput, TalentMatchError
from store.db import Database
from store.models import Candidate, InstanceMeta
from store.pii import DataKey, contact_keys, is_encrypted_file, session_key

CHECK_NAME = "data_key_check"
PENDING_NAME = "data_key_rotation_pending"
ENV_NAME = "TALENTMATCH_AUTH__DATA_KEY"
# Encrypted values (per column) and files read to recognize the key of an older database.
_SAMPLE = 5
_BATCH = 500
_CANDIDATE_COLUMNS = ("email", "phone", "resume_text", "extraction")


class DataKeyMismatch(TalentMatchError):
    """The configured data key is not the one the stored personal data was written with."""

    code = "data_key_mismatch"


@dataclass(frozen=True)
class RotationReport:
    candidates: int
    stored_files: int
    files: int


def _meta(session: Session, name: str) -> str | None:
    row = session.get(InstanceMeta, name)
    return row.value if row is not None else None


def _interrupted_message() -> str:
    return (
        "a data key rotation was interrupted: run `talentmatch data-key rotate` again with "
        f"the same new key ({ENV_NAME} still the old one) to finish it"
    )


def _mismatch_message() -> str:
    return (
        f"{ENV_NAME} is not the key this database's personal data was written with; start "
        "with that key (change keys only with `talentmatch data-key rotate`). Nothing was "
        "written."
    )


def stored_files_paths(files_dir: Path) -> Iterator[Path]:
    """The stored files (originals and bulk sources), without half-written temporaries."""
    if not files_dir.exists():
        return
    for path in sorted(files_dir.glob("??/*")):
        if path.is_file() and ".tmp-" not in path.name:
            yield path


def _sample_decrypts(session: Session, files_dir: Path, key: DataKey) -> bool:
    """Whether a sample of the stored encrypted values and files decrypts with ``key``."""
    samples: list[str] = []
    for column in _CANDIDATE_COLUMNS:
        samples += session.scalars(
            text(f"SELECT {column} FROM candidates WHERE {column} LIKE 'enc1:%' LIMIT {_SAMPLE}")
        ).all()
    samples += session.scalars(
        text(f"SELECT text FROM stored_files WHERE text LIKE 'enc1:%' LIMIT {_SAMPLE}")
    ).all()
    if not all(key.decrypts(value) for value in samples):
        return False
    checked = 0
    for path in stored_files_paths(files_dir):
        stored = path.read_bytes()
        if not is_encrypted_file(stored):
            continue
        try:
            key.decrypt_bytes(stored)
        except RuntimeError:
            return False
        checked += 1
        if checked >= _SAMPLE:
            break
    return True


def verify_data_key(db: Database, files_dir: Path, key: DataKey | None = None) -> bool:
    """Refuse (``DataKeyMismatch``) a data key other than the one the data was written with;
    record the check value on first start. ``key`` defaults to the database's own. Returns
    True when it recorded one."""
    key = key or db.data_key
    with db.session() as session:
        if _meta(session, PENDING_NAME) is not None:
            raise DataKeyMismatch(_interrupted_message())
        stored = _meta(session, CHECK_NAME)
        if stored is not None:
            if not key.matches(stored):
                raise DataKeyMismatch(_mismatch_message())
            return False
        if not _sample_decrypts(session, files_dir, key):
            raise DataKeyMismatch(
                f"the personal data stored here does not decrypt with {ENV_NAME}: start with "
                "the key it was written with. Nothing was written."
            )
    try:
        with db.session() as session:
            session.add(InstanceMeta(name=CHECK_NAME, value=key.check_value()))
    except IntegrityError:
        # Another process starting at the same moment recorded one first: compare with it.
        return verify_data_key(db, files_dir, key)
    return True


def check_status(db: Database, files_dir: Path, key: DataKey | None = None) -> str:
    """``ok``, ``mismatch``, ``pending`` (a rotation to finish) or ``unrecorded`` (no check
    value yet, and a sample of the stored data decrypts) for ``key`` (default: the
    database's own); reads only."""
    key = key or db.data_key
    with db.session() as session:
        if _meta(session, PENDING_NAME) is not None:
            return "pending"
        stored = _meta(session, CHECK_NAME)
        if stored is None:
            return "unrecorded" if _sample_decrypts(session, files_dir, key) else "mismatch"
    return "ok" if key.matches(stored) else "mismatch"


def _rewrite_file(path: Path, content: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _rotate_files(files_dir: Path, old: DataKey, new: DataKey) -> int:
    """Re-encrypt every stored file under ``new``; files a previous, interrupted run already
    rewrote decrypt with ``new`` and stay as they are."""
    count = 0
    for path in stored_files_paths(files_dir):
        stored = path.read_bytes()
        if not is_encrypted_file(stored):
            plain = stored  # written before encryption existed
        else:
            try:
                plain = old.decrypt_bytes(stored)
            except RuntimeError:
                try:
                    new.decrypt_bytes(stored)
                except RuntimeError as exc:
                    raise DataKeyMismatch(
                        f"the stored file {path.name} decrypts with neither key"
                    ) from exc
                continue
        _rewrite_file(path, new.encrypt_bytes(plain))
        count += 1
    return count


def _reencrypt(value: str | None, old: DataKey, new: DataKey) -> str | None:
    return None if value is None else new.encrypt(old.decrypt(value))


def _rotate_rows(session: Session, old: DataKey, new: DataKey) -> tuple[int, int]:
    """Re-encrypt every encrypted column and recompute the identity digests (raw SQL: the
    ORM columns would use the database's one key)."""
    candidates = 0
    last = 0
    while True:
        rows = session.execute(
            text(
                "SELECT id, email, phone, resume_text, extraction FROM candidates "
                "WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": _BATCH},
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            email = old.decrypt(row.email) if row.email is not None else None
            phone = old.decrypt(row.phone) if row.phone is not None else None
            email_key, phone_key = contact_keys(email, phone, key=new)
            updates.append({
                "id": row.id,
                "email": None if email is None else new.encrypt(email),
                "phone": None if phone is None else new.encrypt(phone),
                "resume_text": _reencrypt(row.resume_text, old, new),
                "extraction": _reencrypt(row.extraction, old, new),
                "email_key": email_key,
                "phone_key": phone_key,
            })  # fmt: skip
        session.execute(
            text(
                "UPDATE candidates SET email = :email, phone = :phone, "
                "resume_text = :resume_text, extraction = :extraction, "
                "email_key = :email_key, phone_key = :phone_key WHERE id = :id"
            ),
            updates,
        )
        candidates += len(rows)
        last = rows[-1].id
    stored_files = 0
    last = 0
    while True:
        rows = session.execute(
            text("SELECT id, text FROM stored_files WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last, "batch": _BATCH},
        ).all()
        if not rows:
            break
        session.execute(
            text("UPDATE stored_files SET text = :text WHERE id = :id"),
            [{"id": row.id, "text": _reencrypt(row.text, old, new)} for row in rows],
        )
        stored_files += len(rows)
        last = rows[-1].id
    return candidates, stored_files


def rotate_data_key(db: Database, files_dir: Path, old: DataKey, new: DataKey) -> RotationReport:
    """Re-encrypt all personal data from ``old`` to ``new`` (see the module docstring); every
    process using the data must be stopped. Returns what it rewrote."""
    if old.check_value() == new.check_value():
        raise InvalidInput("the new data key is the current one", field="new_key")
    with db.session() as session:
        pending = _meta(session, PENDING_NAME)
        stored = _meta(session, CHECK_NAME)
        if pending is not None and not new.matches(pending):
            raise DataKeyMismatch(
                "an interrupted rotation to another new key is pending: finish it with that key"
            )
        if stored is None:
            if not _sample_decrypts(session, files_dir, old):
                raise DataKeyMismatch(_mismatch_message())
        elif not old.matches(stored):
            raise DataKeyMismatch(_mismatch_message())
        if pending is None:
            session.merge(InstanceMeta(name=PENDING_NAME, value=new.check_value()))
    files = _rotate_files(files_dir, old, new)
    with db.session() as session:
        candidates, stored_files = _rotate_rows(session, old, new)
        session.merge(InstanceMeta(name=CHECK_NAME, value=new.check_value()))
        marker = session.get(InstanceMeta, PENDING_NAME)
        if marker is not None:
            session.delete(marker)
    return RotationReport(candidates=candidates, stored_files=stored_files, files=files)


def encrypt_legacy_rows(session: Session, batch: int = 500) -> int:
    """Encrypt personal data written before encryption existed and turn plaintext identity
    keys into digests, under the key of the session's database. Idempotent; returns how many
    profiles it rewrote."""
    key = session_key(session)
    raw = text(
        "SELECT id FROM candidates WHERE "
        "(email IS NOT NULL AND email NOT LIKE 'enc1:%') OR "
        "(phone IS NOT NULL AND phone NOT LIKE 'enc1:%') OR "
        "(resume_text IS NOT NULL AND resume_text NOT LIKE 'enc1:%') OR "
        "(extraction IS NOT NULL AND extraction NOT LIKE 'enc1:%')"
    )
    ids = [row[0] for row in session.execute(raw)]
    for start in range(0, len(ids), batch):
        rows = session.scalars(
            select(Candidate).where(Candidate.id.in_(ids[start : start + batch]))
        )
        for candidate in rows:
            for column in ("email", "phone", "resume_text", "extraction"):
                flag_modified(candidate, column)
            candidate.email_key, candidate.phone_key = contact_keys(
                candidate.email, candidate.phone, key=key
            )
        session.flush()
    return len(ids)
