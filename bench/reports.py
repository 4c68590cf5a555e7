"""The funnel and week-over-week reports on a generated database, each against one hand-written SQL query.

    .venv/bin/python -m bench.reports --db URL [--repeat 20] [--anchor 2026-11-23] [--upgrade] [--json FILE]

The database is one `bench.generate` filled (a SQLite file or a PostgreSQL database, kept between runs); it is
only read, and must be migrated to this code's head (--upgrade runs the migrations first, then analyses).
The anchor (the data's last day) defaults to the local date of the newest history row, and "now" is 18:00
local that day, as the generator has it. Measured, each the median and 95th percentile of --repeat runs
after two warm-ups, each service taking turns with its query (so a busy spell slows both alike):

Before anything is timed the kept report figures (reports/rollup) are brought up to date, as `pipeline reports
refresh` would (a generated database starts with every deal pending; the time it took is printed), so the
funnel service reads them, as it does for the whole company in the app.

1. **funnel, hand-written SQL**: one `text()` query computing every figure of the funnel (docs/reports.md,
   "Funnel for a period P") for the 90 days ending at the anchor, for the whole company: the pipeline at
   min(end, now) per stage, the stays that ended in the period (count, median and 90th-percentile days),
   conversion per stage (entered, reached next, lost here) and the outcomes (won, lost, amounts, sales cycle);
   weighted amounts, the open pipeline and velocity follow in Python, as the service does;
2. **funnel, hand-written SQL over the kept counts**: the same figures in one query over the kept counts'
   tables (the service's own source, so the like-for-like baseline the ratio is taken to);
3. **funnel service**: `pipeline.reports.funnel.funnel(ReportScope(), period, now)`;
4. **week over week, hand-written SQL**: one query for the last full ISO week before the anchor against the
   week before it: both pipelines, every kind of change counted for both weeks, and the newest 200 changes
   of each kind in the week with the deal's title and the user's name;
5. **week over week service**: `pipeline.reports.weekly.week_over_week(ReportScope(), week, now=now)`.

Before timing, every figure the service returns is compared with the hand-written query's (exactly, except
day lengths, which may differ in the last float digits between two ways of subtracting moments); any
difference is printed and the run exits 1. Targets (issues 4 and 7): the funnel within 150 ms and 1.5× the
hand-written query over the kept counts, week over week within 300 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from bench import describe_db, machine_description, print_table

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import TextClause

    from pipeline.reports.periods import Period

FIVE = "('qualify', 'evaluate', 'propose', 'close', 'follow_up')"
CONVERTING = ("qualify", "evaluate", "propose", "close")
NEXT = {"qualify": "evaluate", "evaluate": "propose", "propose": "close", "close": "follow_up"}
FUNNEL_TARGET_MS, FUNNEL_TARGET_RATIO, WEEKLY_TARGET_MS = 150.0, 1.5, 300.0
CENT = Decimal("0.01")
DAY_TOLERANCE = 1e-6  # days: two correct ways of subtracting moments may differ in the last digits


# ---- The hand-written queries ----------------------------------------------------------------------------------


def days(later: str, earlier: str, dialect: str) -> str:
    """Days between two moments, not rounded."""
    if dialect == "postgresql":
        return f"(EXTRACT(EPOCH FROM {later} - {earlier})::float8 / 86400.0)"
    return f"(julianday({later}) - julianday({earlier}))"


def snapshot_ctes(moments: int, kept: bool = False) -> str:
    """CTEs ending in `snapshot(k, stage, n, cents)`: the pipeline at each moment :m1, :m2 … (docs/reports.md).

    Today's totals per stage, with every step after the moment taken back: a move takes the deal (at the amount
    it had then, kept on the history row) out of the stage it entered and back into the one it left (none for
    its creation); an amount change swaps the new amount for the old in the stage the deal was in (kept on the
    change). Only the history after the moment is read, and no deal rows but today's totals (`kept`: the kept
    stage totals of reports/rollup instead of summing the deals).
    """
    cents = "CAST(ROUND(CAST({} AS NUMERIC) * 100) AS BIGINT)"
    today = (
        "SELECT stage, n, cents FROM rollup_stage_totals"
        if kept
        else f"SELECT stage, COUNT(*) AS n, SUM(amount_cents) AS cents FROM deals WHERE stage IN {FIVE} GROUP BY stage"
    )
    ctes = [f"now_totals AS ({today})"]
    parts = []
    for k in range(1, moments + 1):
        ctes.append(
            f"""steps_{k} AS (
    SELECT to_stage AS stage, -1 AS n, -amount_cents AS cents FROM stage_events WHERE at > :m{k}
    UNION ALL
    SELECT from_stage, 1, amount_cents FROM stage_events WHERE at > :m{k} AND from_stage IS NOT NULL
    UNION ALL
    SELECT stage, 0, {cents.format("old_value")} - {cents.format("new_value")}
    FROM field_changes WHERE entity = 'deal' AND field = 'amount' AND at > :m{k}
)"""
        )
        parts += [f"SELECT {k} AS k, stage, n, cents FROM now_totals", f"SELECT {k}, stage, n, cents FROM steps_{k}"]
    union = "\n        UNION ALL ".join(parts)
    ctes.append(
        f"""snapshot AS (
    SELECT k, stage, SUM(n) AS n, SUM(cents) AS cents FROM (
        {union}
    ) parts
    WHERE stage IN {FIVE}
    GROUP BY k, stage
)"""
    )
    return ",\n".join(ctes)


def percentiles(value: str, group: str, source: str, dialect: str) -> str:
    """A SELECT of (group, n, median, p90) over `source` by nearest rank: x_k with k = ⌈p·n⌉."""
    if dialect == "postgresql":  # percentile_disc(p) is x_k with k = ⌈p·n⌉; one sort for both
        return f"""SELECT g, n, ps[1] AS median, ps[2] AS p90 FROM (
            SELECT {group} AS g, COUNT(*) AS n,
                   percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {value}) AS ps
            FROM {source} GROUP BY {group}) percentiles"""
    return f"""SELECT g, MAX(n) AS n,
               MAX(CASE WHEN r = (n * 50 + 99) / 100 THEN v END) AS median,
               MAX(CASE WHEN r = (n * 90 + 99) / 100 THEN v END) AS p90
        FROM (SELECT {group} AS g, {value} AS v,
                     ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {value}) AS r,
                     COUNT(*) OVER (PARTITION BY {group}) AS n
              FROM {source}) ranked
        GROUP BY g"""


def funnel_sql(dialect: str) -> str:
    """The funnel of the period [:start, :end) (local dates :first … :last) for the whole company, in one query."""
    conversion_columns = ",\n        ".join(
        f"MIN(id) FILTER (WHERE to_stage = '{x}' AND at < :end) AS in_{x},\n"
        f"        MAX(id) FILTER (WHERE to_stage = '{NEXT[x]}') AS next_{x},\n"
        f"        MAX(id) FILTER (WHERE to_stage = 'lost' AND from_stage = '{x}') AS lost_{x}"
        for x in CONVERTING
    )
    conversion_totals = ",\n        ".join(
        f"COUNT(in_{x}) AS entered_{x}, COUNT(CASE WHEN next_{x} > in_{x} THEN 1 END) AS reached_{x}, "
        f"COUNT(CASE WHEN lost_{x} > in_{x} THEN 1 END) AS lost_{x}"
        for x in CONVERTING
    )
    conversion_rows = "\nUNION ALL ".join(
        f"SELECT 'conversion', '{x}', entered_{x}, reached_{x}, lost_{x}, NULL FROM converted" for x in CONVERTING
    )
    stay_days = days("at", "from_entered_at", dialect)
    cycle_days = days("w.won_at", "d.created_at", dialect)
    return f"""
