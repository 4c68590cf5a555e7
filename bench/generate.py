"""Fill a database with years of realistic sales history, fast, for the report benchmarks (issues 4 and 7).

    .venv/bin/python -m bench.generate --db sqlite:///FILE --deals 100000 [--seed 1] [--anchor 2026-11-23]
    .venv/bin/python -m bench.generate --db postgresql+psycopg://postgres@127.0.0.1/postgres \\
        --create pipeline_bench_1m --deals 1000000 [--seed 1] [--checklists]

A SQLite file that does not exist yet, or the PostgreSQL database named by --create (made on the server the
URL names), is migrated with the real migrations; an existing database must already be at the migrations'
head and hold no deals.
Then teams, reps with their leads and an admin, accounts (about one per four deals) and the deals are
written in bulk: PostgreSQL through `COPY … FROM STDIN`, SQLite through `executemany` in large transactions.
Rows are built by generator functions and written as they come; what memory holds is the history waiting
to be numbered in time order (about deals per day × a deal's lifetime: 290 MB at 1,000,000 deals).

Each deal lives a story before it is written: created on a working day within three years before the anchor
(more in recent months), it moves through 确认 → 考察 → 报价 → 成交 → 跟进 → 完结 with log-normal stays,
steps back now and then, is lost from any open stage with one of the lost reasons in the database, is
sometimes reopened by a lead, and may simply stall; its amount, expected close date and strategy change
along the way (the field-change log). Moves after the anchor's working day never happen, so recent deals
are still open. The deal row is the story's end: stage, stage_entered_at, won_on/lost_on (the local date of
the win or loss), lost reason and origin; each history row's amount is the deal's amount at that moment and
its from_entered_at the moment of the deal's previous row. History and field changes are numbered in the
order they happened across all deals (as a live system would have numbered them), so tables are laid out on
disk in time order. The same seed gives the same rows, on either database.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import json
import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

DEFAULT_ANCHOR = date(2026, 11, 23)
YEARS = 3
PASSWORD = "bench-pass-1"  # every generated user's password (benchmark databases only)
EMAIL_DOMAIN = "bench.example.com"
DAY = 86_400
OFFICE_OPENS, OFFICE_HOURS = 9 * 3600, 10 * 3600  # moves happen 09:00-19:00 local
NOW_HOUR = 18  # the data's "now": 18:00 local on the anchor day
GROWTH = 2.0  # the last month sees (1 + GROWTH) times as many new deals as the first
DEALS_PER_ACCOUNT = 4
DEALS_PER_REP = 2_500
MAX_MOVES = 24
# --activities: a touch every few days (exponential gaps, mean below; twice as long for households) while a deal
# sits in a board stage, until the stay goes quiet (log-normal, median 30 days): a stalled deal's last touch is old.
ACTIVITY_GAP_DAYS = {"qualify": 6, "evaluate": 5, "propose": 4, "close": 3, "follow_up": 20}
ACTIVITY_QUIET_DAYS = 30
MAX_ACTIVITIES = 40  # per deal

OPEN = ("qualify", "evaluate", "propose", "close")
NEXT = {"qualify": "evaluate", "evaluate": "propose", "propose": "close", "close": "follow_up"}
PREVIOUS = {"evaluate": "qualify", "propose": "evaluate", "close": "propose", "follow_up": "close"}
STRATEGIES = ("frontal", "flanking", "divide_and_conquer", "develop_for_future", "fortify_to_defend")
STRATEGY_WEIGHTS = (30, 18, 14, 16, 22)

# What ends a stay in each stage: cumulative probabilities of (advance or complete, lose, revert); the rest stall.
OUTCOMES: dict[str, tuple[float, float, float]] = {
    "qualify": (0.87, 0.95, 0.95),
    "evaluate": (0.72, 0.82, 0.94),
    "propose": (0.64, 0.82, 0.94),
    "close": (0.74, 0.87, 0.96),
    "follow_up": (0.85, 0.85, 0.88),
}
# Median days of a stay before the move that ends it, and the spread of the log-normal.
STAY_DAYS: dict[str, float] = {
    "qualify": 9,
    "evaluate": 16,
    "propose": 14,
    "close": 11,
    "follow_up": 45,
    "lost": 40,
}
STAY_SIGMA = 0.85
REOPEN_SHARE = 0.085  # of lost deals, reopened by a lead (about 3% of all deals)
OVERRIDE_SHARE = 0.01  # of advances, a lead overrides the gate
LEAD_MOVES = 0.04  # of other moves, made by the owner's lead rather than the owner
B2C_SHARE = 0.06
KNOWN_REASON_WEIGHTS: dict[str, dict[str, int]] = {
    "qualify": {"no_budget": 5, "timing": 4, "requirements": 3, "no_decision": 3, "relationship": 2, "price": 1},
    "evaluate": {"requirements": 5, "competitor": 4, "no_budget": 3, "relationship": 3, "no_decision": 2},
    "propose": {"price": 8, "competitor": 6, "no_decision": 3, "requirements": 2, "relationship": 2},
    "close": {"price": 6, "competitor": 5, "no_decision": 3, "timing": 2, "relationship": 1},
}

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲晨帆婷雪琳浩宇欣怡思然佳建国志海燕德春"
CN_NUMBERS = "一二三四五六七八九十"


# ---- Times as integers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The data's calendar: UTC seconds everywhere, office hours in the team's zone (its offset at the anchor)."""

    zone: ZoneInfo
    anchor: date

    @property
    def offset(self) -> int:
        moment = datetime.combine(self.anchor, dtime(12), self.zone)
        delta = moment.utcoffset()
        return int(delta.total_seconds()) if delta else 0

    @property
    def now(self) -> int:
        """18:00 local on the anchor day: nothing in the data happens at or after it."""
        return int(datetime.combine(self.anchor, dtime(NOW_HOUR), self.zone).timestamp())

    def local_day(self, moment: int) -> int:
        """Days since 1970-01-01 of the moment's local date (for won_on/lost_on)."""
        return datetime.fromtimestamp(moment, self.zone).date().toordinal() - EPOCH_ORDINAL


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def epoch_day(day: date) -> int:
    """Days since 1970-01-01: the generator counts dates as integers."""
    return day.toordinal() - EPOCH_ORDINAL


