"""Time the operator's statistics over a large market: ``talentmatch bench --statistics N``.

Fills a fresh database (the embedded default, SQLite; or ``--database-url``) with N GENERATED
postings and N generated job seekers spread over two years, written straight into the
tables (the point is the aggregate queries, not intake), then times every statistics request
as the route runs it (``store.market``), a few repetitions each, and writes
``bench/results/statistics.md``. The data is generated: the timings say how fast the queries
are, nothing about any real market.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from core.settings import DatabaseSettings, Settings
from store import market
from store.db import Database, migrate
from store.market_rollup import rebuild, refresh
from store.models import (
    POSTING_VALIDITY,
    SEEKER_VALIDITY,
    Candidate,
    Job,
    Tenant,
)
from taxonomy.occupations import csco_occupations

SHENZHEN = 440300
DISTRICTS = (440303, 440304, 440305, 440306, 440307, 440308, 440309, 440310, 440311)
EDUCATION = ("none", "high_school", "associate", "bachelor", "master", "doctorate")
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730


def _fill(db: Database, rows: int, seed: int = 17, chunk: int = 20_000) -> float:
    """``rows`` postings and ``rows`` seekers; returns the seconds it took."""
    rng = random.Random(seed)
    codes = [o.code for o in csco_occupations() if o.level == 4]
    # A market is skewed: a few hundred occupations carry most postings.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(codes))]
    began = time.perf_counter()
    with db.session() as session:
        session.execute(insert(Tenant), [{"id": f"agency{i}", "name": f"agency {i}"}
                                         for i in range(50)])  # fmt: skip
    for start in range(0, rows, chunk):
        size = min(chunk, rows - start)
        picked = rng.choices(codes, weights, k=size)
        jobs, people = [], []
        for i in range(size):
            posted = START + timedelta(days=rng.random() * SPAN_DAYS)
            low = rng.choice((4000, 6000, 8000, 10000, 15000, 20000, 30000))
            jobs.append({
                "tenant_id": f"agency{rng.randrange(50)}", "title": "generated posting",
                "description": "", "company": f"company {rng.randrange(20_000)}",
                "city": "深圳", "city_code": SHENZHEN, "district_code": rng.choice(DISTRICTS),
                "salary_min": low, "salary_max": low * rng.choice((1.2, 1.5, 2.0)),
                "salary_months": rng.choice((12, 12, 13, 14)),
                "occupation_code": picked[i], "education": rng.choice(EDUCATION),
                "min_years_experience": rng.choice((None, 1, 3, 5, 10)),
                "headcount": rng.choice((1, 1, 1, 2, 3, 5)), "posted_at": posted,
                "open_until": posted + POSTING_VALIDITY,
            })  # fmt: skip
            changed = START + timedelta(days=rng.random() * SPAN_DAYS)
            people.append({
                "tenant_id": f"agency{rng.randrange(50)}",
                "occupation_code": rng.choices(codes, weights)[0],
                "city": "深圳", "city_code": SHENZHEN,
                "years_experience": rng.choice((0.5, 2, 4, 7, 12)),
                "education": {"level": rng.choice(EDUCATION)},
                "created_at": changed - timedelta(days=rng.random() * 200),
                "updated_at": changed, "active_until": changed + SEEKER_VALIDITY,
            })  # fmt: skip
        with db.session() as session:
            session.execute(insert(Job), jobs)
            session.execute(insert(Candidate), people)
    return time.perf_counter() - began


def _timed(work: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return times


def run_statistics_benchmark(
    *, rows: int, output: str, database_url: str | None = None, repeats: int = 5
) -> int:
    with tempfile.TemporaryDirectory(prefix="talentmatch-stats-") as data_dir:
        settings = Settings(
            environment="test", data_dir=Path(data_dir), db=DatabaseSettings(url=database_url)
        )
        db = Database(settings)
        migrate(db.engine)
        print(f"filling {rows:,} generated postings and {rows:,} generated seekers…", flush=True)
        fill_s = _fill(db, rows)
        began = time.perf_counter()
        with db.session() as session:
            rebuild(session)
        rebuild_s = time.perf_counter() - began
        print(f"rollups rebuilt in {rebuild_s:.1f} s", flush=True)
        # A day of intake: new postings through the ORM (which marks their month changed),
        # then the refresh the background loop would run.
        with db.session() as session:
            session.add_all(
                Job(tenant_id="agency0", title="generated posting", description="",
                    company=f"company {i}", city_code=SHENZHEN, occupation_code="2-02-10-03",
                    salary_min=10000, salary_max=15000, headcount=1,
                    posted_at=START + timedelta(days=SPAN_DAYS - 1))
                for i in range(2000)
            )  # fmt: skip
        began = time.perf_counter()
        with db.session() as session:
            refresh(session)
        refresh_s = time.perf_counter() - began
        print(f"rollups refreshed after 2,000 new postings in {refresh_s:.1f} s", flush=True)
        period = market.parse_period("2026-Q2")
        month = market.parse_period("2026-05")
        requests: dict[str, Callable[[Any], Any]] = {
            "market by occupation group (minor), quarter": lambda s: market.market(
                s, by="occupation_group", period=period),
            "market by occupation, quarter": lambda s: market.market(
                s, by="occupation", period=period),
            "market by district, month": lambda s: market.market(s, by="district", period=month),
            "market by education, quarter": lambda s: market.market(
                s, by="education", period=period),
            "market by experience, quarter": lambda s: market.market(
                s, by="experience", period=period),
            "shortage ranking, quarter": lambda s: market.shortage(s, period=period),
            "wages by occupation, quarter": lambda s: market.wages(
                s, by="occupation", period=period),
            "wages by district, quarter": lambda s: market.wages(s, by="district", period=period),
            "indicators, year": lambda s: market.indicators(s, year=2026),
        }  # fmt: skip
        results = []
        for name, request in requests.items():
            with db.session() as session:
                times = _timed(lambda r=request, s=session: r(s), repeats)  # type: ignore[misc]
            results.append((name, statistics.median(times), max(times)))
            print(f"{name}: median {results[-1][1]:.0f} ms", flush=True)
        dialect = db.engine.dialect.name
        db.dispose()
    lines = [
        "# Statistics requests over a large market (generated data)",
        "",
        f"`talentmatch bench --statistics {rows}`, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, {dialect}. {rows:,} GENERATED postings and {rows:,} GENERATED "
        f"job seekers over 2025–2026 (written straight into the tables in {fill_s:.0f} s); "
        f"each request timed {repeats} times in-process as its route runs it (``store.market``: "
        "the current, previous and year-earlier periods for the market figures). Target: at "
        "most 2 s per request.",
        "",
        f"Rebuilding the rollups the requests read (``store.market_rollup.rebuild``, which the "
        f"API's background loop or the worker runs when the data changed, at most every "
        f"`statistics_refresh_interval_s`): {rebuild_s:.1f} s from scratch; after 2,000 new "
        f"postings in the last month, refreshing the months they changed: {refresh_s:.1f} s.",
        "",
        "| request | median ms | max ms |",
        "|---|---|---|",
        *[f"| {name} | {median:.0f} | {worst:.0f} |" for name, median, worst in results],
        "",
    ]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0
