"""How the weekly export's sheets lay out what it holds: each sheet's columns and rows, in the file's language
(definitions in docs/exports.md). Rows are produced while a sheet is written, so nothing is held in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext

from pipeline.core.pages import local_time, stage_label, strategy_label
from pipeline.core.timeutil import team_zone
from pipeline.deals.method import STAGE_KEYS, STRATEGIES
from pipeline.exports.cells import CENTS, DATE, INT, MOMENT, SIGNED, TEXT, Column
from pipeline.exports.spill import Spill
from pipeline.exports.weekly import BATCH, DealRow, Summary, WeeklyExport, deals_on_board, summary
from pipeline.reports.figures import StageTotals, open_totals
from pipeline.reports.presenters import change_kind_labels, change_values, lost_reason_labels
from pipeline.reports.weekly import changes_in


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


def deal_labels() -> tuple[dict[str, str], dict[str | None, str], str, str]:
    """The 商机 sheet's words: stage and strategy labels, and the stalled column's yes and no."""
    stages, strategies = _labels()
    return stages, strategies, _("Yes"), _("No")


def deal_cells(export: WeeklyExport, stalled: Spill | None = None) -> Iterator[tuple[Any, ...]]:
    """The 商机 sheet's rows: one per deal on the board; the stalled ones also set aside for the 停滞 sheet."""
    stages, strategies, yes, no = deal_labels()
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
