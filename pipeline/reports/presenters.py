"""Report figures as the pages show them: labels in the page's language, money, rates and days as text.

The templates only lay these rows out; every choice about what a figure reads like is made here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from pipeline.core.pages import local_time, locale_code, money, stage_label, strategy_label
from pipeline.core.timeutil import team_zone
from pipeline.deals.method import STAGE_KEYS
from pipeline.deals.models import LostReason
from pipeline.extensions import db
from pipeline.reports.breakdowns import LostRow, RepRow
from pipeline.reports.charts import Bar, FunnelStep, Series, bar_chart, funnel_chart, line_chart
from pipeline.reports.figures import Outcomes, StageTotals, open_totals
from pipeline.reports.forecast import LATER, NO_DATE, OVERDUE, Forecast
from pipeline.reports.funnel import Funnel
from pipeline.reports.stalled import StalledStage
from pipeline.reports.trend import TrendPoint
from pipeline.reports.weekly import Change, WeekReport

NONE = "—"  # a figure that cannot be computed (nothing decided, nothing won)


def percent(rate: Decimal | None) -> str:
    """A rate as a percentage to one decimal, without a trailing ".0": 50%, 66.7%."""
    if rate is None:
        return NONE
    shown = f"{rate * 100:.1f}".removesuffix(".0")
    return f"{shown}%"


def days(value: float | None) -> str:
    """Days to one decimal, as docs/reports.md says pages show them."""
    return NONE if value is None else f"{value:.1f}"


def money_or_none(amount: Decimal | None) -> str:
    return NONE if amount is None else money(amount)


def signed_count(n: int) -> str:
    """A difference of counts with its sign: +2, −1, 0."""
    return f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "0"


def signed_money(amount: Decimal) -> str:
    """A difference of money with its sign: +¥10,000, −¥5,000.50, ¥0."""
    if amount > 0:
        return f"+{money(amount)}"
    return f"−{money(-amount)}" if amount < 0 else money(amount)


def lost_reason_labels() -> dict[str, str]:
    """Every lost reason's label in the page's language, retired ones included (old deals were lost for them)."""
    locale = locale_code()
    return {r.key: r.label(locale) for r in db.session.scalars(select(LostReason))}


# ---- Outcomes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeView:
    """A period's outcomes as a table row reads them; the win rate always beside the counts it comes from."""

    won: int
    won_amount: str
    lost: int
    lost_amount: str
    decided: int
    win_rate: str
    win_counts: str  # "1 / 2": won of decided
    small_sample: bool
    avg_won: str
    cycle: str


def outcome_view(o: Outcomes) -> OutcomeView:
    return OutcomeView(
        won=o.won,
        won_amount=money(o.won_amount),
        lost=o.lost,
        lost_amount=money(o.lost_amount),
        decided=o.decided,
        win_rate=percent(o.win_rate),
        win_counts=f"{o.won} / {o.decided}",
        small_sample=o.small_sample,
        avg_won=money_or_none(o.avg_won),
        cycle=days(o.cycle_days),
    )


# ---- The funnel -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    """One stage of the funnel table; the conversion cells are empty for 跟进, which has no next stage."""

    stage: str
    label: str
    count: int
    amount: str
    weighted: str
    stays: int
    days_median: str
    days_p90: str
    has_conversion: bool
    entered: int
    reached_next: int
    lost_here: int
    rate: str


@dataclass(frozen=True)
class FunnelView:
    rows: list[FunnelRow]
    open_count: int
    open_amount: str
    open_weighted: str
    outcomes: OutcomeView
    velocity: str


def funnel_view(report: Funnel) -> FunnelView:
    rows = []
    for s in report.stages:
        c = s.conversion
        rows.append(
            FunnelRow(
                stage=s.stage,
                label=stage_label(s.stage),
                count=s.totals.count,
                amount=money(s.totals.amount),
                weighted=money(s.totals.weighted),
                stays=s.stays,
                days_median=days(s.days_median),
                days_p90=days(s.days_p90),
                has_conversion=c is not None,
                entered=c.entered if c else 0,
                reached_next=c.reached_next if c else 0,
                lost_here=c.lost_here if c else 0,
                rate=percent(c.rate) if c else "",
            )
        )
    velocity = _("%(amount)s per day", amount=money(report.velocity)) if report.velocity is not None else NONE
    return FunnelView(
        rows=rows,
        open_count=report.open_totals.count,
        open_amount=money(report.open_totals.amount),
        open_weighted=money(report.open_totals.weighted),
        outcomes=outcome_view(report.outcomes),
        velocity=velocity,
    )


