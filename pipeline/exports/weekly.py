"""What the weekly export holds, sheet by sheet: the week in figures, every deal on the board, the week's changes
and the stalled deals (definitions in docs/exports.md). Rows are streamed, so a million deals cost no memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import DateTime, case, func, select, text, type_coerce

from pipeline.accounts.models import Account
from pipeline.activities.models import Activity
from pipeline.auth.models import Team, User
from pipeline.core.pages import local_time, stage_label, strategy_label
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals.board import stall_days
from pipeline.deals.method import STAGE_KEYS, STAGES, STRATEGIES
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
from pipeline.exports.cells import CENTS, DATE, INT, MOMENT, SIGNED, TEXT, Column
from pipeline.exports.spill import Spill
from pipeline.extensions import db
from pipeline.reports.figures import Outcomes, StageTotals, open_totals
from pipeline.reports.funnel import outcomes
from pipeline.reports.periods import Period
from pipeline.reports.presenters import change_kind_labels, change_values, lost_reason_labels
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipelines_at
from pipeline.reports.sql import raw_cents
from pipeline.reports.weekly import changes_in

BATCH = 1000  # rows fetched per round trip while streaming: a few hundred KB in memory at a time
PERCENT = {s.key: int(s.probability * 100) for s in STAGES}
STAGE_ORDER = case({key: i for i, key in enumerate(STAGE_KEYS)}, value=Deal.stage)


@dataclass(frozen=True)
class WeeklyExport:
    """One export: whose deals, which ISO week (against the week before), as of when, in which language."""

    scope: ReportScope
    week: Period
    scope_name: str  # the company, a team or a rep, as titles and file names show it
    made_at: datetime
    locale: str = "zh"

    @property
    def today(self) -> date:
        return local_date(self.made_at)

    @property
    def compare(self) -> Period:
        return self.week.previous_week()


class DealRow(NamedTuple):
    """A deal on the board as the export shows it; money in whole cents, dates local."""

    id: int
    title: str
    account: str
    owner: str
    team: str
    stage: str
    entered_on: date
    days: int
    cents: int
    currency: str
    probability: int  # the stage's default odds, in percent
    weighted_cents: int
    close_on: date | None
    strategy: str | None
    next_step: str
    next_step_due: date | None
    checklist_done: int
    checklist_required: int
    last_activity_on: date | None
    threshold: int
    stalled: bool


def deals_on_board(scope: ReportScope, today: date) -> Iterator[DealRow]:
    """Every deal in the scope's five stages, in the method's order and longest in its stage first, streamed."""
    limits = stall_days(current_app.config.get("PIPELINE_STALL_DAYS"))
    item, on_board = DealChecklistItem, (scope.deals(), Deal.stage.in_(STAGE_KEYS))
    required = db.session.scalars(select(ChecklistTemplate.key).where(ChecklistTemplate.required.is_(True))).all()
    # Aggregated over the scope's own deals only, so the planner reads a team's items through the indexes and
    # the company's in one pass; never one lookup per deal.
    progress = (
        select(
            item.deal_id,
            func.count().label("required"),
            func.sum(case((item.done.is_(True), 1), else_=0)).label("done"),
        )
        .join(Deal, (Deal.id == item.deal_id) & (Deal.stage == item.stage))
        .where(*on_board, item.item_key.in_(required))
        .group_by(item.deal_id)
        .subquery()
    )
    touched = (
        select(Activity.deal_id, type_coerce(func.max(Activity.occurred_at), DateTime).label("last"))
        .join(Deal, Deal.id == Activity.deal_id)
        .where(*on_board)
        .group_by(Activity.deal_id)
        .subquery()
    )
    query = (
        select(
            Deal.id,
            Deal.title,
            Account.name,
            User.name,
            Team.name,
            Deal.stage,
            type_coerce(Deal.stage_entered_at, DateTime),  # naive UTC as stored, converted below once
            raw_cents(Deal.__table__.c.amount_cents),
            Deal.currency,
            Deal.expected_close_date,
            Deal.strategy,
            Deal.next_step,
            Deal.next_step_due,
            progress.c.done,
            progress.c.required,
            touched.c.last,
        )
        .join(Account, Account.id == Deal.account_id)
        .join(User, User.id == Deal.owner_id)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(progress, progress.c.deal_id == Deal.id)
        .outerjoin(touched, touched.c.deal_id == Deal.id)
        .where(*on_board)
        .order_by(STAGE_ORDER, Deal.stage_entered_at, Deal.id)
    )
    zone = team_zone()
    plan_for_every_row()
    # Closed when the caller stops early (a failing writer): on PostgreSQL the rows come through a server-side
    # cursor, which would otherwise stay open in the transaction.
    # Core rows on the session's connection: no ORM row loading for a million plain tuples.
    with db.session.connection().execute(query.execution_options(yield_per=BATCH)) as result:
        for row in result:
            (id_, title, account, owner, team, stage, entered, cents, currency, close_on, strategy, next_step, due) = (
                row[:13]
            )
            entered_on = zone.fromutc(entered.replace(tzinfo=zone)).date()  # naive UTC → local date, in C
            days = max((today - entered_on).days, 0)
            percent = PERCENT[stage]
            yield DealRow(
                id_,
                title,
                account,
                owner,
                team or "",
                stage,
                entered_on,
                days,
                cents,
                currency,
                percent,
                (cents * percent + 50) // 100,  # half up, as every weighted amount
                close_on,
                strategy,
                next_step,
                due,
                row[13] or 0,
                row[14] or 0,
                zone.fromutc(row[15].replace(tzinfo=zone)).date() if row[15] is not None else None,
                limits[stage],
                days > limits[stage],
            )


def plan_for_every_row() -> None:
    """On PostgreSQL, plan the streamed query for reading all its rows (a cursor is planned for the first 10%)
    and let it sort in memory; both only for the rest of this transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def count_on_board(scope: ReportScope) -> int:
    """How many deals the 商机 sheet will list (for a progress bar)."""
    return int(db.session.scalar(select(func.count()).where(scope.deals(), Deal.stage.in_(STAGE_KEYS))) or 0)


