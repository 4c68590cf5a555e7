"""Shared fixtures for the export's tests.

The hand-built week (test_workbook, test_csv, test_weeks, test_cli, test_mail, test_files): ISO week 2026-W10,
Monday 2 March to Sunday 8 March in Shanghai (2026-03-01 16:00 UTC to 2026-03-08 16:00 UTC), exported on Wednesday
11 March at 10:00 local. Moments near both edges of the week are chosen so that an export reading UTC weeks or UTC
dates gets them wrong. Expected rows are computed here from the tables with plain ORM queries, never with the
export's own functions.

The download's (test_views, test_api): deals of every owner on the board (and one that is not), and reading a
downloaded file back as Excel would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask import Flask
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select

from pipeline.accounts.models import Account
from pipeline.activities.models import Activity
from pipeline.activities.services import log_activity
from pipeline.auth.models import Team, User
from pipeline.auth.services import create_user
from pipeline.core.changelog import FieldChange
from pipeline.deals import services
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem, StageEvent
from pipeline.exports.services import write_export
from pipeline.exports.weekly import WeeklyExport
from pipeline.extensions import db
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope
from tests.conftest import People

SHANGHAI = ZoneInfo("Asia/Shanghai")
W10 = iso_week("2026-W10")
SHEETS = {"zh": ["汇总", "商机", "本周变化", "停滞"], "en": ["Summary", "Deals", "Changes this week", "Stalled"]}
# The method's odds and the board's default stall thresholds, written out again rather than imported.
PERCENT = {"qualify": 10, "evaluate": 25, "propose": 50, "close": 75, "follow_up": 100}
STALL_DAYS = {"qualify": 14, "evaluate": 30, "propose": 21, "close": 14, "follow_up": 90}
STAGE_NAMES = {
    "zh": {
        "qualify": "确认",
        "evaluate": "考察",
        "propose": "报价",
        "close": "成交",
        "follow_up": "跟进",
        "lost": "输单",
    },
    "en": {
        "qualify": "Qualify",
        "evaluate": "Evaluate",
        "propose": "Propose",
        "close": "Close",
        "follow_up": "Follow-up",
        "lost": "Lost",
    },
}
STRATEGY_NAMES = {
    "zh": {"frontal": "正面出击", "flanking": "出其不意"},
    "en": {"frontal": "Frontal", "flanking": "Flanking"},
}
YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}
CNY_FORMAT, USD_FORMAT = '"¥"#,##0.00', '"USD "#,##0.00'


def local(day: date, hour: int = 10, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A wall-clock moment in `zone` as the aware UTC moment the history stores."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def mar(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return local(date(2026, 3, day), hour, minute)


MADE_AT = mar(11, 10)  # Wednesday 11 March 2026, 10:00 in Shanghai
TODAY = date(2026, 3, 11)


@dataclass
class Story:
    """Write deals' lives at chosen moments through the real services; moves by the admin, gates waived."""

    people: People
    make_account: Callable[..., Account]
    deals: dict[str, Deal] = field(default_factory=dict)

    def deal(
        self, key: str, owner: User, at: datetime, amount: str, *, account: str | None = None, **fields: Any
    ) -> Deal:
        title = fields.pop("title", f"{key} 项目")
        acct = self.make_account(owner, name=account or f"{key} 客户有限公司")
        deal = services.create_deal(owner, acct, title, at=at, amount=Decimal(amount), **fields)
        db.session.commit()
        self.deals[key] = deal
        return deal

    def move(self, deal: Deal, trigger: str, at: datetime, **kw: Any) -> Deal:
        if trigger in ("advance", "complete"):
            kw.setdefault("override", True)
        if trigger in ("revert", "reopen") or kw.get("override"):
            kw.setdefault("reason", "按计划")
        if trigger == "lose":
            kw.setdefault("lost_reason", "price")
        services.move(self.people.admin, deal, trigger, at=at, **kw)
        db.session.commit()
        return deal

    def advance_to(self, deal: Deal, stage: str, at: datetime) -> Deal:
        while deal.stage != stage:
            self.move(deal, "advance", at)
        return deal

    def edit(self, deal: Deal, at: datetime, by: User | None = None, **changes: Any) -> Deal:
        services.update_deal(by or self.people.admin, deal, changes, None, at=at)
        db.session.commit()
        return deal

    def tick(self, deal: Deal, *keys: str, at: datetime) -> None:
        for key in keys:
            services.set_checklist_item(self.people.admin, deal, key, True, at=at)
        db.session.commit()

    def touch(self, deal: Deal, at: datetime, summary: str = "电话沟通") -> None:
        log_activity(deal.owner, "call", summary, deal_id=deal.id, occurred_at=at)
        db.session.commit()


