"""Labour-market statistics from the platform's own postings and job seekers, as HR bureaus
publish them (``../shared/reference/labour_market_statistics.md``)::

    market(session, by="occupation_group", period=parse_period("2026-Q4"))
    # rows: demand (open positions), seekers, 求人倍率 (demand / seekers), their changes

Definitions:
- demand: the headcount of the postings open in the period (posted before its end, open
  until after its start: ``Job.open_until``), postings of every tenant;
- seekers: the job seekers active in the period (registered before its end, active until
  after its start: ``Candidate.active_until``), by their desired occupation;
- pay: each posting's monthly midpoint, spread over the months paid per year (13薪: × 13/12);
  percentiles come from 500-CNY bins, so they are exact to the bin.

Privacy: a cell with fewer than ``MIN_CELL`` postings or people, or (for postings) fewer than
``MIN_EMPLOYERS`` employers, is suppressed (``None`` with ``suppressed``), so no figure
describes one person or one employer; nothing reads protected attributes of individuals.
Every figure is one SQL aggregate per period (group by the key), never a pass in Python
over the rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import distinct, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from store.market_rollup import WAGE_BIN, month_index, rollup_state
from store.models import (
    Feedback,
    MarketEmployerMonth,
    MarketPostingCell,
    MarketSeekerCell,
    MarketWageBin,
    ServiceCount,
    utcnow,
)
from taxonomy.crosswalk import csco_for_isco
from taxonomy.occupations import csco_occupations
from taxonomy.regions import region_directory

MIN_CELL = 5
MIN_EMPLOYERS = 3

Dimension = Literal["occupation", "occupation_group", "district", "education", "experience"]
GroupLevel = Literal["major", "middle", "minor"]
DIMENSIONS: tuple[str, ...] = ("occupation", "occupation_group", "district", "education",
                               "experience")  # fmt: skip
EXPERIENCE_LABELS = {
    "0-1": {"zh": "1年以下/不限", "en": "under 1 year / any"},
    "1-3": {"zh": "1–3年", "en": "1–3 years"},
    "3-5": {"zh": "3–5年", "en": "3–5 years"},
    "5-10": {"zh": "5–10年", "en": "5–10 years"},
    "10+": {"zh": "10年以上", "en": "10 years or more"},
}
EDUCATION_LABELS = {
    "none": {"zh": "不限", "en": "any"},
    "high_school": {"zh": "高中", "en": "high school"},
    "associate": {"zh": "大专", "en": "associate"},
    "bachelor": {"zh": "本科", "en": "bachelor"},
    "master": {"zh": "硕士", "en": "master"},
    "doctorate": {"zh": "博士", "en": "doctorate"},
}


@dataclass(frozen=True)
class Period:
    """A month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``), in UTC."""

    label: str
    start: datetime
    end: datetime  # exclusive

    def shifted(self, months: int) -> Period:
        """The period of the same kind ``months`` earlier (negative: later)."""
        return _period_at(self.kind, _add_months(self.start, -months))

    @property
    def kind(self) -> str:
        if "Q" in self.label:
            return "quarter"
        return "month" if "-" in self.label else "year"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    def previous(self) -> Period:
        return self.shifted(self.months)

    def year_before(self) -> Period:
        return self.shifted(12)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _period_at(kind: str, start: datetime) -> Period:
    if kind == "month":
        return Period(f"{start.year}-{start.month:02d}", start, _add_months(start, 1))
    if kind == "quarter":
        quarter = (start.month - 1) // 3 + 1
        first = datetime(start.year, 3 * quarter - 2, 1, tzinfo=UTC)
        return Period(f"{start.year}-Q{quarter}", first, _add_months(first, 3))
    first = datetime(start.year, 1, 1, tzinfo=UTC)
    return Period(str(start.year), first, _add_months(first, 12))


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$")


def parse_period(text: str | None, *, today: date | None = None) -> Period:
    """``2026-11``, ``2026-Q4`` or ``2026``; None: the current quarter."""
    if text is None or not text.strip():
        now = today or utcnow().date()
        return _period_at("quarter", datetime(now.year, now.month, 1, tzinfo=UTC))
    found = _PERIOD.match(text.strip())
    if found is None or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidInput(
            "period must be a month (2026-11), a quarter (2026-Q4) or a year (2026)",
            field="period",
        )
    year = int(found.group(1))
    if found.group(2):
        return _period_at("quarter", datetime(year, 3 * int(found.group(2)) - 2, 1, tzinfo=UTC))
    if found.group(3):
        return _period_at("month", datetime(year, int(found.group(3)), 1, tzinfo=UTC))
    return _period_at("year", datetime(year, 1, 1, tzinfo=UTC))


# --- occupation codes and their groups ---------------------------------------------------


@cache
def _csco_names() -> dict[str, str]:
    return {o.code: o.name for o in csco_occupations()}


# ISCO-08 major group → the CSCO 2022 major groups it corresponds to (CSCO 1 负责人, 2 专业技术
# 人员, 3 办事人员, 4 社会生产服务和生活服务人员, 5 农林牧渔, 6 生产制造, 7 军人).
ISCO_TO_CSCO_MAJOR = {
    "1": ("1",), "2": ("2",), "3": ("2", "4"), "4": ("3",), "5": ("4",), "6": ("5",),
    "7": ("6",), "8": ("6",), "9": ("4", "6"), "0": ("7",),
}  # fmt: skip


def _csco_group(code: str, level: GroupLevel) -> str | None:
    parts = code.split("-")
    if len(parts) != 4:
        return None
    keep = {"major": 1, "middle": 2, "minor": 3}[level]
    return "-".join(parts[:keep] + ["00"] * (4 - keep))


@cache
def occupation_group(code: str | None, level: GroupLevel) -> str | None:
    """The CSCO group of a code (``2-02-10-03`` → minor ``2-02-10-00``, middle
    ``2-02-00-00``, major ``2-00-00-00``). An ISCO-08 code (English postings and résumés)
    joins the CSCO group most of its unit group's CSCO occupations belong to, through the
    derived crosswalk (``taxonomy.crosswalk``; hand-checked at about 0.6 for minor groups,
    so English figures in fine groups are approximate); one the crosswalk does not reach
    keeps its own ISCO-08 group."""
    if not code:
        return None
    if code.startswith("ISCO-08:"):
        mapped = csco_for_isco(code)
        # ISCO-08 and CSCO 2022 major groups correspond (professionals 2 → 2, clerks 4 → 3 …):
        # of the CSCO occupations a unit group maps to, those in a matching major group vote.
        majors = ISCO_TO_CSCO_MAJOR.get(code.removeprefix("ISCO-08:")[:1], ())
        voters = [c for c in mapped if c[:1] in majors] or list(mapped)
        votes = Counter(group for csco in voters if (group := _csco_group(csco, level)) is not None)
        if votes:
            return min(votes, key=lambda group: (-votes[group], group))
        digits = code.removeprefix("ISCO-08:")
        return f"ISCO-08:{digits[: {'major': 1, 'middle': 2, 'minor': 3}[level]]}"
    return _csco_group(code, level)


def occupation_label(code: str, language: str) -> str:
    """The occupation's or group's name (CSCO names are Chinese; ISCO groups are shown by
    code)."""
    name = _csco_names().get(code)
    if name:
        return name
    return code.replace("ISCO-08:", "ISCO-08 ")


# --- the aggregates (over the rollup cohorts, ``store.market_rollup``) ----------------------


def _months(period: Period) -> tuple[int, int]:
    """The period's first month and the month after its last."""
    return month_index(period.start), month_index(period.end)