WITH {snapshot_ctes(1)},
ended AS (
    SELECT from_stage, {stay_days} AS days FROM stage_events
    WHERE at >= :start AND at < :end AND from_stage IN {FIVE} AND from_entered_at IS NOT NULL
),
stays AS ({percentiles("days", "from_stage", "ended", dialect)}),
-- Conversion: one pass over the history since the period began. Per deal, its first entry to each stage
-- inside the period and its latest moves on and out; a later id is a later move of the same deal.
-- `+deal_id` keeps SQLite reading the period through the `at` index rather than walking all history in
-- deal order to skip a sort; PostgreSQL plans it the same either way.
per_deal AS (
    SELECT {conversion_columns}
    FROM stage_events WHERE at >= :start
    GROUP BY +deal_id
),
converted AS (
    SELECT {conversion_totals}
    FROM per_deal
),
-- Won in the period: won_on is the local date of the deal's last win, so that win lies inside [start, end).
won AS (
    SELECT d.amount_cents AS cents, {cycle_days} AS cycle, 1 AS g
    FROM (SELECT deal_id, MAX(at) AS won_at FROM stage_events
          WHERE to_stage = 'follow_up' AND from_stage = 'close' AND at >= :start AND at < :end
          GROUP BY deal_id) w
    JOIN deals d ON d.id = w.deal_id
    WHERE d.stage IN ('follow_up', 'done') AND d.won_on BETWEEN :first AND :last
),
won_cycle AS ({percentiles("cycle", "g", "won", dialect)})
SELECT 'pipeline' AS part, stage, n AS a, cents AS b, NULL AS c, NULL AS d FROM snapshot
UNION ALL SELECT 'stays', g, n, NULL, median, p90 FROM stays
UNION ALL {conversion_rows}
UNION ALL SELECT 'won', NULL, COUNT(*), SUM(cents), (SELECT median FROM won_cycle), NULL FROM won
UNION ALL SELECT 'lost', NULL, COUNT(*), SUM(amount_cents), NULL, NULL FROM deals
          WHERE stage = 'lost' AND lost_on BETWEEN :first AND :last
