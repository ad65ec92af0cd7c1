"""/v1/feedback: what recruiters and job seekers did with matches; ranker training's labels."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from api.deps import CandidatesRead, FeedbackWrite, RuntimeDep, SessionDep
from api.schemas import FeedbackCreate, FeedbackPage, FeedbackRead, QueryId
from api.views import feedback_view
from core.errors import IndexUnavailable, InvalidInput
from matching.service import pair_features
from store.candidates import get_candidate
from store.feedback import ACTIONS_BY_ACTOR, list_feedback, record_feedback
from store.jobs import get_visible_job

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


@router.post("", response_model=FeedbackRead, status_code=status.HTTP_201_CREATED)
def post_feedback(
    body: FeedbackCreate,
    principal: FeedbackWrite,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> FeedbackRead:
    """Record an action on a (posting, candidate) pair: the posting must be visible to the
    tenant and the candidate its own. The same action again is a no-op (200)."""
    if body.action not in ACTIONS_BY_ACTOR[body.actor]:
        allowed = ", ".join(ACTIONS_BY_ACTOR[body.actor])
        raise InvalidInput(f"a {body.actor} can record: {allowed}", field="action")
    job = get_visible_job(session, body.job_id, viewer_tenant=principal.tenant_id)
    candidate = get_candidate(session, body.candidate_id, tenant_id=principal.tenant_id)
    try:
        features = pair_features(
            job, candidate, actor=body.actor, sources=runtime.matching
        ).features()
    except IndexUnavailable:  # not indexed yet: training recomputes the pair later
        features = None
    row, created = record_feedback(
        session, tenant_id=principal.tenant_id, job_id=body.job_id,
        candidate_id=body.candidate_id, actor=body.actor, action=body.action,
        reason=body.reason, model_version=body.model_version, features=features,
    )  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
    return FeedbackRead.model_validate(row)


@router.get("", response_model=FeedbackPage)
def get_feedback(
    principal: CandidatesRead,
    session: SessionDep,
    job_id: QueryId = None,
    candidate_id: QueryId = None,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(50, ge=1, le=200),
) -> FeedbackPage:
    """The tenant's feedback, oldest first, optionally for one posting or candidate."""
    rows = list_feedback(
        session, tenant_id=principal.tenant_id, job_id=job_id, candidate_id=candidate_id,
        offset=(page - 1) * page_size, limit=page_size,
    )  # fmt: skip
    return FeedbackPage(
        items=[feedback_view(r, principal) for r in rows], page=page, page_size=page_size
    )