def _cohorts_in(session: Session, started: Any, stops: Any, period: Period) -> list[Any]:
    """Cohorts counting in the period: started before its end, still counting in its first
    month; and, since no cohort counts longer than the longest the rollup holds, started no
    earlier than that before the period (which keeps the scan to a few months)."""
    first, after = _months(period)
    longest = (rollup_state(session) or {}).get("longest_months")
    where = [started < after, stops >= first]
    if longest is not None:
        where.append(started >= first - int(longest))
    return where


def _key_of(by: str, stored: str) -> Any:
    if stored == "":
        return None
    return int(stored) if by == "district" else stored


def _cells_where(
    session: Session, table: Any, by: str, period: Period, city_code: int | None
) -> list[Any]:
    """The rollup rows of one dimension (and city) whose cohorts count in the period."""
    if table is MarketSeekerCell:
        started, stops = table.created_month, table.active_month
    else:
        started, stops = table.posted_month, table.close_month
    where = [table.dimension == _rollup_dimension(by),
             *_cohorts_in(session, started, stops, period)]  # fmt: skip
    if city_code is not None:
        where.append(table.city_code == city_code)
    return where


def _rollup_dimension(by: str) -> str:
    return "occupation" if by == "occupation_group" else by


@dataclass
class Cell:
    """One group's raw counts in one period (employers: a lower bound where cohorts or
    occupations are combined, since one employer can be in several)."""

    demand: int = 0
    postings: int = 0
    employers: int = 0
    seekers: int = 0