# ---- Week over week ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageDelta:
    """A stage (or the open pipeline) at the end of the week, at the end of the compared week, and the change."""

    label: str
    count: int
    count_before: int
    count_delta: str
    amount: str
    amount_before: str
    amount_delta: str
    weighted: str
    weighted_before: str
    weighted_delta: str


@dataclass(frozen=True)
class ChangeRow:
    """One change of the week: which deal, from what to what, why, who and when."""

    deal_url: str
    title: str
    from_text: str
    to_text: str
    note: str
    who: str
    when: str


@dataclass(frozen=True)
class ChangeGroup:
    kind: str
    label: str
    count: int
    compare_count: int
    count_delta: str
    rows: list[ChangeRow]
    more: int


def change_kind_labels() -> dict[str, str]:
    """What each kind of change is called on the page."""
    return {
        "created": _("Created"),
        "advanced": _("Advanced"),
        "won": _("Won"),
        "moved_back": _("Moved back"),
        "lost": _("Lost"),
        "reopened": _("Reopened"),
        "close_date_slipped": _("Close date slipped"),
        "amount_changed": _("Amount changed"),
        "strategy_changed": _("Strategy changed"),
    }


def _stage_delta(label: str, now: StageTotals, before: StageTotals) -> StageDelta:
    return StageDelta(
        label=label,
        count=now.count,
        count_before=before.count,
        count_delta=signed_count(now.count - before.count),
        amount=money(now.amount),
        amount_before=money(before.amount),
        amount_delta=signed_money(now.amount - before.amount),
        weighted=money(now.weighted),
        weighted_before=money(before.weighted),
        weighted_delta=signed_money(now.weighted - before.weighted),
    )


def change_values(change: Change, reasons: Mapping[str, str]) -> tuple[str, str, str]:
    """(from, to, note) of a change in words: stage and strategy names, money, dates; a lost reason's label."""
    if change.kind == "amount_changed":
        shown = (money(change.from_value) or NONE, money(change.to_value) or NONE)
    elif change.kind == "strategy_changed":
        shown = (strategy_label(change.from_value) or NONE, strategy_label(change.to_value) or NONE)
    elif change.kind == "close_date_slipped":
        shown = (change.from_value or NONE, change.to_value or NONE)
    else:  # a move: stage keys (a new deal comes from nowhere)
        shown = (stage_label(change.from_value) or NONE, stage_label(change.to_value) or NONE)
    note = reasons.get(change.note, change.note) if change.kind == "lost" else change.note
    return shown[0], shown[1], note


def week_view(report: WeekReport) -> tuple[list[StageDelta], StageDelta, list[ChangeGroup]]:
    """The pipeline per stage against the compared week, the open pipeline's totals, and the week's changes."""
    stages = [_stage_delta(stage_label(key), report.now[key], report.before[key]) for key in STAGE_KEYS]
    total = _stage_delta(_("Open pipeline"), open_totals(report.now), open_totals(report.before))
    labels = change_kind_labels()
    reasons = lost_reason_labels()
    deal_url = url_for("deals.index")  # every link is <deal list>/<id>, built once (as the board's cards are)
    groups = []
    for changes in report.changes:
        rows = []
        for c in changes.rows:
            from_text, to_text, note = change_values(c, reasons)
            rows.append(
                ChangeRow(f"{deal_url}/{c.deal_id}", c.title, from_text, to_text, note, c.user_name, local_time(c.at))
            )
        groups.append(
            ChangeGroup(
                kind=changes.kind,
                label=labels[changes.kind],
                count=changes.count,
                compare_count=changes.compare_count,
                count_delta=signed_count(changes.count - changes.compare_count),
                rows=rows,
                more=changes.more,
            )
        )
    return stages, total, groups


# ---- By strategy, lost reasons, reps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyRow:
    key: str | None
    label: str
    outcomes: OutcomeView
    win_rate: Decimal | None  # for the chart


