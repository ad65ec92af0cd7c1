"""Candidate profiles: always private to their tenant. ``resume_text`` given without the
structured fields fills them in (skills, years, education, city, contacts) from its
``extraction``, which the callers compute first (``ingestion.resume_text.with_resume_extraction``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, undefer_group

from core.domain import EntityKind
from core.errors import NotFound
from core.fingerprints import bands, distance, simhash, without_contacts
from store.external_ids import ensure_external_id_free, find_by_external_id
from store.models import Candidate, CandidateSource
from store.normalize import (
    clean_list,
    normalize_education_level,
    normalize_place,
    years_from_experience,
)
from store.outbox import record_change
from store.pii import DataKey, contact_keys, session_key
from store.records import rows_by_ids, shares_simhash_band
from taxonomy.occupations import code_title

CANDIDATE_FIELDS = (
    "external_id", "name", "email", "phone", "city", "desired_titles", "desired_salary_min",
    "desired_salary_max", "desired_salary_months", "years_experience", "education",
    "experience", "skills", "languages", "certificates", "summary", "resume_text", "extraction",
)  # fmt: skip

_LIST_FIELDS = ("desired_titles", "experience", "skills", "languages", "certificates")


def _extracted(candidate: Candidate, name: str) -> Any:
    found = (candidate.extraction or {}).get(name)
    return found.get("value") if isinstance(found, dict) else None


def _fill_from_resume(candidate: Candidate) -> list[str]:
    """Fill fields the caller left empty from what was extracted from ``resume_text`` (its
    ``extraction``, which ingestion computes before the store is called); returns what was
    filled."""
    if not candidate.resume_text or not candidate.resume_text.strip():
        return []
    filled: list[str] = []
    simple = {
        "skills": "skills",
        "years_experience": "years_experience",
        "city": "city",
        "email": "email",
        "phone": "phone",
        "name": "name",
        "desired_titles": "desired_titles",
        "experience": "experience",
        "languages": "languages",
        "certificates": "certificates",
        "desired_salary_min": "desired_salary_min",
        "desired_salary_max": "desired_salary_max",
        "desired_salary_months": "desired_salary_months",
    }
    for source, target in simple.items():
        value = _extracted(candidate, source)
        if value is not None and not getattr(candidate, target):
            setattr(candidate, target, value)
            filled.append(target)
    level = _extracted(candidate, "education_level")
    if level is not None and not (candidate.education or {}).get("level"):
        education = {**(candidate.education or {}), "level": level}
        for part in ("school", "major"):
            if _extracted(candidate, part) and not education.get(part):
                education[part] = _extracted(candidate, part)
        candidate.education = education
        filled.append("education.level")
    return filled


def _require_extraction(fields: dict[str, Any]) -> None:
    if (fields.get("resume_text") or "").strip() and "extraction" not in fields:
        # Extraction is ingestion's step; a résumé without it would silently fill nothing.
        raise ValueError("resume_text without its extraction: run with_resume_extraction first")


def _apply(candidate: Candidate, fields: dict[str, Any], key: DataKey) -> None:
    if "resume_text" in fields:
        # New résumé text: what was extracted from the old one must not linger.
        for stale in candidate.extracted_fields or []:
            if stale not in fields and stale != "education.level":
                setattr(candidate, stale, [] if stale in _LIST_FIELDS else None)
    for name, value in fields.items():
        setattr(candidate, name, value)
    for name in _LIST_FIELDS:
        if getattr(candidate, name) is None:
            setattr(candidate, name, [])
    if candidate.years_experience is None and candidate.experience:
        candidate.years_experience = years_from_experience(candidate.experience)
    filled = _fill_from_resume(candidate)
    if candidate.years_experience is None and candidate.experience:
        candidate.years_experience = years_from_experience(candidate.experience)
    candidate.extracted_fields = filled
    place = normalize_place(candidate.city)
    candidate.city, candidate.city_code = place.city, place.city_code
    if candidate.education:
        candidate.education = {
            **candidate.education,
            "level": normalize_education_level(
                candidate.education.get("level"), field="education.level"
            ),
        }
    candidate.skills = clean_list(candidate.skills)
    candidate.desired_titles = clean_list(candidate.desired_titles)
    candidate.languages = clean_list(candidate.languages)
    candidate.certificates = clean_list(candidate.certificates)
    titles = candidate.desired_titles or [
        e.get("title") for e in candidate.experience or [] if e.get("title")
    ]
    best = code_title(titles[0]) if titles else None
    candidate.occupation_code = best.code if best else None
    _identity_keys(candidate, key)


def _identity_keys(candidate: Candidate, key: DataKey) -> None:
    candidate.email_key, candidate.phone_key = contact_keys(
        candidate.email, candidate.phone, key=key
    )
    text = without_contacts(candidate.resume_text or "")
    if len(text) >= 150:  # shorter texts are too alike to say "the same résumé"
        candidate.simhash = simhash(text)
        candidate.simhash_b0, candidate.simhash_b1, candidate.simhash_b2, candidate.simhash_b3 = (
            bands(candidate.simhash)
        )
    else:
        candidate.simhash = candidate.simhash_b0 = candidate.simhash_b1 = None
        candidate.simhash_b2 = candidate.simhash_b3 = None


def _comparable_name(name: str | None) -> str:
    return "".join((name or "").split()).casefold()


def _same_person(session: Session, incoming: Candidate) -> tuple[Candidate | None, str | None]:
    """An existing profile of the tenant for the same person: same email, same phone, or a
    near-identical résumé under the same name. Résumé similarity alone is no identity:
    generated and template résumés of different people differ in little but the name and
    the title, so a differing or missing name on either side blocks that merge."""
    same_tenant = Candidate.tenant_id == incoming.tenant_id
    for key, column, value in (
        ("email", Candidate.email_key, incoming.email_key),
        ("phone", Candidate.phone_key, incoming.phone_key),
    ):
        if value:
            match = session.scalar(
                select(Candidate)
                .where(same_tenant, column == value)
                .order_by(Candidate.id)
                .limit(1)
            )
            if match is not None:
                return match, key
    name = _comparable_name(incoming.name)
    if incoming.simhash is not None and name:
        rows = session.scalars(
            select(Candidate)
            .where(
                same_tenant,
                shares_simhash_band(Candidate, incoming),
            )
            .order_by(Candidate.id)
            .limit(20)
        )
        for row in rows:
            if (
                row.simhash is not None
                and distance(row.simhash, incoming.simhash) <= 3
                and _comparable_name(row.name) == name
            ):
                return row, "resume"
    return None, None


def _experience_key(entry: Any) -> tuple[str, ...]:
    if not isinstance(entry, dict):
        return (str(entry),)
    return tuple(
        "".join(str(entry.get(part) or "").split()).casefold()
        for part in ("title", "company", "start")
    )


def _union(name: str, new: list[Any], old: list[Any]) -> list[Any]:
    """Both arrivals' facts, the newer arrival's first, each once."""
    key = _experience_key if name == "experience" else (lambda v: str(v).casefold())
    merged: dict[Any, Any] = {}
    for value in [*(new or []), *(old or [])]:
        merged.setdefault(key(value), value)
    return list(merged.values())


def _merge(target: Candidate, incoming: Candidate, key: DataKey) -> None:
    """The newer arrival's non-empty fields win, except lists (skills, titles, experience,
    languages, certificates): their facts are united, so an arrival with fewer facts (a CRM
    record with two skills) never drops what another (a résumé with eight) brought.
    Everything else of the profile stays; each arrival is a source."""
    changes = {
        name: getattr(incoming, name)
        for name in CANDIDATE_FIELDS
        if name not in ("external_id", "extraction")
        and getattr(incoming, name) not in (None, "", [], {})
    }
    resume_replaced = "resume_text" in changes
    if resume_replaced:  # the extraction belongs to the résumé it came from
        changes["extraction"] = incoming.extraction
    extracted = list(target.extracted_fields or [])
    for name in _LIST_FIELDS:
        if name in changes and not (resume_replaced and name in extracted):
            changes[name] = _union(name, changes[name], getattr(target, name))
    _apply(target, changes, key)
    if not resume_replaced:
        # Facts extracted from the profile's résumé are still in it, and still from there.
        kept = [f for f in extracted if f not in changes or f in _LIST_FIELDS]
        target.extracted_fields = list(dict.fromkeys([*kept, *(target.extracted_fields or [])]))


def upsert_candidate(
    session: Session, *, tenant_id: str, fields: dict[str, Any]
) -> tuple[Candidate, bool]:
    """Create a profile, update the one with this external id, or merge into the tenant's
    profile of the same person (same email or phone, or a near-identical résumé). Every
    arrival is recorded as a source. Returns the profile and whether it was created."""
    _require_extraction(fields)
    external_id = (fields.get("external_id") or "").strip() or None  # "" is no id
    fields = {**fields, "external_id": external_id}
    complete: dict[str, Any] = dict.fromkeys(CANDIDATE_FIELDS)
    complete.update(fields)
    key = session_key(session)
    candidate = find_by_external_id(
        session, Candidate, tenant_id=tenant_id, external_id=external_id
    )
    if candidate is not None:
        _apply(candidate, complete, key)
        return _saved(session, candidate), False
    source = _find_source(session, tenant_id, external_id)
    if source is not None:  # a later arrival of a merged person: merge again
        incoming = Candidate(tenant_id=tenant_id)
        _apply(incoming, complete, key)
        _merge(source.candidate, incoming, key)
        return _saved(session, source.candidate), False
    incoming = Candidate(tenant_id=tenant_id)
    _apply(incoming, complete, key)
    match, matched_on = _same_person(session, incoming)
    if match is not None:
        _merge(match, incoming, key)
        match.sources.append(
            CandidateSource(tenant_id=tenant_id, external_id=external_id, matched_on=matched_on)
        )
        return _saved(session, match), False
    incoming.sources.append(CandidateSource(tenant_id=tenant_id, external_id=external_id))
    session.add(incoming)
    return _saved(session, incoming), True


def _find_source(
    session: Session, tenant_id: str, external_id: str | None
) -> CandidateSource | None:
    if not external_id:
        return None
    return session.scalar(
        select(CandidateSource).where(
            CandidateSource.tenant_id == tenant_id, CandidateSource.external_id == external_id
        )
    )


def _saved(session: Session, candidate: Candidate) -> Candidate:
    session.flush()
    record_change(session, EntityKind.CANDIDATE, candidate.id)
    return candidate


def get_candidate(session: Session, candidate_id: int, *, tenant_id: str) -> Candidate:
    """A candidate of this tenant; another tenant's candidate does not exist for it."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or candidate.tenant_id != tenant_id:
        raise NotFound(f"candidate {candidate_id} not found")
    return candidate