def _demand(session: Session, by: str, period: Period, city_code: int | None
            ) -> dict[Any, Cell]:  # fmt: skip
    c = MarketPostingCell
    where = _cells_where(session, c, by, period, city_code)
    rows = session.execute(
        select(c.key, func.sum(c.positions), func.sum(c.postings), func.max(c.employers))
        .where(*where)
        .group_by(c.key)
    )
    return {_key_of(by, k): Cell(demand=int(d or 0), postings=int(n or 0), employers=int(e or 0))
            for k, d, n, e in rows}  # fmt: skip


def _seekers(session: Session, by: str, period: Period, city_code: int | None
             ) -> dict[Any, int] | None:  # fmt: skip
    """Active job seekers by key; None where profiles do not hold the key (district)."""
    if by == "district":
        return None
    c = MarketSeekerCell
    where = _cells_where(session, c, by, period, city_code)
    rows = session.execute(select(c.key, func.sum(c.seekers)).where(*where).group_by(c.key))
    return {_key_of(by, k): int(n or 0) for k, n in rows}


def _wage_bins(session: Session, by: str, period: Period, city_code: int | None
               ) -> dict[Any, list[tuple[int, int]]]:  # fmt: skip
    c = MarketWageBin
    where = _cells_where(session, c, by, period, city_code)
    rows = session.execute(
        select(c.key, c.pay_bin, func.sum(c.postings)).where(*where).group_by(c.key, c.pay_bin)
    )
    bins: dict[Any, list[tuple[int, int]]] = {}
    for k, b, n in rows:
        bins.setdefault(_key_of(by, k), []).append((int(b), int(n)))
    return bins


def _employers_with_pay(session: Session, by: str, period: Period, city_code: int | None
                        ) -> dict[Any, int]:  # fmt: skip
    c = MarketPostingCell
    where = _cells_where(session, c, by, period, city_code)
    rows = session.execute(select(c.key, func.max(c.paid_employers)).where(*where).group_by(c.key))
    return {_key_of(by, k): int(n or 0) for k, n in rows}


def percentile(bins: Iterable[tuple[int, int]], share: float) -> float:
    """The ``share`` quantile (0–1) of values binned by ``WAGE_BIN``, interpolated within its
    bin (values spread evenly inside a bin)."""
    ordered = sorted(bins)
    total = sum(n for _, n in ordered)
    target = share * total
    seen = 0
    for index, count in ordered:
        if seen + count >= target and count:
            inside = (target - seen) / count
            return round((index + inside) * WAGE_BIN, 2)
        seen += count
    return round((ordered[-1][0] + 1) * WAGE_BIN, 2) if ordered else 0.0


# --- grouping, labels, suppression ----------------------------------------------------------


def _regroup(cells: dict[Any, Cell], by: str, level: GroupLevel) -> dict[Any, Cell]:
    if by != "occupation_group":
        return cells
    grouped: dict[Any, Cell] = {}
    for code, cell in cells.items():
        group = occupation_group(code, level)
        into = grouped.setdefault(group, Cell())
        into.demand += cell.demand
        into.postings += cell.postings
        # Employers can appear in several occupations of a group: the sum bounds them above,
        # and the largest member bounds them below; suppression uses the lower bound.
        into.employers = max(into.employers, cell.employers)
        into.seekers += cell.seekers
    return grouped