@pytest.fixture
def story(app: Flask, people: People, make_account: Callable[..., Account]) -> Story:
    return Story(people, make_account)


@pytest.fixture
def week(story: Story, people: People) -> dict[str, Deal]:
    """The week 2026-W10 as the tests read it (every figure the sheets must show is worked out in test_workbook)."""
    rep, rep_b, south = people.rep, people.rep_b, people.outsider
    s = story
    # A: 确认 since February; 考察 on Tuesday, 报价 on Thursday, lost to a competitor on Friday.
    a = s.deal("A", rep, local(date(2026, 2, 2)), "80000", expected_close_date=date(2026, 4, 30))
    s.move(a, "advance", mar(3))
    s.move(a, "advance", mar(5))
    s.move(a, "lose", mar(6), lost_reason="competitor")
    # B: into 考察 at 00:30 local on 9 February (still 8 February in UTC): exactly 30 days there on the 11th, so
    # not stalled yet. In the week its close date slips and it gets a strategy; repriced after the week.
    b = s.deal("B", rep_b, local(date(2026, 2, 2)), "100000", expected_close_date=date(2026, 3, 31))
    s.move(b, "advance", local(date(2026, 2, 9), 0, 30))
    s.edit(b, mar(4), by=rep_b, expected_close_date=date(2026, 4, 30))
    s.edit(b, mar(5, 9), by=rep_b, next_step="约 CFO 面谈", next_step_due=date(2026, 3, 13))  # not a tracked change
    s.edit(b, mar(6, 11), by=rep_b, strategy="flanking")
    s.edit(b, mar(10), amount=Decimal("150000"))
    s.touch(b, mar(5))
    s.touch(b, mar(10, 23, 30))
    # C (华南): in 成交 since February, won on Saturday at 15:00.
    c = s.deal("C", south, local(date(2026, 1, 5)), "300000", strategy="frontal", expected_close_date=date(2026, 3, 15))
    s.advance_to(c, "close", local(date(2026, 2, 10)))
    s.move(c, "advance", mar(7, 15))
    # D: created on Monday at 00:30 local (Sunday in UTC): the week's; repriced on Wednesday; touched at 00:30 on
    # the 11th local (the 10th in UTC).
    d = s.deal("D", rep, mar(2, 0, 30), "50000")
    s.edit(d, mar(4, 12), by=rep, amount=Decimal("55000"))
    s.touch(d, mar(11, 0, 30))
    # E: created on Sunday 1 March at 23:59 local (the week before), into 考察 at the week's last minute, back to
    # 确认 at 00:30 on the Monday after (next week's). Its close date is pulled in during the week: not a slip.
    e = s.deal("E", rep, mar(1, 23, 59), "20000", expected_close_date=date(2026, 6, 30))
    s.edit(e, mar(5, 11), by=rep, expected_close_date=date(2026, 5, 31))
    s.move(e, "advance", mar(8, 23, 59))
    s.move(e, "revert", mar(9, 0, 30))
    # F: a USD deal in 报价 since 10 January (stalled), one required item of three done and an optional one.
    f = s.deal(
        "F",
        rep_b,
        local(date(2025, 12, 1)),
        "40000",
        currency="USD",
        strategy="frontal",
        expected_close_date=date(2026, 4, 15),
        next_step="发送报价单",
        next_step_due=date(2026, 3, 9),
    )
    s.advance_to(f, "propose", local(date(2026, 1, 10)))
    s.tick(f, "tailor_solution", "differentiate_offer", at=local(date(2026, 1, 20)))
    # G: lost in the week before. H: won in the week before and completed.
    g = s.deal("G", rep, local(date(2026, 1, 20)), "10000")
    s.move(g, "lose", local(date(2026, 2, 27)))
    h = s.deal("H", south, local(date(2026, 1, 5)), "60000")
    s.advance_to(h, "close", local(date(2026, 2, 1)))
    s.move(h, "advance", local(date(2026, 2, 26)))
    s.move(h, "complete", local(date(2026, 2, 28)))
    # I: ¥1,234.50 in 考察 since 3 February (36 days: stalled); weighted 25% is 308.625, half up 308.63.
    i = s.deal("I", rep_b, local(date(2026, 2, 1)), "1234.50")
    s.move(i, "advance", local(date(2026, 2, 3)))
    s.tick(i, "map_capabilities", "assess_competition", "examine_obstacles", at=local(date(2026, 2, 4)))
    return s.deals