def day_date(day: int) -> date:
    """The date of a day count."""
    return date.fromordinal(day + EPOCH_ORDINAL)


def moment(seconds: int) -> datetime:
    """An aware UTC datetime from the generator's integer seconds."""
    return datetime.fromtimestamp(seconds, UTC)


# ---- What is generated ---------------------------------------------------------------------------------------

# The columns each bulk-written table gets, in the order the rows carry them.
TABLES: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "name", "kind", "industry", "region", "owner_id", "created_at", "updated_at"),
    "deals": (
        "id",
        "account_id",
        "owner_id",
        "title",
        "amount_cents",
        "currency",
        "expected_close_date",
        "stage",
        "stage_entered_at",
        "strategy",
        "strategy_rationale",
        "competitors",
        "next_step",
        "next_step_due",
        "lost_reason_key",
        "lost_from_stage",
        "won_on",
        "lost_on",
        "version",
        "created_at",
        "updated_at",
    ),
    "stage_events": (
        "id",
        "deal_id",
        "from_stage",
        "to_stage",
        "trigger",
        "user_id",
        "at",
        "from_entered_at",
        "reason",
        "lost_reason_key",
        "amount_cents",
        "override",
        "overridden",
    ),
    "field_changes": ("id", "entity", "entity_id", "field", "old_value", "new_value", "user_id", "at", "stage"),
    "deal_checklist_items": ("id", "deal_id", "item_key", "stage", "done", "done_by_id", "done_at", "note"),
    "activities": (
        "id",
        "kind",
        "deal_id",
        "account_id",
        "contact_id",
        "user_id",
        "occurred_at",
        "summary",
        "outcome",
        "created_at",
        "updated_at",
    ),
}
# Parents before children: a buffered writer flushes in this order so foreign keys always find their row.
LOAD_ORDER = ("accounts", "deals", "stage_events", "field_changes", "deal_checklist_items", "activities")


@dataclass(frozen=True)
class Options:
    """How much to generate and from which seed; the anchor is the data's last day."""

    deals: int
    seed: int = 1
    anchor: date = DEFAULT_ANCHOR
    checklists: bool = False
    board_only: bool = False  # no story ends off the board: where it would be lost or completed, it stalls instead
    activities: bool = False  # calls, visits, e-mails, meetings and notes during each stay in a board stage


@dataclass
class Reference:
    """What the generator reads from the migrated database: lost reasons and checklist templates."""

    lost_reasons: list[str]
    checklist: dict[str, list[tuple[str, bool]]]  # stage -> [(item key, required)] in the method's order


@dataclass
class Staff:
    """Teams, their leads, reps and the admin, as rows and as lookups the deals need."""

    teams: list[tuple[int, str]]
    users: list[dict[str, Any]]
    lead_ids: list[int]  # by team, in team order
    admin_id: int
    rep_ids: list[int]
    rep_team: dict[int, int]  # rep id -> team index
    team_reps: list[list[int]]
    rep_weights: list[float]  # cumulative, for bisect
    team_regions: list[str]


@dataclass
class Counts:
    """What the stories came to, for the summary: final stages, detours, the longest wait in the heap."""

    final: dict[str, int] = field(default_factory=dict)
    with_revert: int = 0
    reopened: int = 0
    largest_backlog: int = 0


