"""What PIPL asks of a store of résumés: consent on record, an audit trail of who read a
profile and why, an export of everything held about a person, and erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.domain import EntityKind
from core.fingerprints import content_hash
from store.files import delete_files_of
from store.models import (
    AuditEvent,
    Candidate,
    Consent,
    EmbeddingCacheEntry,
    Feedback,
    StoredFile,
)
from store.outbox import record_change, request_index_purge


def record_consent(
    session: Session, *, tenant_id: str, candidate_id: int, purpose: str, granted_at: datetime,
    text_version: str, key_id: str,
) -> Consent:  # fmt: skip
    row = Consent(tenant_id=tenant_id, candidate_id=candidate_id, purpose=purpose,
                  granted_at=granted_at, text_version=text_version, recorded_by_key=key_id)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def audit(
    session: Session, *, tenant_id: str, key_id: str, action: str, candidate_id: int,
    purpose: str | None,
) -> None:  # fmt: skip
    session.add(AuditEvent(tenant_id=tenant_id, key_id=key_id, action=action,
                           entity=EntityKind.CANDIDATE.value, entity_id=candidate_id,
                           purpose=purpose))  # fmt: skip


def audit_trail(session: Session, *, tenant_id: str, candidate_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.entity == EntityKind.CANDIDATE.value,
                   AuditEvent.entity_id == candidate_id)
            .order_by(AuditEvent.id)
        )
    )  # fmt: skip


def _files_of(session: Session, candidate: Candidate) -> list[StoredFile]:
    return list(
        session.scalars(
            select(StoredFile).where(
                StoredFile.entity == EntityKind.CANDIDATE.value,
                StoredFile.entity_id == candidate.id,
            )
        )
    )


def export_candidate(session: Session, candidate: Candidate) -> dict[str, Any]:
    """Everything stored about a person, beyond the profile itself (which the caller adds)."""
    feedback = session.scalars(select(Feedback).where(Feedback.candidate_id == candidate.id)
                               .order_by(Feedback.id))  # fmt: skip
    consents = session.scalars(select(Consent).where(Consent.candidate_id == candidate.id)
                               .order_by(Consent.id))  # fmt: skip
    return {
        "files": [
            {"filename": f.filename, "content_type": f.content_type, "size": f.size,
             "sha256": f.sha256, "uploaded_at": f.created_at.isoformat(), "text": f.text}
            for f in _files_of(session, candidate)
        ],
        "consents": [
            {"purpose": c.purpose, "granted_at": c.granted_at.isoformat(),
             "text_version": c.text_version, "recorded_at": c.recorded_at.isoformat()}
            for c in consents
        ],
        "feedback": [
            {"job_id": f.job_id, "actor": f.actor, "action": f.action, "reason": f.reason,
             "at": f.created_at.isoformat()}
            for f in feedback
        ],
        "processing": {
            "search_index": "indexed for search and matching (texts without the name, "
                            "contacts or protected attributes, and their embeddings)",
            "embeddings_cached": True,
        },
    }  # fmt: skip


def erase_candidate(session: Session, files_dir: Path, candidate: Candidate, *,
                    key_id: str, embedded_texts: Sequence[str]) -> list[Path]:  # fmt: skip
    """Delete the profile with its sources, consents, feedback (by cascade), uploaded files,
    cached embeddings of its ``embedded_texts``, and its index entries (through the outbox,
    with a durable request to rewrite the index files), clear the free-text purposes of its
    audit trail, and audit the erasure by ids only. Returns content files to remove once
    committed."""
    hashes = [content_hash(text) for text in embedded_texts]
    session.execute(delete(EmbeddingCacheEntry).where(EmbeddingCacheEntry.content_hash.in_(hashes)))
    orphans = delete_files_of(session, files_dir, EntityKind.CANDIDATE, candidate.id)
    session.execute(delete(Feedback).where(Feedback.candidate_id == candidate.id))
    session.execute(delete(Consent).where(Consent.candidate_id == candidate.id))
    # The trail keeps who did what when, by id: a free-text purpose may name the person.
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.entity == EntityKind.CANDIDATE.value,
               AuditEvent.entity_id == candidate.id)
        .values(purpose=None)
    )  # fmt: skip
    audit(session, tenant_id=candidate.tenant_id, key_id=key_id, action="erase",
          candidate_id=candidate.id, purpose=None)  # fmt: skip
    session.delete(candidate)
    session.flush()
    record_change(session, EntityKind.CANDIDATE, candidate.id)
    # The erased text lingers in index segments until the index is rewritten; the request
    # for that rewrite commits with the erasure, so a restart cannot forget it.
    request_index_purge(session, EntityKind.CANDIDATE)
    return orphans