# ---- Sheets -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """A sheet: its name, its columns, and its rows (cells in column order), produced while it is written."""

    name: str
    columns: list[Column]
    rows: Iterator[tuple[Any, ...]]
    table: bool = True  # one kind per column and a filter on the header (the summary mixes notes into figures)
    counted: bool = False  # the sheet a progress bar follows (the 商机 sheet: one row per deal on the board)


def _labels() -> tuple[dict[str, str], dict[str | None, str]]:
    stages = {key: stage_label(key) for key in STAGE_KEYS}
    strategies: dict[str | None, str] = {s.key: strategy_label(s.key) for s in STRATEGIES}
    strategies[None] = ""
    return stages, strategies


# Columns more than one sheet shows, made once (headers are translated when a sheet is written).
DEAL_ID = Column(lambda: _("Deal ID"), INT, 9)
TITLE = Column(lambda: _("Title"), TEXT, 32)
ACCOUNT = Column(lambda: _("Account"), TEXT, 24)
OWNER = Column(lambda: _("Owner"), TEXT, 12)
TEAM = Column(lambda: _("Team"), TEXT, 12)
STAGE = Column(lambda: _("Stage"), TEXT, 10)
DAYS_IN_STAGE = Column(lambda: _("Days in stage"), INT, 10)
CURRENCY = Column(lambda: _("Currency"), TEXT, 8)
NEXT_STEP = Column(lambda: _("Next step"), TEXT, 32)
NEXT_STEP_DUE = Column(lambda: _("Next step due"), DATE, 12)
LAST_ACTIVITY = Column(lambda: _("Last activity"), DATE, 12)


def _amount(currency_at: int) -> Column:
    return Column(lambda: _("Amount"), CENTS, 16, currency_at=currency_at)


