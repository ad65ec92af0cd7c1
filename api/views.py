"""How a candidate is shown to a caller: contacts only with ``candidates:contact`` and
never in result lists (search, matches); ``blind`` hides identity and protected attributes."""

from __future__ import annotations

from api.schemas import CandidateRead
from matching.fairness import blind_view
from store.keys import Principal
from store.models import Candidate
from store.pii import redact_contacts


def candidate_view(
    row: Candidate, principal: Principal, *, in_results: bool = False, blind: bool = False
) -> CandidateRead:
    view = CandidateRead.model_validate(row)
    if blind:
        return CandidateRead.model_validate(blind_view(view.model_dump()))
    if in_results or not principal.can("candidates:contact"):
        return CandidateRead.model_validate(redact_contacts(view.model_dump()))
    return view
