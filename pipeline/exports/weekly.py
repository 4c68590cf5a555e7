"""What the weekly export holds: which week and whose deals, every deal on the board (streamed by one query, so a
million deals cost no memory) and the week's figures; `sheets.py` lays them out (definitions in docs/exports.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import DateTime, Select, case, func, select, text, type_coerce

from pipeline.accounts.models import Account
from pipeline.auth.models import Team, User
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals.board import stall_days
from pipeline.deals.method import STAGE_KEYS, STAGES
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.figures import Outcomes, StageTotals
from pipeline.reports.funnel import outcomes
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipelines_at
from pipeline.reports.sql import raw_cents

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
    query = board_query(
        scope,
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
        Deal.checklist_done,
        Deal.checklist_required,
        type_coerce(Deal.last_activity_at, DateTime),
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


def board_query(scope: ReportScope, *columns: Any) -> Select[Any]:
    """The scope's deals on the board with their account, owner and team, in the 商机 sheet's order.

    The checklist progress and the last activity are kept on the deal (deals/kept.py): nothing is aggregated.
    """
    return (
        select(*columns)
        .join(Account, Account.id == Deal.account_id)
        .join(User, User.id == Deal.owner_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(scope.deals(), Deal.stage.in_(STAGE_KEYS))
        .order_by(STAGE_ORDER, Deal.stage_entered_at, Deal.id)
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


# ---- The summary's figures ---------------------------------------------------------------------------------------


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
