"""Counting the services job seekers receive (the plan's "job-seeker services" indicator).

Job seekers reach TalentMatch through partner apps (role ``partner``) and the career-fair
widget (role ``public``); their searches and recommendations are counted per day, client and
kind (``store.market.record_service``), never who asked. Agencies' own searches are not
job-seeker services and are not counted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.keys import Principal
from store.market import record_service

CHANNEL_OF_ROLE = {"partner": "partner", "public": "widget"}


def count_seeker_service(session: Session, principal: Principal, kind: str) -> None:
    """Count one service of ``kind`` when the caller serves job seekers."""
    channel = CHANNEL_OF_ROLE.get(principal.role)
    if channel is not None:
        record_service(session, tenant_id=principal.tenant_id, channel=channel, kind=kind)