"""


KIND_OF_MOVE = """CASE WHEN e.trigger = 'create' THEN 'created'
             WHEN e.trigger = 'advance' AND e.to_stage = 'follow_up' THEN 'won'
             WHEN e.trigger IN ('advance', 'complete') THEN 'advanced'
             WHEN e.trigger = 'revert' THEN 'moved_back'
             WHEN e.trigger = 'lose' THEN 'lost'
             WHEN e.trigger = 'reopen' THEN 'reopened' END"""


def weekly_sql(dialect: str) -> str:
    """Week [:w_start, :w_end) against [:c_start, :c_end): both pipelines, counts of each kind, newest rows."""
    del dialect  # the same SQL reads right on both databases
    return f"""
WITH {snapshot_ctes(2)},
changes AS (
    SELECT {KIND_OF_MOVE} AS kind,
           e.deal_id, e.from_stage AS from_value, e.to_stage AS to_value, e.user_id, e.at,
           COALESCE(e.lost_reason_key, e.reason) AS note, e.id AS seq
    FROM stage_events e
    WHERE (e.at >= :w_start AND e.at < :w_end) OR (e.at >= :c_start AND e.at < :c_end)
    UNION ALL
    SELECT CASE f.field WHEN 'amount' THEN 'amount_changed' WHEN 'strategy' THEN 'strategy_changed'
                        ELSE 'close_date_slipped' END,
           f.entity_id, f.old_value, f.new_value, f.user_id, f.at, '', f.id
    FROM field_changes f
    WHERE f.entity = 'deal'
      AND ((f.at >= :w_start AND f.at < :w_end) OR (f.at >= :c_start AND f.at < :c_end))
      AND (f.field IN ('amount', 'strategy')
           OR (f.field = 'expected_close_date' AND f.new_value > f.old_value))  -- ISO dates: later sorts later
),
newest AS (
    SELECT c.*, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY at DESC, seq DESC) AS r
    FROM changes c WHERE at >= :w_start AND at < :w_end
)
SELECT 'pipeline' AS part, CAST(k AS VARCHAR(1)) AS kind, stage, n, cents,
       CAST(NULL AS VARCHAR(200)) AS title, CAST(NULL AS TEXT) AS from_value, CAST(NULL AS TEXT) AS to_value,
       CAST(NULL AS INTEGER) AS user_id, CAST(NULL AS VARCHAR(100)) AS user_name, CAST(NULL AS TIMESTAMP) AS at,
       CAST(NULL AS TEXT) AS note, CAST(NULL AS INTEGER) AS seq