def _label(by: str, key: Any, language: str, district_names: dict[int, str]) -> str:
    if key is None:
        return {"zh": "未知", "en": "unknown"}[language]
    if by in ("occupation", "occupation_group"):
        return occupation_label(str(key), language)
    if by == "district":
        return district_names.get(int(key), str(key))
    if by == "education":
        return EDUCATION_LABELS.get(str(key), {}).get(language, str(key))
    return EXPERIENCE_LABELS.get(str(key), {}).get(language, str(key))


def _district_names(language: str) -> dict[int, str]:
    regions = region_directory().by_code.values()
    return {r.code: (r.name if language == "zh" else r.pinyin or r.name) for r in regions}


@dataclass
class Shown:
    """A figure as published: its value, or None when the cell is too small to show."""

    value: float | int | None
    suppressed: bool

    @classmethod
    def of(cls, value: float | int, enough: bool) -> Shown:
        return cls(value if enough else None, not enough)


def _shown_demand(cell: Cell) -> Shown:
    return Shown.of(cell.demand, cell.postings >= MIN_CELL and cell.employers >= MIN_EMPLOYERS)


def _shown_seekers(cell: Cell, available: bool) -> Shown:
    if not available:
        return Shown(None, False)
    return Shown.of(cell.seekers, cell.seekers >= MIN_CELL)


def _ratio(demand: Shown, seekers: Shown) -> Shown:
    if demand.value is None or seekers.value is None:
        return Shown(None, demand.suppressed or seekers.suppressed)
    if not seekers.value:
        return Shown(None, False)
    return Shown(round(float(demand.value) / float(seekers.value), 3), False)


def _change(now: Shown, before: Shown) -> float | int | None:
    if now.value is None or before.value is None:
        return None
    difference = now.value - before.value
    return round(difference, 3) if isinstance(difference, float) else difference


@dataclass
class MarketCells:
    cells: dict[Any, Cell]
    seekers_available: bool


def _cells(session: Session, by: str, period: Period, city_code: int | None,
           level: GroupLevel) -> MarketCells:  # fmt: skip
    demand = _demand(session, by, period, city_code)
    seekers = _seekers(session, by, period, city_code)
    cells = dict(demand)
    for key, count in (seekers or {}).items():
        cells.setdefault(key, Cell()).seekers = count
    return MarketCells(_regroup(cells, by, level), seekers is not None)


@dataclass
class MarketRow:
    key: Any
    label: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, **self.figures}


def _figures(cell: Cell, available: bool) -> dict[str, Shown]:
    demand, seekers = _shown_demand(cell), _shown_seekers(cell, available)
    return {"demand": demand, "seekers": seekers, "ratio": _ratio(demand, seekers)}