def strategy_rows(found: list[tuple[str | None, Outcomes]]) -> list[StrategyRow]:
    return [
        StrategyRow(key, strategy_label(key) if key else _("No strategy chosen"), outcome_view(o), o.win_rate)
        for key, o in found
    ]


@dataclass(frozen=True)
class LostView:
    stage: str
    reason: str
    count: int
    amount: str


def lost_rows(found: list[LostRow]) -> list[LostView]:
    reasons = lost_reason_labels() if found else {}
    return [
        LostView(stage_label(r.stage), reasons.get(r.reason_key, r.reason_key), r.count, money(r.amount)) for r in found
    ]


@dataclass(frozen=True)
class RepView:
    """One rep's column of figures beside their teammates'."""

    owner_id: int
    name: str
    funnel_url: str
    stage_counts: list[int]
    open_count: int
    open_amount: str
    weighted: str
    outcomes: OutcomeView


def rep_rows(found: list[RepRow], funnel_args: Mapping[str, str]) -> list[RepView]:
    """The reps' rows, each linking to that rep's own funnel for the same period."""
    base = url_for("reports.funnel", **{k: v for k, v in funnel_args.items() if k not in ("rep", "team", "sort")})
    joiner = "&" if "?" in base else "?"
    return [
        RepView(
            owner_id=r.owner_id,
            name=r.name,
            funnel_url=f"{base}{joiner}rep={r.owner_id}",
            stage_counts=[r.stages[key].count for key in STAGE_KEYS],
            open_count=r.open.count,
            open_amount=money(r.open.amount),
            weighted=money(r.open.weighted),
            outcomes=outcome_view(r.outcomes),
        )
        for r in found
    ]


def stage_headers() -> list[tuple[str, str]]:
    """(key, label) of the five stages, for table headers."""
    return [(key, stage_label(key)) for key in STAGE_KEYS]


# ---- Stalled deals and the forecast -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StalledRow:
    deal_url: str
    title: str
    account_name: str
    owner_name: str
    amount: str
    days: int
    entered: str
    next_step: str
    next_step_due: str
    overdue: bool


@dataclass(frozen=True)
class StalledGroup:
    """A stage's stalled deals as its table shows them, and how many more there are than it lists."""

    stage: str
    label: str
    threshold: int
    count: int
    rows: list[StalledRow]
    more: int


def stalled_view(stages: list[StalledStage], on: date) -> list[StalledGroup]:
    deal_url = url_for("deals.index")
    zone = team_zone()
    groups = []
    for s in stages:
        rows = [
            StalledRow(
                deal_url=f"{deal_url}/{d.deal_id}",
                title=d.title,
                account_name=d.account_name,
                owner_name=d.owner_name,
                amount=money(d.amount, d.currency),
                days=d.days,
                entered=d.entered_at.astimezone(zone).date().isoformat(),
                next_step=d.next_step,
                next_step_due=d.next_step_due.isoformat() if d.next_step_due else "",
                overdue=d.next_step_due is not None and d.next_step_due < on,
            )
            for d in s.deals
        ]
        groups.append(StalledGroup(s.stage, stage_label(s.stage), s.threshold, s.count, rows, s.count - len(rows)))
    return groups


@dataclass(frozen=True)
class ForecastLine:
    """A month of the forecast (or the overdue, later and undated deals): open deals expected then, and its wins."""

    key: str
    label: str
    is_month: bool
    is_current: bool
    count: int
    amount: str
    weighted: str
    won: str  # "" where the month has not come yet, or for a row that is not a month


@dataclass(frozen=True)
class ForecastView:
    lines: list[ForecastLine]
    open_count: int
    open_amount: str
    open_weighted: str


def forecast_view(result: Forecast) -> ForecastView:
    labels = {
        OVERDUE: _("Overdue (expected before this month)"),
        LATER: _("Later"),
        NO_DATE: _("No expected close date"),
    }
    lines = [
        ForecastLine(
            key=r.key,
            label=labels.get(r.key, r.key),
            is_month=r.is_month,
            is_current=r.key == result.this_month,
            count=r.count,
            amount=money(r.amount),
            weighted=money(r.weighted),
            won=money(r.won) if r.won is not None else "",
        )
        for r in result.rows
    ]
    open_count = sum(r.count for r in result.rows)
    return ForecastView(lines, open_count, money(result.open_amount), money(result.open_weighted))