def deal_columns() -> list[Column]:
    return [
        DEAL_ID,
        TITLE,
        ACCOUNT,
        OWNER,
        TEAM,
        STAGE,
        Column(lambda: _("Entered stage"), DATE, 12),
        DAYS_IN_STAGE,
        _amount(currency_at=9),
        CURRENCY,
        Column(lambda: _("Probability %"), INT, 10),
        Column(lambda: _("Weighted amount"), CENTS, 16, currency_at=9),
        Column(lambda: _("Expected close"), DATE, 12),
        Column(lambda: _("Strategy"), TEXT, 10),
        NEXT_STEP,
        NEXT_STEP_DUE,
        Column(lambda: _("Checklist done"), INT, 10),
        Column(lambda: _("Checklist required"), INT, 10),
        LAST_ACTIVITY,
        Column(lambda: _("Stalled"), TEXT, 8),
    ]


def deal_cells(export: WeeklyExport, stalled: Spill | None = None) -> Iterator[tuple[Any, ...]]:
    """The 商机 sheet's rows: one per deal on the board; the stalled ones also set aside for the 停滞 sheet."""
    stages, strategies = _labels()
    yes, no = _("Yes"), _("No")
    for r in deals_on_board(export.scope, export.today):
        if stalled is not None and r.stalled:
            stalled.add(_stalled_row(r, stages))
        yield (
            r.id,
            r.title,
            r.account,
            r.owner,
            r.team,
            stages[r.stage],
            r.entered_on,
            r.days,
            r.cents,
            r.currency,
            r.probability,
            r.weighted_cents,
            r.close_on,
            strategies[r.strategy],
            r.next_step,
            r.next_step_due,
            r.checklist_done,
            r.checklist_required,
            r.last_activity_on,
            yes if r.stalled else no,
        )


def stalled_columns() -> list[Column]:
    return [
        STAGE,
        DAYS_IN_STAGE,
        Column(lambda: _("Stall threshold (days)"), INT, 12),
        Column(lambda: _("Days over"), INT, 10),
        DEAL_ID,
        TITLE,
        ACCOUNT,
        OWNER,
        TEAM,
        _amount(currency_at=10),
        CURRENCY,
        NEXT_STEP,
        NEXT_STEP_DUE,
        LAST_ACTIVITY,
    ]


def _stalled_row(r: DealRow, stages: dict[str, str]) -> tuple[Any, ...]:
    return (
        stages[r.stage],
        r.days,
        r.threshold,
        r.days - r.threshold,
        r.id,
        r.title,
        r.account,
        r.owner,
        r.team,
        r.cents,
        r.currency,
        r.next_step,
        r.next_step_due,
        r.last_activity_on,
    )


def change_columns() -> list[Column]:
    return [
        Column(lambda: _("When"), MOMENT, 17),
        Column(lambda: _("What changed"), TEXT, 14),
        DEAL_ID,
        TITLE,
        Column(lambda: _("From"), TEXT, 16),
        Column(lambda: _("To"), TEXT, 16),
        Column(lambda: _("By"), TEXT, 12),
        Column(lambda: _("Reason"), TEXT, 24),
    ]


def change_cells(export: WeeklyExport) -> Iterator[tuple[Any, ...]]:
    """The 本周变化 sheet's rows: every move, win, loss, slipped close date, repricing and strategy change, in order."""
    kinds = change_kind_labels()
    reasons = lost_reason_labels()
    for c in changes_in(export.scope, export.week, BATCH):
        from_text, to_text, note = change_values(c, reasons)
        yield (c.at, kinds[c.kind], c.deal_id, c.title, from_text, to_text, c.user_name, note)


# ---- The summary ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The week in figures: the pipeline per stage at the end of the week and of the week before, and outcomes."""

    now: dict[str, StageTotals]
    before: dict[str, StageTotals]
    won_lost: Outcomes
    won_lost_before: Outcomes