FROM snapshot
UNION ALL
SELECT 'count', kind, CASE WHEN at >= :w_start AND at < :w_end THEN 'week' ELSE 'compare' END, COUNT(*), NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM changes GROUP BY kind, CASE WHEN at >= :w_start AND at < :w_end THEN 'week' ELSE 'compare' END
UNION ALL
SELECT 'row', n.kind, NULL, n.deal_id, NULL, d.title, n.from_value, n.to_value, n.user_id, u.name, n.at, n.note, n.seq
FROM newest n JOIN deals d ON d.id = n.deal_id LEFT JOIN users u ON u.id = n.user_id
WHERE n.r <= 200
"""


def typed(sql: str, params: dict[str, Any]) -> TextClause:
    """The query with its parameters bound as the columns store them (UTC moments, local dates)."""
    from sqlalchemy import Date, bindparam, text

    from pipeline.core.models import UTCDateTime

    binds = [
        bindparam(name, type_=UTCDateTime() if isinstance(value, datetime) else Date())
        for name, value in params.items()
        if isinstance(value, date) and f":{name}" in sql
    ]
    return text(sql).bindparams(*binds)


# ---- Figures, from the service and from the query, in one comparable shape -------------------------------------


def money(cents: int | None) -> Decimal:
    """Whole cents as yuan."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT, ROUND_HALF_UP)


def weighted(stage: str, amount: Decimal) -> Decimal:
    """An amount weighted by the stage's probability, rounded half up to the cent once (docs/reports.md, Money)."""
    from pipeline.deals.method import ALL_STATES

    return (amount * ALL_STATES[stage].probability).quantize(CENT, ROUND_HALF_UP)


def funnel_from_service(f: Any) -> dict[str, Any]:
    o = f.outcomes
    return {
        "stages": {
            s.stage: {
                "count": s.totals.count,
                "amount": s.totals.amount,
                "weighted": s.totals.weighted,
                "stays": s.stays,
                "days_median": s.days_median,
                "days_p90": s.days_p90,
                "conversion": None
                if s.conversion is None
                else (s.conversion.entered, s.conversion.reached_next, s.conversion.lost_here),
            }
            for s in f.stages
        },
        "outcomes": (o.won, o.won_amount, o.lost, o.lost_amount, o.cycle_days),
        "open": (f.open_totals.count, f.open_totals.amount, f.open_totals.weighted),
        "velocity": f.velocity,
    }


def kept_funnel_sql() -> str:
    """The same funnel from the kept counts (reports/rollup) in one query, with no deal pending (bench checks).

    Each percentile: the length bucket where the running count of the period's stays (or wins) reaches rank
    ⌈p·n⌉, then that bucket's stays numbered by length to pick the value of the rank left over.
    """
    stages = " UNION ALL ".join(f"SELECT '{x}' AS stage" for x in CONVERTING)
    return f"""
WITH {snapshot_ctes(1, kept=True)},
stay_b AS (
    SELECT stage, bucket, CAST(SUM(n) AS BIGINT) AS n FROM rollup_stay_counts WHERE day BETWEEN :first AND :last
    GROUP BY stage, bucket
),
stay_run AS (
    SELECT stage, bucket, n, CAST(SUM(n) OVER (PARTITION BY stage ORDER BY bucket) AS BIGINT) AS upto,
           CAST(SUM(n) OVER (PARTITION BY stage) AS BIGINT) AS total
    FROM stay_b
),
stay_want AS (
    SELECT stage, total, p, (total * p + 99) / 100 AS k
    FROM (SELECT DISTINCT stage, total FROM stay_run WHERE total > 0) s
    CROSS JOIN (SELECT 50 AS p UNION ALL SELECT 90) ps
),
stay_pick AS (
    SELECT w.stage, w.total, w.p, r.bucket, w.k - (r.upto - r.n) AS rnk
    FROM stay_want w JOIN stay_run r ON r.stage = w.stage AND r.upto - r.n < w.k AND r.upto >= w.k
),
stay_ranked AS (
    SELECT pk.stage, pk.total, pk.p, pk.rnk, s.seconds,
           ROW_NUMBER() OVER (PARTITION BY pk.stage, pk.p ORDER BY s.seconds) AS rn
    FROM stay_pick pk
    JOIN rollup_stays s ON s.stage = pk.stage AND s.bucket = pk.bucket AND s.day BETWEEN :first AND :last
),
stays AS (
    SELECT stage AS g, MAX(total) AS n, MAX(CASE WHEN p = 50 THEN seconds END) / 86400.0 AS median,
           MAX(CASE WHEN p = 90 THEN seconds END) / 86400.0 AS p90
    FROM stay_ranked WHERE rn = rnk GROUP BY stage
),
entries AS (
    SELECT stage, SUM(entered) AS e, SUM(reached) AS r, SUM(lost) AS l FROM rollup_entry_counts
    WHERE day BETWEEN :first AND :last AND previous_day < :first GROUP BY stage
),
won_b AS (
    SELECT bucket, CAST(SUM(n) AS BIGINT) AS n, SUM(cents) AS cents FROM rollup_won_counts
    WHERE day BETWEEN :first AND :last
    GROUP BY bucket
),
won_run AS (
    SELECT bucket, n, CAST(SUM(n) OVER (ORDER BY bucket) AS BIGINT) AS upto,
           (CAST(SUM(n) OVER () AS BIGINT) * 50 + 99) / 100 AS k
    FROM won_b
),
won_ranked AS (
    SELECT r.won_seconds, w.k - (w.upto - w.n) AS rnk, ROW_NUMBER() OVER (ORDER BY r.won_seconds) AS rn
    FROM won_run w
    JOIN rollup_deals r ON r.won_bucket = w.bucket AND r.won_day BETWEEN :first AND :last
    WHERE w.upto - w.n < w.k AND w.upto >= w.k
)
SELECT 'pipeline' AS part, stage, n AS a, cents AS b, NULL AS c, NULL AS d FROM snapshot
UNION ALL SELECT 'stays', g, n, NULL, median, p90 FROM stays
UNION ALL SELECT 'conversion', x.stage, COALESCE(e, 0), COALESCE(r, 0), COALESCE(l, 0), NULL
          FROM ({stages}) x LEFT JOIN entries USING (stage)
UNION ALL SELECT 'won', NULL, COALESCE((SELECT SUM(n) FROM won_b), 0), (SELECT SUM(cents) FROM won_b),
          (SELECT won_seconds / 86400.0 FROM won_ranked WHERE rn = rnk), NULL
UNION ALL SELECT 'lost', NULL, COALESCE(SUM(n), 0), SUM(cents), NULL, NULL FROM rollup_lost_counts
          WHERE day BETWEEN :first AND :last
"""


