"""The rollup tables market statistics read (``store.models.Market*``), rebuilt from jobs and
candidates by a few GROUP BY statements, so a statistics request sums a few thousand cohort
rows instead of scanning every posting.

A rebuild is one transaction (readers see the old rollup or the new one) and records the
data version it reflects: the newest outbox event id, which every change to a posting or a
profile advances (``store.outbox.record_change``). ``ensure_fresh`` rebuilds when the data
moved on and the rollup is older than the refresh interval, or was never built; the API's
background loop and ``talentmatch worker`` call it on that interval, so requests seldom
wait for a rebuild.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    distinct,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE

from store.models import (
    Candidate,
    InstanceMeta,
    Job,
    MarketDirtyMonth,
    MarketEmployerMonth,
    MarketPostingCell,
    MarketSeekerCell,
    MarketWageBin,
    OutboxEvent,
    utcnow,
)
from store.outbox import forgotten_through

STATE = "market_rollup"
WAGE_BIN = 500.0  # CNY per month
POSTING_DIMENSIONS = ("occupation", "district", "education", "experience")
WAGE_DIMENSIONS = ("occupation", "district", "education")
SEEKER_DIMENSIONS = ("occupation", "education", "experience")
# Experience bands as job boards publish them (不限, 1–3 years …), by lower bound.
EXPERIENCE_BANDS = ((0.0, "0-1"), (1.0, "1-3"), (3.0, "3-5"), (5.0, "5-10"), (10.0, "10+"))


def month_index(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _month(session: Session, column: Any) -> Any:
    """The month number of a UTC timestamp column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", column)
        return cast(func.extract("year", utc) * 12 + func.extract("month", utc) - 1, Integer)
    year = cast(func.strftime("%Y", column), Integer)
    return year * 12 + cast(func.strftime("%m", column), Integer) - 1


def _band(years: Any) -> Any:
    whens = [(years >= low, literal(name)) for low, name in reversed(EXPERIENCE_BANDS[1:])]
    return case(*whens, else_=literal(EXPERIENCE_BANDS[0][1]))


def _job_key(dimension: str) -> Any:
    column = {
        "occupation": Job.occupation_code,
        "district": cast(Job.district_code, String),
        "education": func.coalesce(Job.education, literal("none")),
        "experience": _band(Job.min_years_experience),
    }[dimension]
    return func.coalesce(column, literal(""))


def _seeker_key(dimension: str) -> Any:
    column = {
        "occupation": Candidate.occupation_code,
        "education": func.coalesce(Candidate.education["level"].as_string(), literal("none")),
        "experience": _band(Candidate.years_experience),
    }[dimension]
    return func.coalesce(column, literal(""))


def employer() -> Any:
    """Postings without a company name are the agency's own: the tenant is the employer."""
    return func.coalesce(Job.company, Job.tenant_id)


def monthly_pay() -> Any:
    """A posting's monthly midpoint, spread over the months paid per year (13薪: × 13/12)."""
    low = func.coalesce(Job.salary_min, Job.salary_max)
    high = func.coalesce(Job.salary_max, Job.salary_min)
    return (low + high) / 2.0 * func.coalesce(Job.salary_months, 12) / 12.0


def data_version(session: Session) -> int:
    """The newest outbox event id (deleted events included): it moves with every change."""
    newest = session.scalar(select(func.max(OutboxEvent.id))) or 0
    return max(int(newest), forgotten_through(session))


def rollup_state(session: Session) -> dict[str, Any] | None:
    row = session.get(InstanceMeta, STATE)
    return json.loads(row.value) if row is not None else None