# ---- Formula-like user text ---------------------------------------------------------------------------------

# Each of these starts a formula (or a DDE payload) in Excel, WPS or LibreOffice.
TITLES = ["=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", '=HYPERLINK("http://evil.example","点这里")']
ACCOUNTS = ["\t=1+1", "\r=1+1", "   =1+1", "=cmd|' /C calc'!A0"]  # accounts keep their text as typed
NEXT_STEPS = [" =1+1", "\t@SUM(1)", "+86 138 0000 0000", "-"]
OWNERS = ["=2+3", "@张三", "-李四", "+王五"]
HARMLESS = ["ABC-123", "报价 = 成本 + 利润", "a@b.com", "1+1", "第一期 -50%"]


@pytest.fixture
def hostile(people: People, make_account: Callable[..., Account]) -> dict[str, list[str]]:
    """Deals whose user text is formula-like (and some that only look close), every one in week 10."""
    team = "=团队!A1"
    owners = [
        create_user(f"o{n}@example.com", name, "rep", team=team if n == 0 else "华东") for n, name in enumerate(OWNERS)
    ]
    db.session.commit()
    for n, title in enumerate(TITLES + HARMLESS):
        owner = owners[n % len(owners)]
        account = make_account(owner, name=(ACCOUNTS + HARMLESS)[n % (len(ACCOUNTS) + len(HARMLESS))])
        next_step = (NEXT_STEPS + HARMLESS)[n % (len(NEXT_STEPS) + len(HARMLESS))]
        deal = services.create_deal(owner, account, title, at=mar(3), amount=Decimal("1234.50"), next_step=next_step)
        db.session.flush()
        services.move(people.admin, deal, "advance", at=mar(4), override=True, reason="=2*3 原因")
        services.update_deal(owner, deal, {"amount": Decimal("2000")}, None, at=mar(5))
    db.session.commit()
    return {
        "text": TITLES + ACCOUNTS + NEXT_STEPS + OWNERS + [team, "=2*3 原因"],
        "harmless": HARMLESS,
    }


# ---- Reading files back -----------------------------------------------------------------------------------------


def make_export(
    scope: ReportScope | None = None, week: Any = W10, made_at: datetime = MADE_AT, locale: str = "zh"
) -> WeeklyExport:
    return WeeklyExport(scope or ReportScope(), week, "全公司" if locale == "zh" else "Whole company", made_at, locale)


def xlsx_bytes(export: WeeklyExport) -> bytes:
    out = io.BytesIO()
    write_export(export, "xlsx", out)
    return out.getvalue()


def open_book(data: bytes | Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)


def values(ws: Worksheet, first: int = 2) -> list[tuple[Any, ...]]:
    """The sheet's rows from `first` on, as plain values: dates as datetimes, empty text as None (Excel shows both
    as an empty cell)."""
    return [tuple(None if c.value == "" else c.value for c in row) for row in ws.iter_rows(min_row=first)]


def csv_bytes(export: WeeklyExport) -> bytes:
    out = io.BytesIO()
    write_export(export, "csv", out)
    return out.getvalue()


# ---- What the database says --------------------------------------------------------------------------------------