def update_candidate(session: Session, candidate: Candidate, changes: dict[str, Any]) -> Candidate:
    _require_extraction(changes)
    if "external_id" in changes:
        changes = {**changes, "external_id": (changes["external_id"] or "").strip() or None}
        ensure_external_id_free(session, candidate, changes["external_id"])
    _apply(candidate, changes, session_key(session))
    session.flush()
    record_change(session, EntityKind.CANDIDATE, candidate.id)
    return candidate


def list_candidates(
    session: Session, *, tenant_id: str, offset: int, limit: int
) -> tuple[list[Candidate], int]:
    condition = Candidate.tenant_id == tenant_id
    total = session.scalar(select(func.count()).select_from(Candidate).where(condition)) or 0
    rows = session.scalars(
        select(Candidate)
        .where(condition)
        .order_by(Candidate.updated_at.desc(), Candidate.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def candidates_by_ids(
    session: Session, ids: list[int], *, full: bool = True
) -> dict[int, Candidate]:
    """Candidates by id. ``full=False`` (for scoring) loads neither their encrypted fields
    nor their sources up front; either loads on first access, row by row."""
    if full:
        return rows_by_ids(session, Candidate, ids, options=[undefer_group("pii")])
    return rows_by_ids(session, Candidate, ids, options=[lazyload(Candidate.sources)])