def funnel_from_rows(rows: list[Any]) -> dict[str, Any]:
    from pipeline.deals.method import STAGE_KEYS

    stages = {
        key: {
            "count": 0,
            "amount": money(0),
            "weighted": money(0),
            "stays": 0,
            "days_median": None,
            "days_p90": None,
            "conversion": None,
        }
        for key in STAGE_KEYS
    }
    won = lost = (0, money(0))
    cycle = None
    for part, stage, a, b, c, d in rows:
        if part == "pipeline":
            amount = money(b)
            stages[stage].update(count=int(a), amount=amount, weighted=weighted(stage, amount))
        elif part == "stays":
            stages[stage].update(stays=int(a), days_median=c, days_p90=d)
        elif part == "conversion":
            stages[stage]["conversion"] = (int(a), int(b), int(c))
        elif part == "won":
            won, cycle = (int(a), money(b)), c
        elif part == "lost":
            lost = (int(a), money(b))
    open_stages = [stages[k] for k in STAGE_KEYS if k != "follow_up"]
    open_count = sum(s["count"] for s in open_stages)
    velocity = None
    if won[0] and cycle:  # from the unrounded average won size, rounded once
        win_rate = Decimal(won[0]) / Decimal(won[0] + lost[0])
        velocity = (open_count * win_rate * (won[1] / won[0]) / Decimal(str(cycle))).quantize(CENT, ROUND_HALF_UP)
    return {
        "stages": stages,
        "outcomes": (won[0], won[1], lost[0], lost[1], cycle),
        "open": (
            open_count,
            sum((s["amount"] for s in open_stages), money(0)),
            sum((s["weighted"] for s in open_stages), money(0)),
        ),
        "velocity": velocity,
    }


def weekly_from_service(report: Any) -> dict[str, Any]:
    def totals(by_stage: dict[str, Any]) -> dict[str, tuple[int, Decimal, Decimal]]:
        return {k: (t.count, t.amount, t.weighted) for k, t in by_stage.items()}

    return {
        "now": totals(report.now),
        "before": totals(report.before),
        "changes": {
            c.kind: (
                c.count,
                c.compare_count,
                [(r.deal_id, r.title, r.from_value, r.to_value, r.user_id, r.user_name, r.at, r.note) for r in c.rows],
            )
            for c in report.changes
        },
    }