@dataclass(frozen=True)
class TrendRow:
    week: str
    count: int
    amount: str
    weighted: str


def trend_rows(points: list[TrendPoint]) -> list[TrendRow]:
    """The open pipeline at the end of each week, oldest first."""
    return [TrendRow(p.week.week_label(), p.open.count, money(p.open.amount), money(p.open.weighted)) for p in points]


# ---- Charts: drawn from the same figures, and worded as the tables beside them word them ------------------------


@dataclass(frozen=True)
class Chart:
    """A chart and its caption (the same words as its accessible name)."""

    title: str
    svg: Markup


def _money_value(value: float) -> str:
    return money(Decimal(str(round(value, 2))))


def _drawn(series: list[Series]) -> list[Series]:
    """No lines at all when every value is zero: the chart then says there is nothing to show, not a flat line."""
    if any(v for s in series for v in s.values):
        return series
    return [Series(s.name, s.css_class, [None] * len(s.values)) for s in series]


def funnel_charts(report: Funnel) -> dict[str, Chart]:
    """Deals per stage (with the conversion onward beside each), and each stage's conversion as a bar."""
    steps = [
        FunnelStep(
            stage_label(s.stage),
            s.totals.count,
            money(s.totals.amount),
            f"→ {percent(s.conversion.rate)}" if s.conversion is not None and s.conversion.entered else "",
        )
        for s in report.stages
    ]
    bars = [
        Bar(
            stage_label(s.stage),
            float(s.conversion.rate * 100) if s.conversion.rate is not None else None,
            f"{percent(s.conversion.rate)} ({s.conversion.reached_next} / {s.conversion.entered})",
        )
        for s in report.stages
        if s.conversion is not None
    ]
    nothing = _("Nothing to show for this period.")
    deals, onward = _("Deals per stage"), _("Conversion to the next stage")
    return {
        "funnel": Chart(deals, funnel_chart("funnel-chart", deals, steps, empty_text=nothing)),
        "conversion": Chart(onward, bar_chart("conversion-chart", onward, bars, empty_text=nothing)),
    }


def strategy_chart(found: list[tuple[str | None, Outcomes]]) -> dict[str, Chart]:
    """Each strategy's win rate as a bar with its counts; a small sample's bar is drawn muted."""
    bars = [
        Bar(
            strategy_label(key) if key else _("No strategy chosen"),
            float(o.win_rate * 100) if o.win_rate is not None else None,
            f"{percent(o.win_rate)} ({o.won} / {o.decided})",
            muted=o.small_sample,
        )
        for key, o in found
    ]
    empty, title = _("No deal was won or lost in this period."), _("Win rate by strategy")
    return {"win_rates": Chart(title, bar_chart("win-rate-chart", title, bars, empty_text=empty))}


def trend_chart(points: list[TrendPoint]) -> dict[str, Chart]:
    """The open pipeline's amount and weighted amount at the end of each week."""
    series = [
        Series(_("Amount"), "chart-line-total", [float(p.open.amount) for p in points]),
        Series(_("Weighted"), "chart-line-weighted", [float(p.open.weighted) for p in points]),
    ]
    weeks = [p.week.week_label() for p in points]
    title = _("Open pipeline at the end of each week")
    chart = line_chart(
        "trend-chart",
        title,
        weeks,
        _drawn(series),
        format_value=_money_value,
        empty_text=_("Nothing to show for these weeks."),
    )
    return {"trend": Chart(title, chart)}


def forecast_chart(result: Forecast) -> dict[str, Chart]:
    """Month by month: the open amount expected to close (months to come) and the amount won (months gone)."""
    months = [r for r in result.rows if r.is_month]
    series = [
        Series(
            _("Open amount expected"),
            "chart-line-total",
            [float(r.amount) if r.key >= result.this_month else None for r in months],
        ),
        Series(_("Won"), "chart-line-won", [float(r.won) if r.won is not None else None for r in months]),
    ]
    title = _("Expected and won, by month")
    chart = line_chart(
        "forecast-chart",
        title,
        [r.key for r in months],
        _drawn(series),
        format_value=_money_value,
        empty_text=_("Nothing to show for these months."),
    )
    return {"forecast": Chart(title, chart)}
