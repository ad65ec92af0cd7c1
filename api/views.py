"""How records are shown to a caller. Candidates: contacts only with ``candidates:contact``
and never in result lists (search, matches); ``blind`` hides identity and protected
attributes. Postings shown to a browser (a fair's widget): no contacts a recruiter left in
the text, no extraction details."""

from __future__ import annotations

from api.schemas import CandidateRead, JobRead
from matching.fairness import blind_view
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


def job_view(row: Job, principal: Principal) -> JobRead:
    view = JobRead.model_validate(row)
    if principal.role != "public":
        return view
    return view.model_copy(
        update={"description": redact_text(view.description) or "", "extraction": None}
    )
