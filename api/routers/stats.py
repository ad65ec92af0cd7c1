"""/v1/stats: labour-market statistics for the operator (scope ``admin``), as JSON or CSV.

The definitions, the privacy rule (cells under 5 suppressed) and the SQL behind every figure
are in ``store.market``; these routes parse the period and place and shape the answer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from api.deps import Admin, RuntimeDep
from api.runtime import Runtime
from core.errors import InvalidInput
from matching.explain import preferred_language
from store import market
from store.market_rollup import ensure_fresh
from store.normalize import normalize_place

router = APIRouter(prefix="/v1/stats", tags=["statistics"])

AcceptLanguage = Annotated[str | None, Header(description="zh or en: the language of labels")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the rows as a CSV table")]
PeriodText = Annotated[
    str | None,
    Query(description="a month (2026-11), a quarter (2026-Q4) or a year; default: this quarter"),
]
City = Annotated[str | None, Query(description="a city name (深圳, Shenzhen) or code")]
Level = Annotated[
    Literal["major", "middle", "minor"],
    Query(description="occupation_group: the CSCO level (大类, 中类, 小类)"),
]


def _city_code(city: str | None) -> int | None:
    if city is None or not city.strip():
        return None
    if city.strip().isdigit():
        return int(city.strip())
    place = normalize_place(city)
    if place.city_code is None:
        raise InvalidInput(f"unknown city: {city!r}", field="city")
    return place.city_code


@dataclass(frozen=True)
class _Scope:
    """What every market figure is asked for: a period, a place and a label language."""

    span: market.Period
    city_code: int | None
    language: str


def _scope(
    period: PeriodText = None, city: City = None, accept_language: AcceptLanguage = None
) -> _Scope:
    return _Scope(
        market.parse_period(period), _city_code(city), preferred_language(accept_language)
    )


Scope = Annotated[_Scope, Depends(_scope)]


def _fresh(runtime: Runtime, session: Session) -> dict[str, Any]:
    """Bring the rollups up to date if they are due (``store.market_rollup``); when they
    were built, for the answer (``as_of``)."""
    state = ensure_fresh(session, max_age_s=runtime.settings.statistics_refresh_interval_s)
    return {"as_of": state["built_at"]}


def _flat(value: Any) -> Any:
    return "" if value is None else value


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    """Rows as CSV (nested changes flattened to ``demand_change_previous_period`` …)."""
    flat = []
    for row in rows:
        out: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, dict):
                out |= {f"{key}_{inner}": _flat(v) for inner, v in value.items()}
            else:
                out[key] = _flat(value)
        flat.append(out)
    buffer = io.StringIO()
    columns = list(dict.fromkeys(k for row in flat for k in row))
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    # A byte-order mark so that spreadsheet programs read the Chinese labels as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _answer(body: dict[str, Any], fmt: str, name: str) -> Response:
    if fmt == "csv":
        return _csv(body["rows"], name)
    return JSONResponse(body)


@router.get("/market")
def market_statistics(
    _admin: Admin,
    runtime: RuntimeDep,
    scope: Scope,
    by: Annotated[str, Query(description=", ".join(market.DIMENSIONS))] = "occupation_group",
    level: Level = "minor",
    format: Format = "json",
) -> Response:
    """Demand (open positions), active job seekers and 求人倍率 per group, with changes."""
    span, city_code = scope.span, scope.city_code
    with runtime.db.session() as session:
        fresh = _fresh(runtime, session)
        rows = market.market(session, by=by, period=span, city_code=city_code, level=level,
                             language=scope.language)  # fmt: skip
        totals = market.market_totals(session, period=span, city_code=city_code)
    body = {"period": span.label, "previous_period": span.previous().label,
            "year_ago": span.year_before().label, "by": by, "city_code": city_code,
            "min_cell": market.MIN_CELL, "totals": totals,
            "trend_periods": [p.label for p in market.period_axis(span, 6)],
            "rows": rows, **fresh}  # fmt: skip
    return _answer(body, format, f"market-{by}-{span.label}")


@router.get("/shortage")
def shortage_ranking(
    _admin: Admin,
    runtime: RuntimeDep,
    scope: Scope,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    format: Format = "json",
) -> Response:
    """Occupations ranked by the gap demand − seekers (最缺工职业排行), with last period's rank."""
    span = scope.span
    with runtime.db.session() as session:
        fresh = _fresh(runtime, session)
        rows = market.shortage(session, period=span, city_code=scope.city_code, limit=limit,
                               language=scope.language)  # fmt: skip
    body = {"period": span.label, "previous_period": span.previous().label, "rows": rows,
            **fresh}  # fmt: skip
    return _answer(body, format, f"shortage-{span.label}")


@router.get("/wages")
def wage_bands(
    _admin: Admin,
    runtime: RuntimeDep,
    scope: Scope,
    by: Annotated[str, Query(description=", ".join(market.WAGE_DIMENSIONS))] = "occupation",
    level: Level = "minor",
    format: Format = "json",
) -> Response:
    """P10–P90 of posted monthly pay (range midpoints, spread over the months paid)."""
    span = scope.span
    with runtime.db.session() as session:
        fresh = _fresh(runtime, session)
        rows = market.wages(session, by=by, period=span, city_code=scope.city_code, level=level,
                            language=scope.language)  # fmt: skip
    body = {"period": span.label, "by": by, "bin_cny": market.WAGE_BIN, "rows": rows, **fresh}
    return _answer(body, format, f"wages-{by}-{span.label}")


@router.get("/indicators")
def plan_indicators(
    _admin: Admin,
    runtime: RuntimeDep,
    year: Annotated[int | None, Query(description="default: this year")] = None,
    format: Format = "json",
    accept_language: AcceptLanguage = None,
) -> Response:
    """The plan's yearly indicators from the platform's own activity, against the targets."""
    language = preferred_language(accept_language)
    chosen = year if year is not None else market.utcnow().year
    with runtime.db.session() as session:
        fresh = _fresh(runtime, session)
        body = market.indicators(session, year=chosen, language=language) | fresh
    return _answer(body, format, f"indicators-{chosen}")