def weekly_from_rows(rows: list[Any]) -> dict[str, Any]:
    from pipeline.deals.method import STAGE_KEYS
    from pipeline.reports.weekly import KINDS

    snapshots: dict[str, dict[str, tuple[int, Decimal, Decimal]]] = {
        name: {k: (0, money(0), money(0)) for k in STAGE_KEYS} for name in ("now", "before")
    }
    counts: dict[tuple[str, str], int] = {}
    newest: dict[str, list[tuple[Any, ...]]] = {k: [] for k in KINDS}
    for part, kind, stage, n, cents, title, from_value, to_value, user_id, user_name, at, note, seq in rows:
        if part == "pipeline":
            amount = money(cents)
            snapshots["now" if kind == "1" else "before"][stage] = (int(n), amount, weighted(stage, amount))
        elif part == "count":
            counts[(kind, stage)] = int(n)
        else:
            newest[kind].append(
                (at, seq, (int(n), title, from_value, to_value, user_id, user_name or "", at, note or ""))
            )
    return {
        **snapshots,
        "changes": {
            kind: (
                counts.get((kind, "week"), 0),
                counts.get((kind, "compare"), 0),
                [row for _, _, row in sorted(newest[kind], key=lambda r: (r[0], r[1]), reverse=True)],
            )
            for kind in KINDS
        },
    }


def differences(expected: Any, found: Any, where: str = "") -> list[str]:
    """Where two figure trees differ; floats (day lengths) within DAY_TOLERANCE count as equal."""
    if isinstance(expected, dict) and isinstance(found, dict):
        out = [f"{where}: keys {sorted(expected)} != {sorted(found)}"] if expected.keys() != found.keys() else []
        for key in expected.keys() & found.keys():
            out += differences(expected[key], found[key], f"{where}.{key}")
        return out
    if isinstance(expected, list | tuple) and isinstance(found, list | tuple):
        if len(expected) != len(found):
            return [f"{where}: {len(expected)} items != {len(found)}"]
        return [
            d for i, (e, f) in enumerate(zip(expected, found, strict=True)) for d in differences(e, f, f"{where}[{i}]")
        ]
    if isinstance(expected, float) and isinstance(found, float):
        return (
            []
            if math.isclose(expected, found, rel_tol=0, abs_tol=DAY_TOLERANCE)
            else [f"{where}: {expected} != {found}"]
        )
    if isinstance(expected, Decimal) and isinstance(found, Decimal) and where.endswith("velocity"):
        # Velocity divides by the sales cycle, whose last float digits may differ: a cent either way.
        return [] if abs(expected - found) <= Decimal("0.01") else [f"{where}: {expected} != {found}"]
    return [] if expected == found else [f"{where}: {expected!r} != {found!r}"]


# ---- Measuring ---------------------------------------------------------------------------------------------------


def timed(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, float]]:
    """Median and 95th percentile in milliseconds of each workload over `repeat` rounds after two warm-ups.

    The workloads take turns within each round, so a busy spell on a shared machine slows them alike and
    leaves their ratio alone.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(repeat + 2):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            if round_ >= 2:
                times[name].append((time.perf_counter() - started) * 1000)
    found = {}
    for name, measured in times.items():
        measured.sort()
        p95 = measured[max(0, math.ceil(0.95 * len(measured)) - 1)]
        found[name] = {"median_ms": statistics.median(measured), "p95_ms": p95}
    return found


def data_anchor() -> date:
    """The data's last day: the local date of its newest history row (needs an app context)."""
    from sqlalchemy import func, select

    from pipeline.core.timeutil import local_date
    from pipeline.deals.models import StageEvent
    from pipeline.extensions import db

    newest = db.session.scalar(select(func.max(StageEvent.at)))
    if newest is None:
        raise SystemExit("the database has no history: fill it with bench.generate first")
    return local_date(newest)


def periods_for(anchor: date) -> tuple[Period, Period, Period, datetime]:
    """The funnel's 90 days ending at the anchor, the last full ISO week before it, the week before, and now."""
    from bench.generate import NOW_HOUR
    from pipeline.core.timeutil import team_zone
    from pipeline.reports.periods import Period, week_containing

    now = datetime.combine(anchor, dtime(NOW_HOUR), team_zone()).astimezone(UTC)
    week = week_containing(anchor - timedelta(days=7))
    return Period(anchor - timedelta(days=89), anchor), week, week.previous_week(), now


