"""Rows of ``document_vectors``: which embedding-cache entries hold each indexed document's
vectors (see ``store.models.DocumentVectorRef``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.domain import EntityKind
from store.models import Candidate, DocumentVectorRef, Job

_CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit is far above; plans stay small)


@dataclass(frozen=True)
class VectorRef:
    entity_id: int
    content_hash: str
    title_hash: str
    skills: tuple[str, ...]
    language: str | None
    # Candidates' section texts (``representation.profiles.CandidateProfile.section_texts``).
    section_hashes: tuple[str, ...] = ()
    occupation_code: str | None = None


def save_vector_refs(session: Session, kind: EntityKind, refs: Sequence[VectorRef]) -> None:
    """Insert or replace the rows of ``refs``."""
    if not refs:
        return
    delete_vector_refs(session, kind, [ref.entity_id for ref in refs])
    session.add_all(
        DocumentVectorRef(
            entity=kind.value,
            entity_id=ref.entity_id,
            content_hash=ref.content_hash,
            title_hash=ref.title_hash,
            skills=list(ref.skills),
            language=ref.language,
            section_hashes=list(ref.section_hashes),
            occupation_code=ref.occupation_code,
        )
        for ref in refs
    )
    session.flush()


def delete_vector_refs(session: Session, kind: EntityKind, ids: Sequence[int]) -> None:
    """Remove the rows of ``ids`` (unknown ids are ignored)."""
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(DocumentVectorRef).where(
                DocumentVectorRef.entity == kind.value,
                DocumentVectorRef.entity_id.in_(list(ids[start : start + _CHUNK])),
            )
        )


def delete_orphan_refs(session: Session, kind: EntityKind) -> None:
    """Remove rows whose posting or candidate no longer exists (after a rebuild)."""
    model = Job if kind is EntityKind.JOB else Candidate
    session.execute(
        delete(DocumentVectorRef).where(
            DocumentVectorRef.entity == kind.value,
            DocumentVectorRef.entity_id.not_in(select(model.id)),
        )
    )


def vector_refs(session: Session, kind: EntityKind, ids: Sequence[int]) -> dict[int, VectorRef]:
    """The rows of ``ids`` that exist, by id."""
    found: dict[int, VectorRef] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                DocumentVectorRef.entity_id,
                DocumentVectorRef.content_hash,
                DocumentVectorRef.title_hash,
                DocumentVectorRef.skills,
                DocumentVectorRef.language,
                DocumentVectorRef.section_hashes,
                DocumentVectorRef.occupation_code,
            ).where(
                DocumentVectorRef.entity == kind.value,
                DocumentVectorRef.entity_id.in_(list(ids[start : start + _CHUNK])),
            )
        )
        for entity_id, content, title, skills, language, sections, occupation in rows:
            found[entity_id] = VectorRef(
                entity_id,
                content,
                title,
                tuple(skills or ()),
                language,
                tuple(sections or ()),
                occupation,
            )
    return found