def market(
    session: Session, *, by: str, period: Period, city_code: int | None = None,
    level: GroupLevel = "minor", language: str = "zh",
) -> list[dict[str, Any]]:  # fmt: skip
    """Demand, seekers and 求人倍率 per group, with the change against the previous period
    and the same period a year earlier (None where either side is suppressed)."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"by must be one of {', '.join(DIMENSIONS)}", field="by")
    now = _cells(session, by, period, city_code, level)
    before = _cells(session, by, period.previous(), city_code, level)
    year_ago = _cells(session, by, period.year_before(), city_code, level)
    districts = _district_names(language) if by == "district" else {}
    total_demand = sum(c.demand for c in now.cells.values())
    total_seekers = sum(c.seekers for c in now.cells.values())
    rows = []
    for key, cell in now.cells.items():
        figures = _figures(cell, now.seekers_available)
        previous = _figures(before.cells.get(key, Cell()), before.seekers_available)
        last_year = _figures(year_ago.cells.get(key, Cell()), year_ago.seekers_available)
        row: dict[str, Any] = {"key": key, "label": _label(by, key, language, districts)}
        for name, shown in figures.items():
            row[name] = shown.value
            row[f"{name}_suppressed"] = shown.suppressed
            row[f"{name}_change"] = {
                "previous_period": _change(shown, previous[name]),
                "year_ago": _change(shown, last_year[name]),
            }
        demand, seekers = figures["demand"].value, figures["seekers"].value
        row["demand_share"] = round(demand / total_demand, 4) if demand and total_demand else None
        row["seekers_share"] = (
            round(seekers / total_seekers, 4) if seekers and total_seekers else None
        )
        rows.append(row)
    rows.sort(key=lambda r: (-(r["demand"] or 0), str(r["key"])))
    return rows


def market_totals(session: Session, *, period: Period, city_code: int | None = None
                  ) -> dict[str, Any]:  # fmt: skip
    """The whole market's demand, seekers and ratio in the period (same suppression):
    every posting and profile has an education key (不限 when unknown), so its cells sum to
    the whole."""
    demand = _demand(session, "education", period, city_code).values()
    seekers = (_seekers(session, "education", period, city_code) or {}).values()
    cell = Cell(demand=sum(c.demand for c in demand), postings=sum(c.postings for c in demand),
                employers=max((c.employers for c in demand), default=0), seekers=sum(seekers))  # fmt: skip
    figures = _figures(cell, True)
    return {name: shown.value for name, shown in figures.items()} | {
        f"{name}_suppressed": shown.suppressed for name, shown in figures.items()
    }


def shortage(
    session: Session, *, period: Period, city_code: int | None = None, limit: int = 20,
    language: str = "zh",
) -> list[dict[str, Any]]:  # fmt: skip
    """Occupations ranked by the gap demand − seekers (最缺工职业排行), with last period's rank;
    suppressed cells are not ranked."""

    def ranking(at: Period) -> list[tuple[Any, Cell]]:
        found = _cells(session, "occupation", at, city_code, "minor")
        shown = [
            (key, cell) for key, cell in found.cells.items()
            if key is not None and _shown_demand(cell).value is not None
            and _shown_seekers(cell, True).value is not None
        ]  # fmt: skip
        return sorted(shown, key=lambda kc: (-(kc[1].demand - kc[1].seekers), str(kc[0])))

    previous_rank = {key: rank for rank, (key, _) in enumerate(ranking(period.previous()), 1)}
    rows = []
    for rank, (key, cell) in enumerate(ranking(period)[:limit], start=1):
        before = previous_rank.get(key)
        rows.append({
            "rank": rank, "key": key, "label": occupation_label(str(key), language),
            "demand": cell.demand, "seekers": cell.seekers, "gap": cell.demand - cell.seekers,
            "ratio": round(cell.demand / cell.seekers, 3) if cell.seekers else None,
            "previous_rank": before, "rank_change": None if before is None else before - rank,
        })  # fmt: skip
    return rows


WAGE_DIMENSIONS = ("occupation", "occupation_group", "district", "education")


def wages(
    session: Session, *, by: str, period: Period, city_code: int | None = None,
    level: GroupLevel = "minor", language: str = "zh",
) -> list[dict[str, Any]]:  # fmt: skip
    """P10, P25, P50, P75 and P90 of posted monthly pay per group, with the posting count."""
    if by not in WAGE_DIMENSIONS:
        raise InvalidInput(f"by must be one of {', '.join(WAGE_DIMENSIONS)}", field="by")
    bins = _wage_bins(session, by, period, city_code)
    employers = _employers_with_pay(session, by, period, city_code)
    grouped: dict[Any, dict[int, int]] = {}
    employer_floor: dict[Any, int] = {}
    for key, pairs in bins.items():
        group = occupation_group(key, level) if by == "occupation_group" else key
        into = grouped.setdefault(group, {})
        for index, count in pairs:
            into[index] = into.get(index, 0) + count
        employer_floor[group] = max(employer_floor.get(group, 0), employers.get(key, 0))
    districts = _district_names(language) if by == "district" else {}
    rows = []
    for key, histogram in grouped.items():
        postings = sum(histogram.values())
        enough = postings >= MIN_CELL and employer_floor.get(key, 0) >= MIN_EMPLOYERS
        row: dict[str, Any] = {
            "key": key, "label": _label(by, key, language, districts),
            "postings": postings if enough else None, "suppressed": not enough,
        }  # fmt: skip
        for name, share in (("p10", 0.1), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75),
                            ("p90", 0.9)):  # fmt: skip
            row[name] = percentile(histogram.items(), share) if enough else None
        rows.append(row)
    rows.sort(key=lambda r: (-(r["postings"] or 0), str(r["key"])))
    return rows


# --- the plan's indicators --------------------------------------------------------------------

# 深圳市人力资源服务业发展"十四五"规划: yearly targets for 2025 (the reference file).
PLAN_TARGETS = {
    "job_seeker_services": 30_000_000,
    "placements": 30_000,
    "postings_published": 10_000_000,
    "employers_served": 1_500_000,
}
INDICATOR_LABELS = {
    "job_seeker_services": {"zh": "求职者服务人次", "en": "job-seeker services"},
    "placements": {"zh": "成功推荐就业", "en": "placements"},
    "postings_published": {"zh": "发布岗位", "en": "postings published"},
    "employers_served": {"zh": "服务用人单位", "en": "employers served"},
}
SERVICE_KINDS = ("search", "recommendation", "application")
CHANNELS = ("partner", "widget")


def record_service(session: Session, *, tenant_id: str, channel: str, kind: str) -> None:
    """Count one service to a job seeker (an atomic upsert: concurrent requests add up)."""
    day = utcnow().date().isoformat()
    values = {"day": day, "tenant_id": tenant_id, "channel": channel, "kind": kind, "count": 1}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ServiceCount).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "tenant_id", "channel", "kind"],
        set_={"count": ServiceCount.count + 1},
    )
    session.execute(statement)


def indicators(session: Session, *, year: int, today: date | None = None,
               language: str = "zh") -> dict[str, Any]:  # fmt: skip
    """The plan's indicators from the platform's activity in ``year``, each against its
    yearly target pro rata (the share of the year elapsed by ``today``)."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("year must be between 2000 and 2100", field="year")
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    now = today or utcnow().date()
    days = (end - start).days
    elapsed = min(max((datetime(now.year, now.month, now.day, tzinfo=UTC) - start).days + 1,
                      0), days)  # fmt: skip
    services = session.execute(
        select(ServiceCount.kind, func.sum(ServiceCount.count))
        .where(ServiceCount.day >= f"{year}-01-01", ServiceCount.day < f"{year + 1}-01-01")
        .group_by(ServiceCount.kind)
    ).all()
    by_kind = {kind: int(n or 0) for kind, n in services}
    applications = session.scalar(
        select(func.count()).where(
            Feedback.actor == "seeker",
            Feedback.action == "applied",
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )  # fmt: skip
    )
    by_kind["application"] = by_kind.get("application", 0) + int(applications or 0)
    first, after = month_index(start), month_index(end)
    cells = MarketPostingCell
    published = session.scalar(
        select(func.sum(cells.postings)).where(
            cells.dimension == "education",
            cells.posted_month >= first,
            cells.posted_month < after,
        )  # fmt: skip
    )
    employers = session.scalar(
        select(func.count(distinct(MarketEmployerMonth.employer))).where(
            MarketEmployerMonth.month >= first, MarketEmployerMonth.month < after
        )
    )
    placements = session.scalar(
        select(func.count()).where(
            Feedback.actor == "recruiter",
            Feedback.action == "hired",
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )  # fmt: skip
    )
    values = {
        "job_seeker_services": sum(by_kind.get(k, 0) for k in SERVICE_KINDS),
        "placements": int(placements or 0),
        "postings_published": int(published or 0),
        "employers_served": int(employers or 0),
    }
    rows = []
    for key, value in values.items():
        target = PLAN_TARGETS[key]
        to_date = round(target * elapsed / days)
        rows.append({
            "key": key, "label": INDICATOR_LABELS[key][language], "value": value,
            "target_year": target, "target_to_date": to_date,
            "share_of_target_to_date": round(value / to_date, 6) if to_date else None,
        })  # fmt: skip
    return {
        "year": year,
        "days_elapsed": elapsed,
        "days_in_year": days,
        "rows": rows,
        "job_seeker_services_by_kind": {k: by_kind.get(k, 0) for k in SERVICE_KINDS},
    }


def period_axis(last: Period, count: int) -> list[Period]:
    """``count`` periods of ``last``'s kind ending with it, oldest first (report charts)."""
    return [last.shifted(last.months * back) for back in range(count - 1, -1, -1)]