def summary(export: WeeklyExport) -> Summary:
    """The 汇总 sheet's figures, from the same services as the weekly report (so both always agree)."""
    moments = [min(export.week.end(), export.made_at), min(export.compare.end(), export.made_at)]
    now, before = pipelines_at(export.scope, moments)
    return Summary(now, before, outcomes(export.scope, export.week), outcomes(export.scope, export.compare))


def summary_columns() -> list[Column]:
    return [
        Column(lambda: _("Stage"), TEXT, 16),
        Column(lambda: _("Deal count"), INT, 10),
        Column(lambda: _("Deals, week before"), INT, 12),
        Column(lambda: _("Change in deals"), SIGNED, 10),
        Column(lambda: _("Amount"), CENTS, 16),
        Column(lambda: _("Amount, week before"), CENTS, 16),
        Column(lambda: _("Change in amount"), CENTS, 16),
        Column(lambda: _("Weighted amount"), CENTS, 16),
        Column(lambda: _("Weighted, week before"), CENTS, 16),
        Column(lambda: _("Change in weighted amount"), CENTS, 16),
    ]


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _totals_row(label: str, now: StageTotals, before: StageTotals) -> tuple[Any, ...]:
    return (
        label,
        now.count,
        before.count,
        now.count - before.count,
        _cents(now.amount),
        _cents(before.amount),
        _cents(now.amount - before.amount),
        _cents(now.weighted),
        _cents(before.weighted),
        _cents(now.weighted - before.weighted),
    )


def _all_stages(by_stage: dict[str, StageTotals]) -> StageTotals:
    return StageTotals(
        sum(t.count for t in by_stage.values()),
        sum((t.amount for t in by_stage.values()), Decimal("0.00")),
        sum((t.weighted for t in by_stage.values()), Decimal("0.00")),
    )


def summary_cells(export: WeeklyExport, figures: Summary) -> Iterator[tuple[Any, ...]]:
    """The 汇总 sheet: a row per stage, the open pipeline, all five stages, outcomes, then what the file covers."""
    for key in STAGE_KEYS:
        yield _totals_row(stage_label(key), figures.now[key], figures.before[key])
    yield _totals_row(_("Open pipeline (before follow-up)"), open_totals(figures.now), open_totals(figures.before))
    yield _totals_row(_("All five stages"), _all_stages(figures.now), _all_stages(figures.before))
    won, was = figures.won_lost, figures.won_lost_before
    yield (_("Won this week"), won.won, was.won, won.won - was.won, *_money_change(won.won_amount, was.won_amount))
    yield (
        _("Lost this week"),
        won.lost,
        was.lost,
        won.lost - was.lost,
        *_money_change(won.lost_amount, was.lost_amount),
    )
    yield ()
    zone = str(team_zone())
    yield from (
        (_("Week"), f"{export.week.week_label()} ({export.week.first} – {export.week.last}, {zone})"),
        (_("Compared with"), f"{export.compare.week_label()} ({export.compare.first} – {export.compare.last})"),
        (_("Whose deals"), export.scope_name),
        (_("Made at"), f"{local_time(export.made_at)} ({zone})"),
        (_("Deals and Stalled sheets"), _("the deals on the board when the file was made")),
    )


def _money_change(now: Decimal, before: Decimal) -> tuple[int, int, int]:
    return _cents(now), _cents(before), _cents(now - before)


def sheets(export: WeeklyExport, stalled: Spill) -> list[Sheet]:
    """The workbook's four sheets, named in the export's language; rows are read while each sheet is written.

    The 停滞 sheet's rows are set aside in `stalled` while the 商机 sheet is written: one pass over the deals."""
    figures = summary(export)
    return [
        Sheet(pgettext("sheet", "Summary"), summary_columns(), summary_cells(export, figures), table=False),
        Sheet(pgettext("sheet", "Deals"), deal_columns(), deal_cells(export, stalled), counted=True),
        Sheet(pgettext("sheet", "Changes this week"), change_columns(), change_cells(export)),
        Sheet(pgettext("sheet", "Stalled"), stalled_columns(), stalled.rows()),
    ]
