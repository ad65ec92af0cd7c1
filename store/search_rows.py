"""What a result page reads of its hits: the columns the page shows (``api.views``: the
posting's fields, its compliance flags and duplicate group), in one query, never the
near-duplicate fingerprints (MinHash signature, SimHash bands) or review state."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from store.jobs import visible_to
from store.models import Job

# Every column a posting's view reads; one left out would load row by row on first use.
JOB_PAGE_COLUMNS = (
    Job.id, Job.tenant_id, Job.external_id, Job.title, Job.description, Job.company,
    Job.city, Job.city_code, Job.district, Job.district_code, Job.remote, Job.salary_min,
    Job.salary_max, Job.occupation_code, Job.occupation_confidence, Job.salary_months,
    Job.benefits, Job.employment_type, Job.required_skills, Job.preferred_skills,
    Job.min_years_experience, Job.education, Job.language, Job.private, Job.extraction,
    Job.duplicate_of, Job.compliance_status, Job.compliance_flags, Job.posted_at,
    Job.headcount, Job.valid_through, Job.created_at, Job.updated_at,
)  # fmt: skip


def visible_job_page(
    session: Session, ids: list[int], *, viewer_tenant: str, fair_id: str | None = None
) -> dict[int, Job]:
    """Of a page of hits (a few dozen ids), the postings the viewer may see, with the
    columns the page shows, by id."""
    if not ids:
        return {}
    query = (
        select(Job)
        .where(Job.id.in_(ids), visible_to(viewer_tenant, fair_id=fair_id))
        .options(load_only(*JOB_PAGE_COLUMNS))
    )
    return {row.id: row for row in session.scalars(query)}