def _in_months(column: Any, months: set[int] | None) -> Any:
    """``column`` (a UTC timestamp) falls in one of ``months``; None: no restriction."""
    if months is None:
        return true()
    ranges = []
    for month in sorted(months):
        first = datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)
        after = datetime((month + 1) // 12, (month + 1) % 12 + 1, 1, tzinfo=UTC)
        ranges.append(and_(column >= first, column < after))
    return or_(*ranges)


def _rebuild_postings(session: Session, months: set[int] | None) -> None:
    """The posting cohorts of the postings posted in ``months`` (None: all)."""
    for table in (MarketPostingCell, MarketWageBin):
        session.execute(delete(table).where(
            true() if months is None else table.posted_month.in_(months)))  # fmt: skip
    session.execute(delete(MarketEmployerMonth).where(
        true() if months is None else MarketEmployerMonth.month.in_(months)))  # fmt: skip
    chosen = _in_months(Job.posted_at, months)
    posted, closes = _month(session, Job.posted_at), _month(session, Job.open_until)
    city = func.coalesce(Job.city_code, 0)
    paid = Job.salary_min.is_not(None) | Job.salary_max.is_not(None)
    for dimension in POSTING_DIMENSIONS:
        key = _job_key(dimension)
        session.execute(
            insert(MarketPostingCell).from_select(
                [
                    "dimension",
                    "key",
                    "city_code",
                    "posted_month",
                    "close_month",
                    "positions",
                    "postings",
                    "employers",
                    "paid_postings",
                    "paid_employers",
                ],
                select(
                    literal(dimension),
                    key,
                    city,
                    posted,
                    closes,
                    func.sum(Job.headcount),
                    func.count(),
                    func.count(distinct(employer())),
                    func.sum(case((paid, 1), else_=0)),
                    func.count(distinct(case((paid, employer()), else_=None))),
                )
                .where(chosen)
                .group_by(key, city, posted, closes),
            )  # fmt: skip
        )
    pay_bin = cast(monthly_pay() / WAGE_BIN, Integer)
    for dimension in WAGE_DIMENSIONS:
        key = _job_key(dimension)
        session.execute(
            insert(MarketWageBin).from_select(
                [
                    "dimension",
                    "key",
                    "city_code",
                    "posted_month",
                    "close_month",
                    "pay_bin",
                    "postings",
                ],
                select(literal(dimension), key, city, posted, closes, pay_bin, func.count())
                .where(paid, chosen)
                .group_by(key, city, posted, closes, pay_bin),
            )  # fmt: skip
        )
    session.execute(
        insert(MarketEmployerMonth).from_select(
            ["month", "employer"], select(posted, employer()).where(chosen).distinct()
        )
    )


def _rebuild_seekers(session: Session, months: set[int] | None) -> None:
    """The seeker cohorts of the profiles registered in ``months`` (None: all)."""
    session.execute(delete(MarketSeekerCell).where(
        true() if months is None else MarketSeekerCell.created_month.in_(months)))  # fmt: skip
    chosen = _in_months(Candidate.created_at, months)
    created, active = _month(session, Candidate.created_at), _month(session, Candidate.active_until)
    city = func.coalesce(Candidate.city_code, 0)
    for dimension in SEEKER_DIMENSIONS:
        key = _seeker_key(dimension)
        session.execute(
            insert(MarketSeekerCell).from_select(
                ["dimension", "key", "city_code", "created_month", "active_month", "seekers"],
                select(literal(dimension), key, city, created, active, func.count())
                .where(Candidate.active_until.is_not(None), chosen)
                .group_by(key, city, created, active),
            )  # fmt: skip
        )


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Two processes rebuilding at once would insert the same cells twice.
        session.execute(text("SELECT pg_advisory_xact_lock(7415263)"))


def _record(session: Session, version: int) -> dict[str, Any]:
    # Cohorts stay open for a bounded number of months: periods look back no further.
    spans = [
        session.scalar(select(func.max(MarketPostingCell.close_month
                                       - MarketPostingCell.posted_month))),
        session.scalar(select(func.max(MarketSeekerCell.active_month
                                       - MarketSeekerCell.created_month))),
    ]  # fmt: skip
    state = {"version": version, "built_at": utcnow().isoformat(),
             "longest_months": max(int(s or 0) for s in spans)}  # fmt: skip
    session.merge(InstanceMeta(name=STATE, value=json.dumps(state)))
    return state


def rebuild(session: Session) -> dict[str, Any]:
    """Rebuild every rollup in this transaction; returns the state it recorded."""
    _lock(session)
    version = data_version(session)
    session.execute(delete(MarketDirtyMonth))
    _rebuild_postings(session, None)
    _rebuild_seekers(session, None)
    return _record(session, version)


def refresh(session: Session) -> dict[str, Any]:
    """Rebuild the cohorts of the months marked changed, and clear exactly the marks seen
    (a mark added meanwhile stays for the next refresh)."""
    _lock(session)
    version = data_version(session)
    marks = session.execute(select(MarketDirtyMonth.kind, MarketDirtyMonth.month,
                                   MarketDirtyMonth.changes)).all()  # fmt: skip
    jobs = {month for kind, month, _ in marks if kind == "job"}
    seekers = {month for kind, month, _ in marks if kind == "seeker"}
    if jobs:
        _rebuild_postings(session, jobs)
    if seekers:
        _rebuild_seekers(session, seekers)
    for kind, month, changes in marks:
        session.execute(delete(MarketDirtyMonth).where(
            MarketDirtyMonth.kind == kind, MarketDirtyMonth.month == month,
            MarketDirtyMonth.changes == changes,
        ))  # fmt: skip
    return _record(session, version)


def ensure_fresh(session: Session, *, max_age_s: float) -> dict[str, Any]:
    """The rollup's state, after a full rebuild if it was never built, or a refresh of the
    changed months if the data moved on and it is older than ``max_age_s``."""
    state = rollup_state(session)
    if state is None:
        return rebuild(session)
    if state["version"] == data_version(session):
        return state
    age = (utcnow() - datetime.fromisoformat(state["built_at"])).total_seconds()
    if age < max_age_s:
        return state
    return refresh(session)


# --- marking changed months ------------------------------------------------------------------


def _months_of(obj: Any, name: str) -> set[int]:
    """The months of an attribute's current and previous value (a moved posting leaves one
    cohort and joins another)."""
    state = inspect(obj)
    # The attribute's history straight from its state, as ``state.attrs[name].history``
    # reads it: ``state.attrs`` builds a view of every attribute first (a third of a flush
    # of new postings).
    history = state.get_history(name, PASSIVE_NO_INITIALIZE)
    values = [*history.added, *history.unchanged, *history.deleted]
    if not values:  # a default set at insert (or an attribute not loaded): its own value
        values = [state.dict.get(name) or utcnow()]
    return {month_index(v) for v in values if isinstance(v, datetime)} or {month_index(utcnow())}


def _mark_changed_months(session: Session, _context: Any) -> None:
    marks: set[tuple[str, int]] = set()
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, Job):
            marks |= {("job", m) for m in _months_of(obj, "posted_at")}
        elif isinstance(obj, Candidate):
            marks |= {("seeker", m) for m in _months_of(obj, "created_at")}
    if not marks:
        return
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    for kind, month in sorted(marks):
        statement = upsert(MarketDirtyMonth).values(kind=kind, month=month, changes=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=["kind", "month"], set_={"changes": MarketDirtyMonth.changes + 1}))  # fmt: skip


event.listen(Session, "after_flush", _mark_changed_months)