class Generator:
    """Builds every row from one seeded random stream, in an order that depends on nothing else."""

    def __init__(self, options: Options, reference: Reference, clock: Clock, first_ids: dict[str, int]) -> None:
        from pipeline.demo import data

        self.data = data
        self.options = options
        self.reference = reference
        self.clock = clock
        self.rng = random.Random(options.seed)
        self.now = clock.now
        self.offset = clock.offset
        self.start_day = epoch_day(clock.anchor) - YEARS * 365
        self.business_days = [
            d for d in range(self.start_day, epoch_day(clock.anchor) + 1) if (d + 3) % 7 < 5
        ]  # 1970-01-01 was a Thursday: (day + 3) % 7 is Monday = 0
        self.first_ids = first_ids
        self.counts = Counts()
        industries = list(data.INDUSTRIES)
        self.industries = industries
        self.industry_cum = list(itertools.accumulate(data.INDUSTRIES[i][0] for i in industries))
        self.reasons = reference.lost_reasons
        self.reason_cum = {
            stage: list(itertools.accumulate(weights.get(key, 1) for key in self.reasons))
            for stage, weights in KNOWN_REASON_WEIGHTS.items()
        }
        self.strategy_cum = list(itertools.accumulate(STRATEGY_WEIGHTS))
        self.required = {
            stage: [key for key, required in items if required] for stage, items in reference.checklist.items()
        }
        self.staff: Staff | None = None
        self.days: dict[int, str] = {}
        self.clock_text = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)]
        self.accounts: list[tuple[int, int, bool, str]] = []  # per account: created, owner, b2c, industry
        # Activities draw from their own stream, so --activities leaves every other row as it was.
        self.activity_rng = random.Random(f"activities {options.seed}")
        self.activity_kinds = list(data.ACTIVITY_KIND_WEIGHTS)
        self.activity_cum = list(itertools.accumulate(data.ACTIVITY_KIND_WEIGHTS.values()))

    # ---- small draws --------------------------------------------------------------------------------------------

    def pick(self, options: Sequence[str]) -> str:
        """One of the options, uniformly (a cheaper rng.choice)."""
        return options[int(self.rng.random() * len(options))]

    def day(self, day: int | None) -> str | None:
        """A date as both databases read it in a row: ISO."""
        if day is None:
            return None
        text_ = self.days.get(day)
        if text_ is None:
            text_ = self.days[day] = day_date(day).isoformat()
        return text_

    def moment(self, seconds: int) -> str:
        """A UTC moment as both databases read it (and as SQLAlchemy stores DateTime on SQLite)."""
        day, second = divmod(seconds, DAY)
        return f"{self.day(day)} {self.clock_text[second]}"

    def person_name(self) -> str:
        """A Chinese name: surname and one or two given characters."""
        given = self.pick(GIVEN) + (self.pick(GIVEN) if self.rng.random() < 0.7 else "")
        return self.pick(SURNAMES) + given

    def created_moment(self, quantile: float) -> int:
        """The working-day moment at this quantile of deal creation: density grows linearly to the anchor."""
        g = GROWTH
        x = (-1 + math.sqrt(1 + 2 * g * quantile * (1 + g / 2))) / g
        position = min(x, 0.999_999_9) * len(self.business_days)
        index = int(position)
        local = self.business_days[index] * DAY + OFFICE_OPENS + int((position - index) * OFFICE_HOURS)
        return min(local - self.offset, self.now - 60)

    def office(self, moment: int, rng: random.Random | None = None) -> int:
        """Move a moment into office hours, and most weekend moments to the Monday after."""
        rng = rng or self.rng
        local = moment + self.offset
        day, second = divmod(local, DAY)
        if second < OFFICE_OPENS:
            second = OFFICE_OPENS + int(rng.random() * OFFICE_HOURS)
        elif second >= OFFICE_OPENS + OFFICE_HOURS:
            day += 1
            second = OFFICE_OPENS + int(rng.random() * OFFICE_HOURS)
        weekday = (day + 3) % 7
        if weekday >= 5 and rng.random() < 0.85:
            day += 7 - weekday
        return day * DAY + second - self.offset

    def office_within(self, moment: int, end: int) -> int:
        """The moment in office hours if that is still before `end`, else the moment itself."""
        moved = self.office(moment)
        return moved if moved < end else moment

    def amount(self, b2c: bool) -> int:
        """Cents: log-normal, most B2B deals ¥50k-¥1M, a long tail to ¥5M; consumer deals a few thousand yuan."""
        rng = self.rng
        if b2c:
            yuan = min(max(rng.lognormvariate(math.log(8_000), 0.6), 1_000), 60_000)
            return round(yuan / 100) * 10_000
        yuan = min(max(rng.lognormvariate(math.log(260_000), 0.95), 20_000), 5_000_000)
        step = 10_000 if yuan >= 1_000_000 else 1_000
        cents = round(yuan / step) * step * 100
        if rng.random() < 0.04:
            cents += int(rng.random() * 100) * 100 + (50 if rng.random() < 0.5 else 0)
        return cents

    def revised(self, cents: int) -> int:
        """A new amount after negotiation: mostly a discount, sometimes a bigger scope."""
        rng = self.rng
        factor = 0.78 + rng.random() * 0.2 if rng.random() < 0.7 else 1.05 + rng.random() * 0.4
        new = max(100_000, round(cents * factor / 10_000) * 10_000)
        return new if new != cents else new + 100_000

    def strategy(self) -> str:
        """A competitive strategy, frontal and fortify-to-defend the most common."""
        return STRATEGIES[bisect.bisect_right(self.strategy_cum, self.rng.random() * self.strategy_cum[-1])]

    def lost_reason(self, stage: str) -> str:
        """A lost reason as likely at this stage: price and competitor late, budget and timing early."""
        cum = self.reason_cum[stage]
        return self.reasons[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    # ---- people and accounts ------------------------------------------------------------------------------------

    def make_staff(self, password_hash: str | None) -> Staff:
        """An admin, --deals/2,500 reps (4-400) in one team per ten reps (2-40), each team with a lead."""
        rng, data = self.rng, self.data
        reps = min(max(round(self.options.deals / DEALS_PER_REP), 4), 400)
        teams = min(max(round(reps / 10), 2), 40)
        joined = (self.start_day - 60) * DAY + OFFICE_OPENS - self.offset
        team_rows: list[tuple[int, str]] = []
        regions: list[str] = []
        per_region: dict[str, int] = {}
        for t in range(teams):
            region = data.TEAM_REGIONS[t % len(data.TEAM_REGIONS)]
            per_region[region] = per_region.get(region, 0) + 1
            n = per_region[region]
            team_rows.append((t, f"{region}{CN_NUMBERS[n - 1] if n <= 10 else n}组"))
            regions.append(region)
        users: list[dict[str, Any]] = []
        next_id = itertools.count(self.first_ids["users"])

        def user(email: str, role: str, team: int | None) -> int:
            uid = next(next_id)
            users.append(
                {
                    "id": uid,
                    "email": email,
                    "name": self.person_name(),
                    "password_hash": password_hash,
                    "role": role,
                    "team": team,
                    "active": True,
                    "locale": "en" if rng.random() < 0.1 else "zh",
                    "session_epoch": 0,
                    "created_at": moment(joined),
                    "updated_at": moment(joined),
                }
            )
            return uid

        admin = user(f"admin@{EMAIL_DOMAIN}", "admin", None)
        leads = [user(f"lead{t + 1:02d}@{EMAIL_DOMAIN}", "lead", t) for t in range(teams)]
        team_weights = [rng.lognormvariate(0, 0.4) for _ in range(teams)]
        team_cum = list(itertools.accumulate(team_weights))
        rep_ids: list[int] = []
        rep_team: dict[int, int] = {}
        team_reps: list[list[int]] = [[] for _ in range(teams)]
        for r in range(reps):
            team = r if r < teams else bisect.bisect_right(team_cum, rng.random() * team_cum[-1])
            uid = user(f"rep{r + 1:03d}@{EMAIL_DOMAIN}", "rep", team)
            rep_ids.append(uid)
            rep_team[uid] = team
            team_reps[team].append(uid)
        # Some reps sell far more than others (the 80/20 of the seeds): a log-normal share of new accounts.
        weights = list(itertools.accumulate(rng.lognormvariate(0, 0.6) for _ in rep_ids))
        self.staff = Staff(team_rows, users, leads, admin, rep_ids, rep_team, team_reps, weights, regions)
        return self.staff

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """(table, row) for every account, deal, history row, field change and checklist item, parents first."""
        for row in self.account_rows(self.first_ids["accounts"]):
            yield "accounts", row
        yield from self.deal_rows(self.first_ids)

    def account_rows(self, first_id: int) -> Iterator[tuple[Any, ...]]:
        """One account per four deals, each opened shortly before the deal that introduces it."""
        assert self.staff is not None
        rng, data, staff = self.rng, self.data, self.staff
        n = max(1, self.options.deals // DEALS_PER_ACCOUNT)
        for j in range(n):
            owner = staff.rep_ids[bisect.bisect_right(staff.rep_weights, rng.random() * staff.rep_weights[-1])]
            region = staff.team_regions[staff.rep_team[owner]]
            city = self.pick(data.REGIONS[region])
            introduced = self.created_moment(DEALS_PER_ACCOUNT * j / self.options.deals)
            created = self.office(introduced - int(rng.random() * 20 * DAY))
            created = min(created, introduced)
            brand = self.pick(data.BRANDS)
            if rng.random() < B2C_SHARE:
                b2c, industry = True, data.B2C_INDUSTRY
                name = f"{self.pick(SURNAMES)}{'先生' if rng.random() < 0.5 else '女士'}家（{city}）"
            else:
                b2c = False
                industry = self.industries[bisect.bisect_right(self.industry_cum, rng.random() * self.industry_cum[-1])]
                name = f"{city}{brand}{self.pick(data.INDUSTRIES[industry][1])}"
            self.accounts.append((created, owner, b2c, industry))
            at = self.moment(created)
            yield (first_id + j, name, "b2c" if b2c else "b2b", industry, region, owner, at, at)

    # ---- deals --------------------------------------------------------------------------------------------------

    def deal_rows(self, first_ids: dict[str, int]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """(table, row) for every deal and its history, in an order where each row's parents come first.

        Deals come in creation order (their ids); history and field changes wait in a heap until no deal
        still to be made can have an earlier one, and are numbered as they leave it: in time order.
        """
        next_id = {table: itertools.count(first_ids[table]) for table in TABLES}
        pending: list[tuple[int, int, str, tuple[Any, ...]]] = []
        sequence = itertools.count()
        n = self.options.deals
        first_deal = first_ids["deals"]
        for k in range(n):
            created = self.created_moment((k + self.rng.random()) / n)
            while pending and pending[0][0] < created:
                _, _, table, row = heapq.heappop(pending)
                yield table, (next(next_id[table]), *row)
            deal, later, items, touches = self.deal(k, first_deal + k, created)
            next(next_id["deals"])
            yield "deals", deal
            for at, table, row in later:
                heapq.heappush(pending, (at, next(sequence), table, row))
            for item in items:
                yield "deal_checklist_items", (next(next_id["deal_checklist_items"]), *item)
            for touch in touches:  # numbered in deal order, not time order: they would triple the heap
                yield "activities", (next(next_id["activities"]), *touch)
            if len(pending) > self.counts.largest_backlog:
                self.counts.largest_backlog = len(pending)
        while pending:
            _, _, table, row = heapq.heappop(pending)
            yield table, (next(next_id[table]), *row)

    def deal(
        self, k: int, deal_id: int, created: int
    ) -> tuple[tuple[Any, ...], list[tuple[int, str, tuple[Any, ...]]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The k-th deal's whole story: its final row, its history and field changes (at, table, row), its checklist
        and its activities."""
        assert self.staff is not None
        rng, data, staff, now = self.rng, self.data, self.staff, self.now
        newest = min(len(self.accounts) - 1, k // DEALS_PER_ACCOUNT)
        # A new customer a third of the time, else an earlier account (the recent ones more often).
        account = newest if rng.random() < 0.35 else int((newest + 1) * rng.random() ** 0.6)
        while self.accounts[account][0] > created and account > 0:
            account -= 1
        _, acc_owner, b2c, industry = self.accounts[account]
        team = staff.rep_team[acc_owner]
        owner = acc_owner if rng.random() < 0.92 else self.pick_rep(team)
        lead = staff.lead_ids[team]
        title = self.pick(data.B2C_TITLES if b2c else data.INDUSTRIES[industry][2])
        if rng.random() < 0.25:
            title = f"{day_date((created + self.offset) // DAY).year} 年{title}"
        elif rng.random() < 0.1:
            title = f"{title}（二期）"

        amount = self.amount(b2c) if rng.random() < 0.85 else 0
        created_day = (created + self.offset) // DAY
        close: int | None = created_day + 20 + int(rng.random() * (60 if b2c else 160)) if rng.random() < 0.75 else None
        strategy: str | None = self.strategy() if rng.random() < 0.15 else None

        history: list[tuple[int, str, tuple[Any, ...]]] = []
        changes: list[tuple[int, str, tuple[Any, ...]]] = []
        stays: dict[str, tuple[int, int]] = {}  # stage -> (entered, left) of its latest stay, for checklists
        spans: list[tuple[str, int, int]] = []  # every stay: (stage, entered, left), for activities
        state = {"amount": amount, "close": close, "strategy": strategy}

        def change(at: int, stage: str, name: str, old: Any, new: Any) -> None:
            """Log one edit, with the stage the deal was in (as pipeline.core.changelog does)."""
            row = ("deal", deal_id, name, text(name, old), text(name, new), owner, self.moment(at), stage)
            changes.append((at, "field_changes", row))

        def stay_changes(stage: str, start: int, end: int, advancing: bool) -> None:
            """The field edits made while the deal sat in `stage` from start to end (exclusive)."""
            if end - start < 4 or stage in ("lost", "done"):
                return
            wanted: list[str] = []
            r = rng.random
            if stage == "qualify":
                if state["amount"] == 0 and r() < 0.3:
                    wanted.append("amount")
                if state["close"] is None and r() < 0.25:
                    wanted.append("close")
            elif stage == "evaluate":
                if state["strategy"] is None:
                    if advancing or r() < 0.35:
                        wanted.append("strategy")
                elif r() < 0.04:
                    wanted.append("strategy")
                if (state["amount"] == 0 and (advancing or r() < 0.5)) or (state["amount"] and r() < 0.05):
                    wanted.append("amount")
                if state["close"] is None and (advancing or r() < 0.5):
                    wanted.append("close")
            elif stage == "propose":
                if r() < 0.18:
                    wanted.append("amount")
                if r() < 0.15:
                    wanted.append("close")
                    if r() < 0.3:
                        wanted.append("close")
                if r() < 0.04:
                    wanted.append("strategy")
            elif stage == "close":
                if r() < 0.12:
                    wanted.append("amount")
                if r() < 0.2:
                    wanted.append("close")
            elif stage == "follow_up" and r() < 0.03:
                wanted.append("amount")
            if not wanted:
                return
            moments = sorted(self.office_within(start + 1 + int(r() * (end - start - 2)), end) for _ in wanted)
            for at, name in zip(moments, wanted, strict=True):
                if name == "amount":
                    old = state["amount"]
                    new = self.amount(b2c) if old == 0 else self.revised(old)
                    state["amount"] = new
                    change(at, stage, "amount", old, new)
                elif name == "close":
                    old = state["close"]
                    today = (at + self.offset) // DAY
                    if old is None:
                        new = today + 14 + int(r() * 120)
                    elif r() < 0.06:
                        new = max(today + 1, old - 7 - int(r() * 30))  # pulled in
                    else:
                        new = max(old, today) + 7 + int(r() * 60)  # slipped
                    if new == old:
                        continue
                    state["close"] = new
                    change(at, stage, "expected_close_date", old, new)
                else:
                    old = state["strategy"]
                    if old is not None and stage != "evaluate" and r() < 0.1:
                        new_strategy = None  # cleared
                    else:
                        new_strategy = self.strategy()
                        while new_strategy == old:
                            new_strategy = self.strategy()
                    state["strategy"] = new_strategy
                    change(at, stage, "strategy", old, new_strategy)

        stage, entered = "qualify", created
        entered_text = self.moment(created)
        history.append(
            (
                created,
                "stage_events",
                (deal_id, None, "qualify", "create", owner, entered_text, None, "", None, amount, False, "[]"),
            )
        )
        won_day = lost_day = None
        lost_key = lost_from = None
        reverted = reopened = False
        for _ in range(MAX_MOVES):
            if stage == "done":
                break
            r = rng.random()
            if stage == "lost":
                if r >= REOPEN_SHARE:
                    break
                outcome = "reopen"
            else:
                advance, lose, revert = OUTCOMES[stage]
                outcome = "advance" if r < advance else "lose" if r < lose else "revert" if r < revert else "stall"
                if stage == "follow_up" and outcome == "advance":
                    outcome = "complete"
                if self.options.board_only and outcome in ("lose", "complete"):
                    outcome = "stall"  # the deal stays on the board: still in this stage today
            if outcome == "stall":
                stay_changes(stage, entered, now, False)
                break
            stay = max(600, int(rng.lognormvariate(math.log(STAY_DAYS[stage] * DAY), STAY_SIGMA)))
            at = self.office(entered + stay)  # never earlier than its argument: after `entered`
            happened = at < now
            stay_changes(stage, entered, at if happened else now, outcome == "advance" and happened)
            if not happened:
                break
            stays[stage] = (entered, at)
            spans.append((stage, entered, at))
            by, reason, key, override, overridden = owner, "", None, False, "[]"
            if outcome == "advance" or outcome == "complete":
                dest = NEXT.get(stage, "done")
                if rng.random() < OVERRIDE_SHARE and self.required.get(stage):
                    by, override = lead, True
                    overridden = json.dumps(self.required[stage][: 1 + int(rng.random() * 2)])
                    reason = self.pick(data.OVERRIDE_REASONS)
                elif rng.random() < LEAD_MOVES:
                    by = lead
                if dest == "follow_up":
                    won_day = self.clock.local_day(at)
            elif outcome == "lose":
                dest, key = "lost", self.lost_reason(stage)
                lost_day, lost_key, lost_from = self.clock.local_day(at), key, stage
                if rng.random() < 0.5:
                    reason = data.LOST_NOTES.get(key, "")
            elif outcome == "revert":
                dest, reverted = PREVIOUS[stage], True
                reason = self.pick(data.REVERT_REASONS)
                if rng.random() < LEAD_MOVES:
                    by = lead
                if stage == "follow_up":
                    won_day = None
            else:  # reopen, by the team's lead (an admin now and then)
                assert lost_from is not None
                dest, reopened = lost_from, True
                by = staff.admin_id if rng.random() < 0.1 else lead
                reason = self.pick(data.REOPEN_REASONS)
                lost_day = lost_key = lost_from = None
            at_text = self.moment(at)
            history.append(
                (
                    at,
                    "stage_events",
                    (
                        deal_id,
                        stage,
                        dest,
                        outcome,
                        by,
                        at_text,
                        entered_text,
                        reason,
                        key,
                        state["amount"],
                        override,
                        overridden,
                    ),
                )
            )
            stage, entered, entered_text = dest, at, at_text

        counts = self.counts
        counts.final[stage] = counts.final.get(stage, 0) + 1
        counts.with_revert += reverted
        counts.reopened += reopened
        final_strategy = state["strategy"]
        last = max(history[-1][0], changes[-1][0] if changes else 0)
        today = epoch_day(self.clock.anchor)
        is_open = stage in OPEN or stage == "follow_up"
        row = (
            deal_id,
            account + self.first_ids["accounts"],
            owner,
            title,
            state["amount"],
            "CNY",
            self.day(state["close"]),
            stage,
            entered_text,
            final_strategy,
            self.pick(data.STRATEGY_RATIONALES[final_strategy]) if final_strategy and rng.random() < 0.7 else "",
            "、".join(rng.sample(data.COMPETITORS, 1 + int(rng.random() * 2))) if rng.random() < 0.5 else "",
            self.pick(data.NEXT_STEPS[stage]) if is_open else "",
            self.day(today - 10 + int(rng.random() * 30)) if is_open else None,
            lost_key if stage == "lost" else None,
            lost_from if stage == "lost" else None,
            self.day(won_day) if stage in ("follow_up", "done") else None,
            self.day(lost_day) if stage == "lost" else None,
            len(history) + len(changes),
            history[0][2][5],
            self.moment(last),
        )
        items: list[tuple[Any, ...]] = []
        if self.options.checklists and is_open:  # the deals the board shows
            stays[stage] = (entered, now)
            for item_stage, (start, end) in stays.items():
                for key, required in self.reference.checklist.get(item_stage, ()):
                    passed = item_stage != stage
                    done = (required and passed) or rng.random() < (0.7 if passed else 0.45)
                    done_at = self.moment(start + 1 + int(rng.random() * max(1, end - start - 2))) if done else None
                    items.append((deal_id, key, item_stage, done, owner if done else None, done_at, ""))
        touches: list[tuple[Any, ...]] = []
        if self.options.activities:
            if is_open:
                spans.append((stage, entered, now))
            touches = self.touches(deal_id, account + self.first_ids["accounts"], owner, b2c, spans)
        return row, history + changes, items, touches

    def touches(
        self, deal_id: int, account_id: int, owner: int, b2c: bool, spans: list[tuple[str, int, int]]
    ) -> list[tuple[Any, ...]]:
        """The owner's calls, visits, e-mails, meetings and notes on a deal, stay by stage, until each goes quiet."""
        rng, data = self.activity_rng, self.data
        rows: list[tuple[Any, ...]] = []
        for stage, start, end in spans:
            gap = ACTIVITY_GAP_DAYS.get(stage)
            if gap is None:
                continue
            mean = gap * DAY * (2 if b2c else 1)
            stop = min(end, start + int(rng.lognormvariate(math.log(ACTIVITY_QUIET_DAYS * DAY), 0.9)))
            at = start + int(rng.expovariate(1 / mean))
            while at < stop and len(rows) < MAX_ACTIVITIES:
                moved = self.office(at, rng)
                when = moved if moved < stop else at
                kind = self.activity_kinds[bisect.bisect_right(self.activity_cum, rng.random() * self.activity_cum[-1])]
                summaries = data.ACTIVITY_SUMMARIES[kind]
                outcome = (
                    "" if kind == "note" else data.ACTIVITY_OUTCOMES[int(rng.random() * len(data.ACTIVITY_OUTCOMES))]
                )
                text_ = self.moment(when)
                rows.append(
                    (
                        kind,
                        deal_id,
                        account_id,
                        None,
                        owner,
                        text_,
                        summaries[int(rng.random() * len(summaries))],
                        outcome,
                        text_,
                        text_,
                    )
                )
                at = max(at, when) + int(rng.expovariate(1 / mean))
        return rows

    def pick_rep(self, team: int) -> int:
        """Another rep of the team (a deal owned by someone other than the account's rep)."""
        assert self.staff is not None
        reps = self.staff.team_reps[team]
        return reps[int(self.rng.random() * len(reps))]


def text(name: str, value: Any) -> str | None:
    """A field value as the change log writes it (pipeline.core.changelog.as_text): "1234.50", ISO dates, keys."""
    if value is None:
        return None
    if name == "amount":
        return f"{value // 100}.{value % 100:02d}"
    if name == "expected_close_date":
        return day_date(value).isoformat()
    return str(value)


# ---- Writing -------------------------------------------------------------------------------------------------


class SqliteWriter:
    """`executemany` per table in large transactions, synchronous=OFF while loading; parents flushed first."""

    def __init__(self, engine: Engine, batch: int = 50_000, commit_every: int = 1_000_000) -> None:
        self.connection: Any = engine.raw_connection()
        self.raw: sqlite3.Connection = self.connection.driver_connection
        self.raw.execute("PRAGMA synchronous=OFF")
        self.raw.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache for the index inserts
        self.raw.execute("BEGIN")  # the app's connections leave BEGIN to the caller (pipeline/core/database.py)
        self.statements = {
            t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
            for t, cols in TABLES.items()
        }
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.buffered = 0
        self.uncommitted = 0
        self.batch = batch
        self.commit_every = commit_every

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)
        self.buffered += 1
        if self.buffered >= self.batch:
            self.flush()

    def flush(self) -> None:
        for table in LOAD_ORDER:
            rows = self.buffers[table]
            if rows:
                self.raw.executemany(self.statements[table], rows)
                rows.clear()
        self.uncommitted += self.buffered
        self.buffered = 0
        if self.uncommitted >= self.commit_every:
            self.raw.commit()
            self.raw.execute("BEGIN")
            self.uncommitted = 0

    def close(self) -> None:
        self.flush()
        self.raw.commit()
        self.raw.execute("PRAGMA synchronous=NORMAL")
        self.connection.close()


class CopyWriter:
    """PostgreSQL: one `COPY … FROM STDIN` per table streaming on its own connection while rows are built.

    The connections skip foreign-key triggers (`session_replication_role = replica`, as pg_restore's
    --disable-triggers does): rows are written as they come, a child may reach the server before its parent
    commits, and the load checks every reference afterwards (`check_references`). Indexes stay as the
    migrations made them.
    """

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        self.params = {
            "host": u.host or "127.0.0.1",
            "port": u.port or 5432,
            "user": u.username,
            "password": u.password,
            "dbname": u.database,
        }
        self.psycopg = psycopg
        self.open: dict[str, tuple[Any, Any, Any]] = {}  # table -> (connection, copy context, copy)

    def _copy(self, table: str) -> Any:
        conn = self.psycopg.connect(**self.params)
        try:
            conn.execute("SET session_replication_role = replica")
        except self.psycopg.errors.InsufficientPrivilege:
            conn.close()
            raise SystemExit("bench.generate loads PostgreSQL as a superuser (session_replication_role)") from None
        context = conn.cursor().copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN")
        self.open[table] = (conn, context, context.__enter__())
        return self.open[table][2]

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        opened = self.open.get(table)
        (opened[2] if opened else self._copy(table)).write_row(row)

    def close(self) -> None:
        for table in LOAD_ORDER:  # end each COPY and commit, parents first
            if table in self.open:
                conn, context, _ = self.open.pop(table)
                context.__exit__(None, None, None)
                conn.commit()
                conn.close()


# ---- The load ------------------------------------------------------------------------------------------------


def read_reference() -> Reference:
    """The active lost reasons and checklist templates, in their configured order."""
    from sqlalchemy import select

    from pipeline.deals.models import ChecklistTemplate, LostReason
    from pipeline.extensions import db

    reasons = list(
        db.session.scalars(select(LostReason.key).where(LostReason.active.is_(True)).order_by(LostReason.position))
    )
    if not reasons:
        raise SystemExit("the database has no active lost reasons: is it migrated?")
    checklist: dict[str, list[tuple[str, bool]]] = {}
    for stage, key, required in db.session.execute(
        select(ChecklistTemplate.stage, ChecklistTemplate.key, ChecklistTemplate.required)
        .where(ChecklistTemplate.active.is_(True))
        .order_by(ChecklistTemplate.position)
    ):
        checklist.setdefault(stage, []).append((key, required))
    return Reference(reasons, checklist)


def _next_ids() -> dict[str, int]:
    from sqlalchemy import text as sql

    from pipeline.extensions import db

    return {
        table: db.session.execute(sql(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one()
        for table in ("users", "teams", *TABLES)
    }


def kept_figures(engine: Any) -> None:
    """Set what each deal keeps for the export (deals/kept.py) from the loaded rows, as the migration does."""
    from pipeline.deals.kept import RECOUNT_ALL

    with engine.connect() as conn:
        for statement in RECOUNT_ALL:
            conn.exec_driver_sql(statement)
        conn.commit()


def generate(options: Options, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fill the app's (migrated, deal-free) database; return rows per table, timings and the story's mix.

    Needs an app context. Commits.
    """
    from sqlalchemy import func, insert, select, update
    from sqlalchemy import text as sql

    from pipeline.auth.models import Team, User
    from pipeline.auth.services import hash_password
    from pipeline.core.timeutil import team_zone
    from pipeline.deals.models import Deal
    from pipeline.extensions import db

    say = progress or (lambda _line: None)
    started = time.perf_counter()
    if db.session.scalar(select(func.count()).select_from(Deal)):
        raise SystemExit("the database already holds deals; bench.generate fills an empty one")
    engine = db.engine
    dialect = engine.dialect.name
    clock = Clock(team_zone(), options.anchor)
    reference = read_reference()
    ids = _next_ids()
    generator = Generator(options, reference, clock, ids)

    staff = generator.make_staff(hash_password(PASSWORD))
    team_ids = {t: ids["teams"] + t for t, _ in staff.teams}
    joined = staff.users[0]["created_at"]
    db.session.execute(
        insert(Team),
        [{"id": team_ids[t], "name": n, "created_at": joined, "updated_at": joined} for t, n in staff.teams],
    )
    db.session.execute(
        insert(User),
        [
            {
                **{k: v for k, v in u.items() if k != "team"},
                "team_id": None if u["team"] is None else team_ids[u["team"]],
            }
            for u in staff.users
        ],
    )
    for t, lead in enumerate(staff.lead_ids):
        db.session.execute(update(Team).where(Team.id == team_ids[t]).values(lead_id=lead))
    db.session.commit()
    say(f"staff: {len(staff.teams)} teams, {len(staff.users)} users")

    rows = {table: 0 for table in TABLES}
    if dialect == "postgresql":
        writer: SqliteWriter | CopyWriter = CopyWriter(engine.url.render_as_string(hide_password=False))
    else:
        writer = SqliteWriter(engine)
    loading = time.perf_counter()
    step = max(1, options.deals // 10)
    for table, row in generator.rows():
        writer.write(table, row)
        rows[table] += 1
        if table == "deals" and rows["deals"] % step == 0:
            elapsed = time.perf_counter() - loading
            say(
                f"deals: {rows['deals']:,} ({rows['stage_events']:,} history rows, {rows['field_changes']:,} field "
                f"changes written, {generator.counts.largest_backlog:,} waiting at most) in {elapsed:.1f} s"
            )
    writer.close()
    loaded = time.perf_counter()
    say(f"written in {loaded - loading:.1f} s")

    db.session.remove()
    kept_figures(engine)  # before the VACUUM, so the visibility map is as fresh as the rows
    say(f"the deals' kept checklist counts and last activity set in {time.perf_counter() - loaded:.1f} s")
    if dialect == "postgresql":
        orphans = check_references(engine)
        if orphans:
            raise SystemExit(f"rows referring to missing parents: {orphans}")
        with engine.connect() as conn:
            for table in ("users", "teams", *TABLES):
                next_id = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})"
                conn.execute(sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {next_id}, false)"))
            conn.commit()
        checked = time.perf_counter()
        say(f"references checked, sequences set in {checked - loaded:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sql("VACUUM (ANALYZE)"))
    else:
        checked = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    analysed = time.perf_counter()
    say(f"{'VACUUM (ANALYZE)' if dialect == 'postgresql' else 'ANALYZE'} in {analysed - checked:.1f} s")
    counts = generator.counts
    deals = max(1, rows["deals"])
    return {
        "database": dialect,
        "options": {**vars(options), "anchor": options.anchor.isoformat()},
        "rows": {"teams": len(staff.teams), "users": len(staff.users), **rows},
        "per_deal": {
            "history": rows["stage_events"] / deals,
            "field_changes": rows["field_changes"] / deals,
        },
        "final": {stage: counts.final.get(stage, 0) / deals for stage in (*OPEN, "follow_up", "done", "lost")},
        "with_revert": counts.with_revert / deals,
        "reopened": counts.reopened / deals,
        "largest_backlog": counts.largest_backlog,
        "seconds": {
            "load": loaded - loading,
            "checks": checked - loaded,
            "analyse": analysed - checked,
            "total": analysed - started,
        },
    }


REFERENCES = (
    ("accounts", "owner_id", "users"),
    ("deals", "account_id", "accounts"),
    ("deals", "owner_id", "users"),
    ("deals", "lost_reason_key", "lost_reasons"),
    ("stage_events", "deal_id", "deals"),
    ("stage_events", "user_id", "users"),
    ("stage_events", "lost_reason_key", "lost_reasons"),
    ("field_changes", "user_id", "users"),
    ("deal_checklist_items", "deal_id", "deals"),
    ("deal_checklist_items", "item_key", "checklist_templates"),
    ("deal_checklist_items", "done_by_id", "users"),
    ("activities", "deal_id", "deals"),
    ("activities", "account_id", "accounts"),
    ("activities", "user_id", "users"),
)


def check_references(engine: Engine) -> dict[str, int]:
    """Rows whose foreign key names no row (the load skipped the per-row checks): {"table.column": count}."""
    from sqlalchemy import text as sql

    found: dict[str, int] = {}
    with engine.connect() as conn:
        for table, column, parent in REFERENCES:
            key = "key" if parent in ("lost_reasons", "checklist_templates") else "id"
            missing = conn.execute(
                sql(
                    f"SELECT COUNT(*) FROM {table} c WHERE c.{column} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = c.{column})"
                )
            ).scalar_one()
            if missing:
                found[f"{table}.{column}"] = missing
    return found


# ---- Command line --------------------------------------------------------------------------------------------


def prepare(url: str, create: str | None) -> tuple[str, bool]:
    """The URL to fill, and whether it is new (so to migrate): a new SQLite file or a database created by name.

    An existing database (a SQLite file that is there, a PostgreSQL URL without --create) is never migrated
    here: pointing --db at the server's maintenance database by mistake must not give it the app's schema.
    """
    from sqlalchemy.engine import make_url

    from bench import _pg_admin, is_postgres

    if is_postgres(url):
        if not create:
            return url, False
        with _pg_admin(url) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (create,)).fetchone():
                raise SystemExit(f"--create {create}: the database exists; drop it or choose another name")
            conn.execute(f'CREATE DATABASE "{create}"')
        return make_url(url).set(database=create).render_as_string(hide_password=False), True
    if create:
        raise SystemExit("--create names a PostgreSQL database; for SQLite give --db sqlite:///FILE")
    if not url.startswith("sqlite:///"):
        raise SystemExit(f"--db {url}: expected sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
    return url, not Path(url.removeprefix("sqlite:///")).exists()


def app_for(url: str, migrate: bool) -> Flask:
    """The real app on `url`: a new database migrated with the real migrations, an existing one checked."""
    import logging

    from flask_migrate import upgrade

    from pipeline import create_app
    from pipeline.core.database import unmigrated_message
    from pipeline.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PIPELINE_CHECK_MIGRATED": False})
    with app.app_context():
        if migrate:
            upgrade()
        behind = unmigrated_message(db.engine)
        if behind:
            raise SystemExit(f"{behind} (bench.generate migrates only the databases it creates)")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="sqlite:///FILE or a PostgreSQL URL")
    parser.add_argument("--create", metavar="NAME", help="create this PostgreSQL database on the --db server")
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--anchor", type=date.fromisoformat, default=DEFAULT_ANCHOR, help="the data's last day")
    parser.add_argument("--checklists", action="store_true", help="also write checklist items of deals on the board")
    parser.add_argument(
        "--board-only",
        action="store_true",
        help="every deal ends on the board (qualify … follow_up): a story that would be lost or completed stalls",
    )
    parser.add_argument("--activities", action="store_true", help="also write calls, visits etc. on each deal")
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    url, new = prepare(args.db, args.create)
    app = app_for(url, migrate=new)
    migrated = time.perf_counter()
    where = url.split("@")[-1]
    print(f"migrated {where} in {migrated - started:.1f} s" if new else f"filling {where} (migrated)", flush=True)

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {line}", flush=True)

    options = Options(args.deals, args.seed, args.anchor, args.checklists, args.board_only, args.activities)
    with app.app_context():
        summary = generate(options, say)
    summary["seconds"]["migrate"] = migrated - started
    summary["seconds"]["wall"] = time.perf_counter() - started

    from bench import describe_db, machine_description, print_table

    print()
    print(f"{describe_db(url)}: {args.deals:,} deals, seed {args.seed}, anchor {args.anchor}", flush=True)
    print_table(["table", "rows"], [[t, n] for t, n in summary["rows"].items()])
    print()
    mix = summary["final"]
    print(
        f"per deal: {summary['per_deal']['history']:.2f} history rows, "
        f"{summary['per_deal']['field_changes']:.2f} field changes; "
        f"open {sum(mix[s] for s in OPEN):.1%}, won {mix['follow_up'] + mix['done']:.1%} "
        f"(跟进 {mix['follow_up']:.1%}, 完结 {mix['done']:.1%}), lost {mix['lost']:.1%}; "
        f"with a revert {summary['with_revert']:.1%}, reopened {summary['reopened']:.1%}"
    )
    secs = summary["seconds"]
    print(
        f"seconds: migrate {secs['migrate']:.1f}, write {secs['load']:.1f}, checks {secs['checks']:.1f}, "
        f"analyse {secs['analyse']:.1f}, wall {secs['wall']:.1f}",
        flush=True,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": machine_description(), **summary}, fh, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
