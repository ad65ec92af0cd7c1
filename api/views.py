"""How records are shown to a caller. One rule for every path that returns personal data:
contacts (as ``core.contacts`` defines them) only to keys with ``candidates:contact``, and
never in result lists (search, matches); ``blind`` hides identity and protected attributes.
Postings: contacts a recruiter left in the text only for a key with the contact scope or
one that may edit its own tenant's postings (the text is its own, and a masked copy sent back
would overwrite it), never for a browser key (a fair's widget); no extraction details for
browsers."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from api.schemas import CandidateRead, ComplianceRead, FeedbackRead, JobRead, OccupationGroupRead
from core.compliance import render_flag
from representation.fairness import blind_view
from store.jobs import shown_duplicate_of
from store.keys import Principal
from store.models import Candidate, Feedback, Job
from store.pii import redact_contacts, redact_strings, redact_text
from taxonomy.occupations import occupation_hierarchy

# The language the caller asked for (Accept-Language), for the names of occupation codes.
_RESPONSE_LANGUAGE: ContextVar[str] = ContextVar("response_language", default="")


def preferred_language(header: str | None) -> str:
    """``zh`` or ``en``, whichever of the two Accept-Language ranks first; "" for neither."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else ""


class ResponseLanguage:
    """Reads Accept-Language once per request, for the views below."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"accept-language", b"")
        token = _RESPONSE_LANGUAGE.set(preferred_language(header.decode("latin-1")))
        try:
            await self.app(scope, receive, send)
        finally:
            _RESPONSE_LANGUAGE.reset(token)


_View = TypeVar("_View", JobRead, CandidateRead)


def with_occupation(view: _View) -> _View:
    """The view with its occupation code's name and groups, in the asked language where
    the classification has one (see ``taxonomy.occupations.occupation_hierarchy``)."""
    groups = occupation_hierarchy(view.occupation_code, _RESPONSE_LANGUAGE.get())
    if not groups:
        return view
    return view.model_copy(
        update={
            "occupation_name": groups[-1].name,
            "occupation_name_language": groups[-1].language,
            "occupation_hierarchy": [
                OccupationGroupRead(level=g.level, code=g.code, name=g.name, language=g.language)
                for g in groups
            ],
        }
    )


def sees_contacts(principal: Principal) -> bool:
    """Whether the caller may read contacts (a browser key never may)."""
    return principal.role != "public" and principal.can("candidates:contact")


def candidate_view(
    row: Candidate, principal: Principal, *, in_results: bool = False, blind: bool = False
) -> CandidateRead:
    view = with_occupation(CandidateRead.model_validate(row))
    if blind:
        return CandidateRead.model_validate(blind_view(view.model_dump()))
    if in_results or not sees_contacts(principal):
        return CandidateRead.model_validate(redact_contacts(view.model_dump()))
    return view


def compliance_view(row: Job, principal: Principal, language: str) -> ComplianceRead | None:
    """A posting's compliance flags with their text in ``language``; the operator's reviews
    only for admin keys."""
    if row.compliance_status is None:
        return None
    flags = [render_flag(flag, language) for flag in row.compliance_flags or []]
    if principal.role != "admin":
        flags = [{k: v for k, v in flag.items() if k != "review"} for flag in flags]
    return ComplianceRead.model_validate({"status": row.compliance_status, "flags": flags})


def job_view(
    row: Job, principal: Principal, *, duplicate_of: int | None, language: str = "en"
) -> JobRead:
    """A posting as this caller reads it; ``duplicate_of`` as ``job_views`` resolved it,
    compliance explanations in ``language``. Browser keys get no contacts and no extraction
    details; other keys without the contact scope get contacts masked, except in their own
    tenant's postings they may edit (an edit round trip must not overwrite stored contacts
    with masks)."""
    view = with_occupation(JobRead.model_validate(row)).model_copy(update={
        "duplicate_of": duplicate_of, "compliance": compliance_view(row, principal, language),
    })  # fmt: skip
    if principal.role == "public":
        return JobRead.model_validate(
            {**redact_strings(view.model_dump(exclude={"extraction"})), "extraction": None}
        )
    own = row.tenant_id == principal.tenant_id and principal.can("jobs:write")
    if sees_contacts(principal) or own:
        return view
    return JobRead.model_validate(redact_strings(view.model_dump()))


def job_views(
    session: Session, rows: list[Job], principal: Principal, *, fair_id: str | None = None,
    language: str = "en",
) -> list[JobRead]:  # fmt: skip
    """Postings as this caller reads them, in order: ``duplicate_of`` never names a posting
    the caller cannot see (``fair_id``: as seen at that fair); compliance text in
    ``language`` (zh or en, from Accept-Language)."""
    shown = shown_duplicate_of(session, rows, viewer_tenant=principal.tenant_id,
                               fair_id=fair_id or principal.fair_id)  # fmt: skip
    return [job_view(row, principal, duplicate_of=shown[row.id], language=language)
            for row in rows]  # fmt: skip


def feedback_view(row: Feedback, principal: Principal) -> FeedbackRead:
    """A feedback record; a reason that quotes a contact is masked without the scope."""
    view = FeedbackRead.model_validate(row)
    if sees_contacts(principal):
        return view
    return view.model_copy(update={"reason": redact_text(view.reason)})


def export_view(export: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Everything held about a person (see ``store.privacy.export_candidate``) as the caller
    may see it: without the contact scope, contacts masked everywhere in it (profile, file
    texts, feedback reasons, audit purposes)."""
    if sees_contacts(principal):
        return export
    masked: dict[str, Any] = redact_strings(export)
    masked["candidate"] = redact_contacts(export["candidate"])
    return masked
