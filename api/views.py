"""How records are shown to a caller. Candidates: contacts only with ``candidates:contact``
and never in result lists (search, matches); ``blind`` hides identity and protected
attributes. Postings shown to a browser (a fair's widget): no contacts a recruiter left in
the text, no extraction details."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.schemas import CandidateRead, JobRead
from matching.fairness import blind_view
from store.jobs import shown_duplicate_of
from store.keys import Principal
from store.models import Candidate, Job
from store.pii import redact_contacts, redact_text


def candidate_view(
    row: Candidate, principal: Principal, *, in_results: bool = False, blind: bool = False
) -> CandidateRead:
    view = CandidateRead.model_validate(row)
    if blind:
        return CandidateRead.model_validate(blind_view(view.model_dump()))
    if in_results or not principal.can("candidates:contact"):
        return CandidateRead.model_validate(redact_contacts(view.model_dump()))
    return view


def job_view(row: Job, principal: Principal, *, duplicate_of: int | None) -> JobRead:
    """A posting as this caller reads it; ``duplicate_of`` as ``job_views`` resolved it."""
    view = JobRead.model_validate(row).model_copy(update={"duplicate_of": duplicate_of})
    if principal.role != "public":
        return view
    return view.model_copy(
        update={"description": redact_text(view.description) or "", "extraction": None}
    )


def job_views(
    session: Session, rows: list[Job], principal: Principal, *, fair_id: str | None = None
) -> list[JobRead]:
    """Postings as this caller reads them, in order: ``duplicate_of`` never names a posting
    the caller cannot see (``fair_id``: as seen at that fair)."""
    shown = shown_duplicate_of(session, rows, viewer_tenant=principal.tenant_id,
                               fair_id=fair_id or principal.fair_id)  # fmt: skip
    return [job_view(row, principal, duplicate_of=shown[row.id]) for row in rows]