class Workloads:
    """The four measured workloads for one funnel period and one week, each returning comparable figures."""

    def __init__(self, app: Flask, period: Period, week: Period, compare: Period, now: datetime) -> None:
        from sqlalchemy import String, column

        from pipeline.core.models import UTCDateTime
        from pipeline.extensions import db

        self.app, self.period, self.week, self.compare, self.now = app, period, week, compare, now
        with app.app_context():
            self.engine = db.engine
        dialect = self.engine.dialect.name
        self.funnel_params = {
            "m1": min(period.end(), now),
            "start": period.start(),
            "end": period.end(),
            "first": period.first,
            "last": period.last,
        }
        self.weekly_params = {
            "m1": min(week.end(), now),
            "m2": min(compare.end(), now),
            "w_start": week.start(),
            "w_end": week.end(),
            "c_start": compare.start(),
            "c_end": compare.end(),
        }
        self.funnel_query = typed(funnel_sql(dialect), self.funnel_params)
        self.kept_funnel_query = typed(kept_funnel_sql(), self.funnel_params)
        types = {"at": UTCDateTime(), "n": None, "cents": None, "user_id": None, "seq": None}
        names = ("part", "kind", "stage", "n", "cents", "title", "from_value", "to_value", "user_id", "user_name")
        self.weekly_query = typed(weekly_sql(dialect), self.weekly_params).columns(
            *(column(name, types.get(name, String())) for name in (*names, "at", "note", "seq"))
        )

    def funnel_by_hand(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return funnel_from_rows(conn.execute(self.funnel_query, self.funnel_params).all())

    def funnel_by_hand_kept(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return funnel_from_rows(conn.execute(self.kept_funnel_query, self.funnel_params).all())

    def funnel_by_service(self) -> dict[str, Any]:
        from pipeline.extensions import db
        from pipeline.reports.funnel import funnel
        from pipeline.reports.scope import ReportScope

        with self.app.app_context():
            figures = funnel_from_service(funnel(ReportScope(), self.period, now=self.now))
            db.session.remove()
            return figures

    def weekly_by_hand(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return weekly_from_rows(conn.execute(self.weekly_query, self.weekly_params).all())

    def weekly_by_service(self) -> dict[str, Any]:
        from pipeline.extensions import db
        from pipeline.reports.scope import ReportScope
        from pipeline.reports.weekly import week_over_week

        with self.app.app_context():
            figures = weekly_from_service(week_over_week(ReportScope(), self.week, self.compare, now=self.now))
            db.session.remove()
            return figures

    def mismatches(self) -> dict[str, list[str]]:
        """Where each service's figures differ from its hand-written query's (empty lists when they agree)."""
        return {
            "funnel": differences(self.funnel_by_service(), self.funnel_by_hand()),
            "funnel (kept counts)": differences(self.funnel_by_service(), self.funnel_by_hand_kept()),
            "week over week": differences(self.weekly_by_service(), self.weekly_by_hand()),
        }


def keep_counts_ready() -> dict[str, Any]:
    """Count every pending deal into the kept report figures (reports/rollup) before timing, as the app's
    `pipeline reports refresh` does, and analyse their tables; a generated database starts all pending."""
    from pipeline.extensions import db
    from pipeline.reports.rollup.store import pending_count, refresh

    started = time.perf_counter()
    waiting = pending_count(db.session, 10**9)
    done = refresh(db.session)
    seconds = time.perf_counter() - started
    if waiting:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            postgres = conn.dialect.name == "postgresql"
            conn.exec_driver_sql("VACUUM (ANALYZE)" if postgres else "ANALYZE")
        print(f"kept report figures: {done.deals:,} pending deals counted in {seconds:.1f} s", flush=True)
    if pending_count(db.session, 0):
        raise SystemExit("deals still pending after the refresh: is another process moving them?")
    return {"pending": waiting, "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a database bench.generate filled: sqlite:///FILE or PostgreSQL")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--anchor", type=date.fromisoformat, help="the data's last day (default: from the data)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--upgrade", action="store_true", help="first migrate the database to this code's head")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from pipeline import create_app
    from pipeline.core.database import unmigrated_message
    from pipeline.deals.models import Deal, StageEvent
    from pipeline.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.db, "SECRET_KEY": "bench"})
    with app.app_context():
        if args.upgrade:
            upgrade()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM (ANALYZE)" if conn.dialect.name == "postgresql" else "ANALYZE")
        behind = unmigrated_message(db.engine)
        if behind:  # the services would be measured without the indexes their code expects
            raise SystemExit(f"{behind}; or rerun with --upgrade")
        refreshed = keep_counts_ready()
        anchor = args.anchor or data_anchor()
        deals = db.session.scalar(select(func.count()).select_from(Deal))
        history = db.session.scalar(select(func.count()).select_from(StageEvent))
        period, week, compare, now = periods_for(anchor)
        db.session.remove()
    work = Workloads(app, period, week, compare, now)
    database = describe_db(args.db)
    print(
        f"{database}: {deals:,} deals, {history:,} history rows; anchor {anchor}, now {now:%Y-%m-%d %H:%M} UTC; "
        f"funnel {period.first} … {period.last}; week {week.week_label()} against {compare.week_label()}",
        flush=True,
    )

    failed = False
    for name, found in work.mismatches().items():
        if found:
            failed = True
            print(f"\n!!! MISMATCH: the {name} service and the hand-written query disagree:", file=sys.stderr)
            for line in found[:40]:
                print(f"!!!   {line}", file=sys.stderr)
    if failed:
        return 1
    f, w = work.funnel_by_service(), work.weekly_by_service()
    won, won_amount, lost, _, cycle = f["outcomes"]
    changes = {kind: count for kind, (count, _, _) in w["changes"].items()}
    print(
        f"the services' figures equal the hand-written queries': funnel open pipeline {f['open'][0]:,} deals "
        f"¥{f['open'][1]:,}, {sum(s['stays'] for s in f['stages'].values()):,} stays ended, won {won:,} "
        f"(¥{won_amount:,}, cycle {cycle or 0:.1f} days), lost {lost:,}; week {sum(changes.values()):,} changes "
        f"({', '.join(f'{k} {n:,}' for k, n in changes.items())})",
        flush=True,
    )

    results = {
        **timed(
            {
                "funnel, hand-written SQL": work.funnel_by_hand,
                "funnel, hand-written SQL over the kept counts": work.funnel_by_hand_kept,
                "funnel service": work.funnel_by_service,
            },
            args.repeat,
        ),
        **timed(
            {"week over week, hand-written SQL": work.weekly_by_hand, "week over week service": work.weekly_by_service},
            args.repeat,
        ),
    }
    raw_floor = results["funnel, hand-written SQL"]["median_ms"]
    funnel_floor = results["funnel, hand-written SQL over the kept counts"]["median_ms"]
    weekly_floor = results["week over week, hand-written SQL"]["median_ms"]
    funnel_ms, weekly_ms = results["funnel service"]["median_ms"], results["week over week service"]["median_ms"]
    results["funnel, hand-written SQL"].update(ratio=raw_floor / funnel_floor, target="", verdict="")
    results["funnel, hand-written SQL over the kept counts"].update(ratio=1.0, target="", verdict="")
    results["week over week, hand-written SQL"].update(ratio=1.0, target="", verdict="")
    results["funnel service"].update(
        ratio=funnel_ms / funnel_floor,
        target=f"≤ {FUNNEL_TARGET_MS:.0f} ms and ≤ {FUNNEL_TARGET_RATIO}×",
        verdict="pass" if funnel_ms <= FUNNEL_TARGET_MS and funnel_ms / funnel_floor <= FUNNEL_TARGET_RATIO else "miss",
    )
    results["week over week service"].update(
        ratio=weekly_ms / weekly_floor,
        target=f"≤ {WEEKLY_TARGET_MS:.0f} ms",
        verdict="pass" if weekly_ms <= WEEKLY_TARGET_MS else "miss",
    )
    print(f"\n{args.repeat} runs each after two warm-ups, taking turns; medians and 95th percentiles in ms\n")
    print_table(
        ["database", "workload", "median ms", "p95 ms", "ratio to hand-written", "target", "pass/miss"],
        [
            [database, name, r["median_ms"], r["p95_ms"], f"{r['ratio']:.2f}×", r["target"], r["verdict"]]
            for name, r in results.items()
        ],
    )
    if args.json:
        payload = {
            "machine": machine_description(),
            "database": database,
            "deals": deals,
            "history_rows": history,
            "anchor": anchor.isoformat(),
            "period": [period.first.isoformat(), period.last.isoformat()],
            "week": week.week_label(),
            "compare": compare.week_label(),
            "repeat": args.repeat,
            "refresh": refreshed,
            "results": results,
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