def cents_half_up(amount: Decimal, percent: int) -> Decimal:
    return (amount * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Expected:
    """A deal on the board as the database has it, in the sheet's terms."""

    id: int
    title: str
    account: str
    owner: str
    team: str | None
    stage: str
    entered_on: date
    days: int
    amount: Decimal
    currency: str
    percent: int
    weighted: Decimal
    close_on: date | None
    strategy: str | None
    next_step: str
    next_step_due: date | None
    done: int
    required: int
    last_activity_on: date | None
    threshold: int
    stalled: bool


def expected_deals(
    today: date,
    owners: Iterable[int] | None = None,
    zone: ZoneInfo = SHANGHAI,
    thresholds: dict[str, int] | None = None,
) -> list[Expected]:
    """Every deal in the five stages (of these owners), in the method's order, longest in its stage first."""
    limits = {**STALL_DAYS, **(thresholds or {})}
    query = select(Deal).where(Deal.stage.in_(PERCENT))
    if owners is not None:
        query = query.where(Deal.owner_id.in_(list(owners)))
    found = []
    for deal in db.session.scalars(query):
        owner = db.session.get(User, deal.owner_id)
        team = db.session.get(Team, owner.team_id) if owner.team_id is not None else None
        items = db.session.execute(
            select(DealChecklistItem.done)
            .join(ChecklistTemplate, ChecklistTemplate.key == DealChecklistItem.item_key)
            .where(
                DealChecklistItem.deal_id == deal.id,
                DealChecklistItem.stage == deal.stage,
                ChecklistTemplate.required.is_(True),
            )
        ).all()
        last = db.session.scalar(select(func.max(Activity.occurred_at)).where(Activity.deal_id == deal.id))
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        entered = deal.stage_entered_at.astimezone(zone).date()
        days = max((today - entered).days, 0)
        found.append(
            Expected(
                id=deal.id,
                title=deal.title,
                account=db.session.get(Account, deal.account_id).name,
                owner=owner.name,
                team=team.name if team else None,
                stage=deal.stage,
                entered_on=entered,
                days=days,
                amount=deal.amount,
                currency=deal.currency,
                percent=PERCENT[deal.stage],
                weighted=cents_half_up(deal.amount, PERCENT[deal.stage]),
                close_on=deal.expected_close_date,
                strategy=deal.strategy,
                next_step=deal.next_step,
                next_step_due=deal.next_step_due,
                done=sum(1 for (done,) in items if done),
                required=len(items),
                last_activity_on=last.astimezone(zone).date() if last is not None else None,
                threshold=limits[deal.stage],
                stalled=days > limits[deal.stage],
            )
        )
    order = list(PERCENT)
    return sorted(found, key=lambda e: (order.index(e.stage), _entered_at(e.id), e.id))


def count_changes(period: Any) -> int:
    """The week's changes as docs/reports.md counts them: every move, and the tracked field changes (amount,
    strategy, and a close date moved later)."""
    start, end = period.start(), period.end()
    moves = db.session.scalar(select(func.count()).where(StageEvent.at >= start, StageEvent.at < end))
    fields = db.session.scalars(
        select(FieldChange).where(FieldChange.entity == "deal", FieldChange.at >= start, FieldChange.at < end)
    ).all()
    tracked = [
        f
        for f in fields
        if f.field in ("amount", "strategy")
        or (f.field == "expected_close_date" and f.old_value and f.new_value and f.new_value > f.old_value)
    ]
    return int(moves or 0) + len(tracked)


def _entered_at(deal_id: int) -> datetime:
    return db.session.get(Deal, deal_id).stage_entered_at


def as_datetime(day: date | None) -> datetime | None:
    """A date as openpyxl reads an Excel date cell back."""
    return None if day is None else datetime.combine(day, time.min)


def deal_row(e: Expected, locale: str = "zh") -> tuple[Any, ...]:
    """The 商机 row the export must write for this deal, as openpyxl reads it back."""
    yes, no = YES_NO[locale]
    return (
        e.id,
        e.title,
        e.account,
        e.owner,
        e.team,
        STAGE_NAMES[locale][e.stage],
        as_datetime(e.entered_on),
        e.days,
        float(e.amount),
        e.currency,
        e.percent,
        float(e.weighted),
        as_datetime(e.close_on),
        STRATEGY_NAMES[locale][e.strategy] if e.strategy else None,
        e.next_step or None,
        as_datetime(e.next_step_due),
        e.done,
        e.required,
        as_datetime(e.last_activity_on),
        yes if e.stalled else no,
    )


# ---- The download's deals (test_views, test_api) ---------------------------------------------------------------


@pytest.fixture
def board(app: Flask, people: People, make_deal: Callable[..., Deal]) -> dict[str, Deal]:
    """A deal on the board for each of the lead, both 华东 reps and the 华南 rep; a lost one of 王芳's is not."""
    deals = {
        "rep": make_deal(people.rep, title="王芳的项目", strategy="frontal"),
        "rep_plain": make_deal(people.rep, title="王芳的第二个项目"),
        "rep_b": make_deal(people.rep_b, title="张伟的项目", strategy="frontal"),
        "lead": make_deal(people.lead, title="李经理的项目"),
        "outsider": make_deal(people.outsider, title="陈静的项目"),
    }
    lost = make_deal(people.rep, title="王芳输掉的项目")
    services.move(people.admin, lost, "lose", lost_reason="price")
    db.session.commit()
    return deals


def ids(board: dict[str, Deal], *names: str) -> set[int]:
    return {board[name].id for name in names}


def workbook(response: Any) -> openpyxl.Workbook:
    """The downloaded workbook, opened as Excel would open it."""
    assert response.status_code == 200, response.get_data()[:300]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def sheet_ids(book: openpyxl.Workbook, sheet: str = "商机") -> set[int]:
    """The deal ids the sheet lists (its first column, under the header)."""
    rows = book[sheet].iter_rows(min_row=2, max_col=1, values_only=True)
    return {int(value) for (value,) in rows if value is not None}


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data()[:300]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
