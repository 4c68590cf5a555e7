"""Build realistic, back-dated demo data through the real services, so every gate and history row is genuine.

Deals are not written as rows in their final state: each one is created at a past moment and lived through —
checklist ticks, amount, close date and strategy, advances, a few reverts and lead overrides, losses and
reopenings — with `at=` moments in order. The generator flushes only; the caller commits once.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.services import create_account, create_contact
from pipeline.activities.models import Activity
from pipeline.activities.services import log_activity
from pipeline.auth.models import Role, User
from pipeline.auth.services import create_user, hash_password, issue_token
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals import services as deals
from pipeline.deals.influences import add_influence, required_roles
from pipeline.deals.method import (
    CLOSE,
    COACH,
    DONE,
    ECONOMIC_BUYER,
    EVALUATE,
    FOLLOW_UP,
    INFLUENCE_ROLE_KEYS,
    LOST,
    PROPOSE,
    STAGE_KEYS,
    STRATEGY_KEYS,
)
from pipeline.deals.models import BuyingInfluence, ChecklistTemplate, Deal, StageEvent
from pipeline.deals.workflow import ADVANCE, COMPLETE, CONTRACT_SIGNED, LOSE, REOPEN, REVERT
from pipeline.demo import data
from pipeline.extensions import db

DEMO_PASSWORD = "pipeline-demo"  # documented in the command's output; demo databases only
HISTORY_DAYS = 182  # six months of back-dated history

# Where the deals end up. Every state gets at least one deal, whatever the scale.
FINAL_SHARES: dict[str, float] = {
    "qualify": 0.14,
    "evaluate": 0.14,
    "propose": 0.13,
    "close": 0.09,
    "follow_up": 0.10,
    "done": 0.17,
    "lost": 0.23,
}
# How long ago a deal that ends in each state was opened (days, min-max).
OPENED_DAYS_AGO: dict[str, tuple[int, int]] = {
    "qualify": (2, 60),
    "evaluate": (12, 90),
    "propose": (25, 120),
    "close": (35, 150),
    "follow_up": (45, 170),
    "done": (75, HISTORY_DAYS),
    "lost": (10, HISTORY_DAYS),
}
LOST_FROM_WEIGHTS: dict[str, int] = {"qualify": 30, "evaluate": 30, "propose": 25, "close": 15}
OVERRIDE = "override"
# A few deals take a detour: a lead overrides a gate, a deal steps back, a lost deal is reopened.
DETOUR_WEIGHTS: dict[str, float] = {OVERRIDE: 0.05, REVERT: 0.07, REOPEN: 0.05, "": 0.83}
MIN_AMOUNT, MAX_AMOUNT = Decimal("50000"), Decimal("5000000")
# How each role in the decision tends to stand: attitude weights, influence weights, relationship depths.
ROLE_STANCE: dict[str, tuple[dict[str, int], dict[str, int], tuple[int, int]]] = {
    ECONOMIC_BUYER: ({"supporter": 45, "neutral": 45, "opponent": 10}, {"high": 1}, (1, 4)),
    "user": ({"supporter": 50, "neutral": 40, "opponent": 10}, {"medium": 60, "low": 40}, (1, 4)),
    "technical": ({"supporter": 40, "neutral": 40, "opponent": 20}, {"high": 30, "medium": 70}, (1, 4)),
    COACH: ({"supporter": 1}, {"high": 20, "medium": 60, "low": 20}, (3, 5)),
}


@dataclass(frozen=True)
class DemoScale:
    """How much to build: the full demo by default; tests ask for less."""

    teams: int = 3
    reps: int = 12
    accounts: int = 300
    deals: int = 1500
    b2c_share: float = 0.12


@dataclass
class DemoResult:
    """Who to sign in as, and what was built."""

    admin: User
    lead: User
    rep: User
    password: str
    rep_token: str
    counts: dict[str, int]
    seconds: float


@dataclass
class _Step:
    """One thing that happens to a deal, in order; `run` is called with the moment it happens."""

    run: Callable[[datetime], Any]


@dataclass
class _Story:
    """A deal's life before it is lived: the account, the owner, the final state and the steps."""

    account: Account
    owner: User
    final: str
    opened: datetime
    ends: datetime
    steps: list[_Step] = field(default_factory=list)
    deal: Deal | None = None


class _Generator:
    def __init__(self, scale: DemoScale, seed: int, anchor: datetime) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        from faker import Faker  # only here: 4 MB a running app or an export has no use for

        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.anchor = anchor
        self.today = anchor.astimezone(team_zone()).date()
        self.lost_reasons = [r.key for r in deals.lost_reasons() if r.key != "other"] or [
            r.key for r in deals.lost_reasons()
        ]
        self.items: dict[str, list[ChecklistTemplate]] = defaultdict(list)
        for t in db.session.scalars(
            select(ChecklistTemplate).where(ChecklistTemplate.active.is_(True)).order_by(ChecklistTemplate.position)
        ):
            self.items[t.stage].append(t)
        self.leads: list[User] = []
        self.reps: list[User] = []
        self.lead_of: dict[int, User] = {}
        self.region_of: dict[int, str] = {}
        self.contacts: dict[int, list[Contact]] = {}
        self.city_of: dict[int, str] = {}
        self.activities: list[Activity] = []

    # ---- helpers ----------------------------------------------------------------------------------------------

    def days_ago(self, days: float) -> datetime:
        return self.anchor - timedelta(days=days)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def weighted(self, weights: dict[str, int] | dict[str, float]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def amount(self, b2c: bool) -> Decimal:
        """Few large deals, many modest ones: a log-normal between ¥50,000 and ¥5,000,000."""
        mu, sigma = (math.log(90_000), 0.45) if b2c else (math.log(380_000), 0.9)
        raw = Decimal(str(self.rng.lognormvariate(mu, sigma)))
        step = Decimal(10_000) if raw >= 1_000_000 else Decimal(1_000)
        return max(MIN_AMOUNT, min(MAX_AMOUNT, (raw / step).to_integral_value() * step)).quantize(Decimal("0.01"))

    # ---- people ---------------------------------------------------------------------------------------------

    def people(self) -> User:
        """An admin, teams with a lead each, and reps spread over the teams; one password hash for all."""
        shared_hash = hash_password(DEMO_PASSWORD)
        joined = self.days_ago(HISTORY_DAYS + 30)

        def person(name: str, local: str, role: str, team: str | None) -> User:
            user = create_user(f"{local}@{data.EMAIL_DOMAIN}", name, role, team=team)
            user.password_hash = shared_hash
            user.created_at = user.updated_at = joined
            return user

        admin = person(data.ADMIN[0], data.ADMIN[1], Role.ADMIN, None)
        teams = [f"{data.TEAM_REGIONS[i % len(data.TEAM_REGIONS)]}大客户部" for i in range(self.scale.teams)]
        for i, team in enumerate(teams):
            name, local = data.LEADS[i % len(data.LEADS)]
            lead = person(name, local if i < len(data.LEADS) else f"{local}{i}", Role.LEAD, team)
            self.leads.append(lead)
        for i in range(self.scale.reps):
            name, local = data.STAFF[i % len(data.STAFF)]
            team_index = i % len(teams)
            rep = person(name, local if i < len(data.STAFF) else f"{local}{i}", Role.REP, teams[team_index])
            self.reps.append(rep)
            self.lead_of[rep.id] = self.leads[team_index]
            self.region_of[rep.id] = data.TEAM_REGIONS[team_index % len(data.TEAM_REGIONS)]
        return admin

    # ---- accounts and contacts ------------------------------------------------------------------------------

    def account_name(self, industry: str, city: str, taken: set[str]) -> str:
        endings = data.INDUSTRIES[industry][1]
        for _ in range(20):
            ending = self.pick(endings)
            public = industry in ("政府", "教育", "医疗") and not ending.endswith("公司")
            name = (
                f"{city}{ending}" if public and self.rng.random() < 0.5 else f"{city}{self.pick(data.BRANDS)}{ending}"
            )
            if name not in taken:
                taken.add(name)
                return name
        name = f"{city}{self.pick(data.BRANDS)}{self.pick(data.BRANDS)}{self.pick(endings)}"
        taken.add(name)
        return name

    def accounts(self) -> list[Account]:
        """Accounts spread over the reps, mostly companies in the rep's region, some consumers."""
        taken: set[str] = set()
        industries = {k: v[0] for k, v in data.INDUSTRIES.items()}
        out: list[Account] = []
        for _ in range(self.scale.accounts):
            owner = self.reps[self.rng.randrange(len(self.reps))]
            home = self.region_of[owner.id]
            region = home if self.rng.random() < 0.8 else self.pick(list(data.REGIONS))
            city = self.pick(data.REGIONS[region])
            if self.rng.random() < self.scale.b2c_share:
                person = self.fake.name()
                account = create_account(
                    owner, f"{person}（{city}）", kind="b2c", industry=data.B2C_INDUSTRY, region=region
                )
            else:
                industry = self.weighted(industries)
                account = create_account(
                    owner, self.account_name(industry, city, taken), kind="b2b", industry=industry, region=region
                )
            self.city_of[account.id] = city
            out.append(account)
        return out

    def address(self, city: str) -> str:
        """A street address in the account's city."""
        city_name = city if city.endswith("市") else f"{city}市"
        return f"{city_name}{self.fake.district()}区{self.fake.street_name()}{self.rng.randint(1, 999)}号"

    def contacts_for(self, account: Account, since: datetime) -> None:
        """One to four people at a company (one or two in a household), with what care needs to know."""
        b2c = account.kind == "b2c"
        owner = account.owner
        domain = self.fake.domain_name()
        office = self.address(self.city_of[account.id])
        people: list[Contact] = []
        for i in range(self.rng.randint(1, 2) if b2c else self.rng.randint(1, 4)):
            name = account.name.split("（")[0] if b2c and i == 0 else self.fake.name()
            title = data.B2C_CONTACT_TITLES[min(i, 2)] if b2c else self.pick(data.CONTACT_TITLES)
            fields: dict[str, Any] = {
                "title": title,
                "mobile": self.fake.phone_number(),
                "email": f"{self.fake.user_name()}@{'qq.com' if b2c else domain}",
            }
            if self.rng.random() < 0.45:
                fields["birthday"] = self.fake.date_of_birth(minimum_age=26, maximum_age=60)
            if self.rng.random() < 0.4:
                fields["address"] = self.address(self.city_of[account.id]) if b2c else office
            if self.rng.random() < 0.3:
                level = self.pick(("一级 认识", "二级 还熟悉", "三级 比较熟悉", "四级 很熟悉", "五级 相知"))
                fields["notes"] = f"关系：{level}"
            contact = create_contact(owner, account, name, **fields)
            contact.created_at = contact.updated_at = since + timedelta(hours=i)
            people.append(contact)
        self.contacts[account.id] = people

    # ---- activities -----------------------------------------------------------------------------------------

    def activity(self, actor: User, account: Account, at: datetime, deal: Deal | None = None) -> None:
        kind = self.weighted(data.ACTIVITY_KIND_WEIGHTS)
        people = self.contacts.get(account.id) or []
        contact = people[self.rng.randrange(len(people))] if people and kind != "note" else None
        activity = log_activity(
            actor,
            kind,
            self.pick(data.ACTIVITY_SUMMARIES[kind]),
            deal_id=deal.id if deal else None,
            account_id=account.id,
            contact_id=contact.id if contact else None,
            outcome="" if kind == "note" else self.pick(data.ACTIVITY_OUTCOMES),
            occurred_at=at,
        )
        self.activities.append(activity)

    # ---- deals ----------------------------------------------------------------------------------------------

    def finals(self) -> list[str]:
        """The final state of each deal, in shares, with every state present at least once."""
        n = self.scale.deals
        counts = {k: max(1, round(share * n)) for k, share in FINAL_SHARES.items()}
        while sum(counts.values()) > n and any(c > 1 for c in counts.values()):
            biggest = max(counts, key=lambda k: counts[k])
            counts[biggest] -= 1
        while sum(counts.values()) < n:
            counts["qualify"] += 1
        out = [k for k, c in counts.items() for _ in range(c)]
        self.rng.shuffle(out)
        return out

    def plan(self, account: Account, final: str, detour: str | None) -> _Story:
        low, high = OPENED_DAYS_AGO[final]
        days = self.rng.uniform(low, high)
        opened = self.days_ago(days)
        if final in (DONE, LOST):
            ends = opened + timedelta(days=days * self.rng.uniform(0.45, 0.95))
        else:
            ends = self.days_ago(self.rng.uniform(0.2, min(25.0, days * 0.4)))
        story = _Story(account, account.owner, final, opened, ends)
        self.write_steps(story, detour)
        return story

    def write_steps(self, story: _Story, detour: str | None) -> None:
        """Lay out the deal's life: work in each stage, the fields a proposal needs, moves, detours."""
        rng, final, owner = self.rng, story.final, story.owner
        lead = self.lead_of[owner.id]
        lost_from = self.weighted(LOST_FROM_WEIGHTS) if final == LOST else None
        rest = lost_from or (FOLLOW_UP if final == DONE else final)
        top = STAGE_KEYS.index(rest)
        b2c = story.account.kind == "b2c"
        # At most one detour per deal: a lead's override, a step back, or a loss a lead reopens.
        override_at = rng.randrange(top) if detour == OVERRIDE and top >= 1 else None
        revert_into = rng.randint(1, min(top, 3)) if detour == REVERT and top >= 1 else None
        reopen_at = rng.randrange(min(top, 3) + 1) if detour == REOPEN and final != LOST else None
        steps = story.steps
        planned_next = False

        def act(fn: Callable[[datetime], Any]) -> None:
            steps.append(_Step(fn))

        def tick(key: str) -> None:
            act(lambda at, key=key: deals.set_checklist_item(owner, story.deal, key, True, at=at))

        def move(trigger: str, actor: User = owner, **kw: Any) -> None:
            act(lambda at: deals.move(actor, story.deal, trigger, at=at, **kw))

        def edit(changes: dict[str, Any]) -> None:
            act(lambda at: self.edit(owner, story.deal, changes, at))

        def touch() -> None:
            act(lambda at: self.activity(owner, story.account, at, story.deal))

        def next_step(stage: str, due_in: tuple[int, int]) -> None:
            text = self.pick(data.NEXT_STEPS[stage])
            act(lambda at: self.edit(owner, story.deal, self.next_step_changes(text, at, due_in), at))

        title = self.pick(data.B2C_TITLES if b2c else data.INDUSTRIES[story.account.industry][2])
        if rng.random() < 0.2:
            title += self.pick(("（一期）", "（二期）", " 续约", " 扩容"))
        act(lambda at: self.open_deal(story, title, at))

        for index in range(top + 1):
            stage = STAGE_KEYS[index]
            resting = index == top and final not in (DONE,)
            items = self.items.get(stage, [])
            if rng.random() < 0.5:
                touch()
            if resting:
                # Work in progress: some items done, the deal waits here (or is lost from here).
                for item in items:
                    if rng.random() < 0.3:
                        tick(item.key)
            else:
                skip = None
                if override_at == index:
                    required = [i.key for i in items if i.required and i.key != CONTRACT_SIGNED]
                    skip = self.pick(required) if required else None
                for item in items:
                    must = (item.required or item.key == CONTRACT_SIGNED) and item.key != skip
                    if must or rng.random() < 0.15:
                        tick(item.key)
            if stage == EVALUATE:
                # Knowing the customer's people is 考察's work: 报价 wants (by default) an economic buyer and a coach.
                roles = self.influence_roles(passing=index < top, waived=override_at == index)
                if roles:
                    act(lambda at, roles=roles: self.identify(owner, story, roles, at))
            if rng.random() < 0.2:
                next_step(stage, (3, 14))
                planned_next = True
            if index == min(top, 1) and (top >= 2 or rng.random() < (0.6 if top == 1 else 0.25)):
                # Amount, close date and strategy come before 报价; deals still early may have a first estimate.
                fields = self.proposal_fields(b2c)
                act(lambda at, fields=fields: self.edit(owner, story.deal, self.with_close_date(fields, at), at))
            if stage == CLOSE and rng.random() < 0.3:
                act(lambda at: self.discount(owner, story.deal, at))
            if reopen_at == index:
                reason = self.pick(self.lost_reasons)
                move(LOSE, lost_reason=reason, reason=data.LOST_NOTES.get(reason, ""))
                move(REOPEN, lead, reason=self.pick(data.REOPEN_REASONS))
            if index < top or final == DONE:
                if index < top and override_at == index:
                    move(ADVANCE, lead, override=True, reason=self.pick(data.OVERRIDE_REASONS))
                elif index < top:
                    move(ADVANCE)
                if revert_into is not None and revert_into == index + 1:
                    move(REVERT, reason=self.pick(data.REVERT_REASONS))
                    touch()
                    move(ADVANCE)
        if final == DONE:
            move(COMPLETE)
        elif final == LOST:
            reason = self.pick(self.lost_reasons)
            move(LOSE, lost_reason=reason, reason=data.LOST_NOTES.get(reason, ""))
        if final in (DONE, LOST) and planned_next:
            edit({"next_step": "", "next_step_due": None})
        elif final not in (DONE, LOST):
            # Open and won deals wait on a next step; about a third of them are overdue.
            final_text = self.pick(data.NEXT_STEPS[rest])
            act(lambda at: self.edit(owner, story.deal, self.final_next_step(final_text), at))

    def influence_roles(self, *, passing: bool, waived: bool) -> list[str]:
        """Who a deal names in 考察: everyone the gate asks for when it moves on (a lead's override may waive
        the coach), some of them when it stays; users and technical buyers now and then."""
        rng = self.rng
        if passing:
            wanted = set(required_roles()) | {ECONOMIC_BUYER, COACH}
            if waived and rng.random() < 0.5:
                wanted.discard(COACH)
            wanted |= {r for r in ("user", "technical") if rng.random() < 0.5}
        else:
            odds = {ECONOMIC_BUYER: 0.6, "user": 0.4, "technical": 0.4, COACH: 0.3}
            wanted = {r for r, p in odds.items() if rng.random() < p}
        return [r for r in INFLUENCE_ROLE_KEYS if r in wanted]

    def identify(self, actor: User, story: _Story, roles: list[str], at: datetime) -> None:
        """Name the deal's people: a fitting contact of the account, or a new one met in 考察."""
        assert story.deal is not None
        account = story.account
        titles = data.B2C_INFLUENCE_TITLES if account.kind == "b2c" else data.INFLUENCE_TITLES
        people = self.contacts.setdefault(account.id, [])
        used: set[int] = set()
        for role in roles:
            fits = [c for c in people if c.id not in used and c.title in titles[role]]
            attitudes, levels, (low, high) = ROLE_STANCE[role]
            stance: dict[str, Any] = {
                "attitude": self.weighted(attitudes),
                "influence": self.weighted(levels),
                "depth": self.rng.randint(low, high),
                "note": self.pick(data.INFLUENCE_NOTES[role]) if self.rng.random() < 0.5 else "",
            }
            if fits:
                who: dict[str, Any] = {"contact_id": fits[self.rng.randrange(len(fits))].id}
            else:
                who = {"name": self.fake.name(), "title": self.pick(titles[role])}
            row = add_influence(actor, story.deal, role=role, at=at, **who, **stance)
            used.add(row.contact_id)
            if not fits:
                people.append(row.contact)

    def open_deal(self, story: _Story, title: str, at: datetime) -> None:
        story.deal = deals.create_deal(story.owner, story.account, title, at=at)

    def edit(self, actor: User, deal: Deal | None, changes: dict[str, Any], at: datetime) -> None:
        assert deal is not None
        deal.updated_at = at  # the same UPDATE as the change, so the row reads as changed then
        deals.update_deal(actor, deal, changes, None, at=at)

    def proposal_fields(self, b2c: bool) -> dict[str, Any]:
        strategy = self.pick(STRATEGY_KEYS)
        return {
            "amount": self.amount(b2c),
            "strategy": strategy,
            "strategy_rationale": self.pick(data.STRATEGY_RATIONALES[strategy]),
            "competitors": "、".join(self.rng.sample(data.COMPETITORS, self.rng.randint(0, 3))),
            "_close_in": self.rng.randint(30, 120),
        }

    def with_close_date(self, fields: dict[str, Any], at: datetime) -> dict[str, Any]:
        """The proposal fields with the expected close date counted from the moment they are set."""
        changes = {k: v for k, v in fields.items() if k != "_close_in"}
        changes["expected_close_date"] = local_date(at) + timedelta(days=fields["_close_in"])
        return changes

    def next_step_changes(self, text: str, at: datetime, due_in: tuple[int, int]) -> dict[str, Any]:
        return {"next_step": text, "next_step_due": local_date(at) + timedelta(days=self.rng.randint(*due_in))}

    def final_next_step(self, text: str) -> dict[str, Any]:
        return {"next_step": text, "next_step_due": self.today + timedelta(days=self.rng.randint(-12, 21))}

    def discount(self, actor: User, deal: Deal | None, at: datetime) -> None:
        assert deal is not None
        lower = (deal.amount * Decimal("0.92") / 1000).to_integral_value() * 1000
        self.edit(actor, deal, {"amount": max(MIN_AMOUNT, lower).quantize(Decimal("0.01"))}, at)

    def live(self, story: _Story) -> None:
        """Play the story's steps at increasing moments between its opening and its end."""
        n = len(story.steps)
        span = (story.ends - story.opened).total_seconds()
        offsets = sorted(self.rng.uniform(0, span) for _ in range(n - 1))
        moments = [story.opened] + [story.opened + timedelta(seconds=o + i + 1) for i, o in enumerate(offsets)]
        for step, at in zip(story.steps, moments, strict=True):
            step.run(at)

    # ---- the whole demo -------------------------------------------------------------------------------------

    def build(self) -> DemoResult:
        started = time.perf_counter()
        admin = self.people()
        accounts = self.accounts()
        weights = [self.rng.paretovariate(1.16) * (0.3 if a.kind == "b2c" else 1.0) for a in accounts]
        stories = []
        unseen = [OVERRIDE, REVERT, REOPEN]  # every detour shows up at least once, whatever the scale
        for final in self.finals():
            detour = self.weighted(DETOUR_WEIGHTS) or None
            if unseen and final in (PROPOSE, CLOSE, FOLLOW_UP, DONE):
                detour = unseen.pop(0)
            stories.append(self.plan(self.rng.choices(accounts, weights)[0], final, detour))
        stories.sort(key=lambda s: s.opened)
        first_seen: dict[int, datetime] = {}
        for story in stories:
            first_seen.setdefault(story.account.id, story.opened)
        for account in accounts:
            since = first_seen.get(account.id, self.days_ago(self.rng.uniform(5, HISTORY_DAYS)))
            since -= timedelta(days=self.rng.uniform(1, 20))
            account.created_at = account.updated_at = since
            self.contacts_for(account, since)
            for _ in range(self.rng.randint(0, 2)):
                moment = since + (self.anchor - since) * self.rng.random()
                self.activity(account.owner, account, moment)
        for story in stories:
            self.live(story)
        care_counts = complaints_and_surveys(self, [s.deal for s in stories if s.deal is not None])
        # Back-dated activities were logged when they happened: one UPDATE for all of them.
        db.session.execute(
            update(Activity).values(created_at=Activity.occurred_at, updated_at=Activity.occurred_at),
            execution_options={"synchronize_session": False},
        )
        rep = self.reps[0]
        token = issue_token(rep, "demo")
        db.session.flush()
        counts = {
            "teams": self.scale.teams,
            "users": 1 + len(self.leads) + len(self.reps),
            "accounts": len(accounts),
            "contacts": sum(len(c) for c in self.contacts.values()),
            "buying_influences": db.session.scalar(select(func.count()).select_from(BuyingInfluence)) or 0,
            "deals": len(stories),
            "stage_events": db.session.scalar(select(func.count()).select_from(StageEvent)) or 0,
            "activities": len(self.activities),
            **care_counts,
        }
        return DemoResult(
            admin=admin,
            lead=self.lead_of[rep.id],
            rep=rep,
            password=DEMO_PASSWORD,
            rep_token=token,
            counts=counts,
            seconds=time.perf_counter() - started,
        )


# ---- Complaints and satisfaction (客户抱怨, RATER) ------------------------------------------------------------

# (title, what the customer said, the core issue, the solution, the apology and what was agreed)
COMPLAINTS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "到货少了两箱",
        "客户仓库验收时发现少了两箱配件，产线等着用，很着急。",
        "仓库漏发，客户产线周四要停线",
        "当天从就近仓库调货，顺丰次日达，并补一份验收清单",
        "电话向采购经理致歉，约定以后发货前拍照核对箱数",
    ),
    (
        "发票抬头开错",
        "财务说发票抬头少了“有限公司”几个字，无法入账。",
        "发票抬头与合同不一致，客户月底前必须入账",
        "作废重开，专人送达，并附上与合同一致的开票信息确认单",
        "向财务主管当面致歉，开票前先发抬头给客户确认",
    ),
    (
        "实施进度拖延",
        "说好两周上线，现在三周了还在调试，客户领导很不满意。",
        "客户下月要向集团汇报，上线日期比功能更重要",
        "增派两名实施工程师驻场，分阶段上线，先上核心模块",
        "总经理出面致歉，承诺以后每周五发进度周报",
    ),
    (
        "售后电话没人接",
        "设备报警，打了三次售后电话都没人接。",
        "夜班时段没有值守，客户是三班倒生产",
        "开通7×24小时值班电话，并给客户设备管理员加了专属工程师微信",
        "致歉并说明改进措施，客户表示理解，愿意继续合作",
    ),
    (
        "培训不到位",
        "操作员还是不会用新系统，培训只讲了半天。",
        "培训时间太短，一线操作员没有动手练习",
        "补两天现场实操培训，并录制操作视频",
        "向信息中心主任致歉，约定每季度回访使用情况",
    ),
    (
        "价格与报价不符",
        "合同价格比报价单高了3%，客户觉得被骗了。",
        "报价单未含税，双方理解不一致",
        "按报价单含税价执行，差额在下批货款中抵扣",
        "致歉并承诺以后报价单注明含税与否",
    ),
    (
        "产品质量问题",
        "一批传感器有十几个读数漂移，客户怀疑整批有问题。",
        "同一批次元件老化测试不足",
        "整批免费更换，并提供第三方检测报告",
        "质量总监随同拜访致歉，客户认可处理方式",
    ),
    (
        "业务员态度不好",
        "客户说上次催款时业务员语气很冲。",
        "催款方式让客户觉得不被尊重",
        "由主管重新对接，约定付款计划",
        "主管登门致歉，表示非常重视双方长期合作",
    ),
)
SURVEY_COMMENTS: tuple[str, ...] = (
    "交付准时，服务很专业",
    "培训还可以再细一点",
    "响应速度快，问题当天解决",
    "整体满意，价格略高",
    "工程师很耐心",
    "希望有专人对接",
    "",
    "",
)
COMPLAINT_SHARE = 0.05  # complaints per deal
# Where the demo's complaints stand today: most closed, the rest at each open step (received in the last weeks).
COMPLAINT_FINAL_SHARES: dict[str, int] = {"received": 10, "understood": 14, "proposed": 12, "accepted": 8, "closed": 56}
SURVEY_SHARE = 0.75  # won deals whose customer answered the after-purchase survey


def _hours(gen: _Generator, median: float) -> timedelta:
    """A waiting time around `median` hours: mostly quick, now and then days."""
    return timedelta(hours=min(gen.rng.lognormvariate(math.log(median), 0.9), 24 * 14))


def complaints_and_surveys(gen: _Generator, all_deals: list[Deal]) -> dict[str, int]:
    """Complaints handled through the real steps (some still open, one solution rejected now and then), and
    satisfaction with RATER after most won deals; back-dated, recent complaints more often still open."""
    from pipeline.care import complaint_services
    from pipeline.care import complaints as workflow
    from pipeline.care.models import SatisfactionSurvey

    rng, made = gen.rng, 0
    for deal in rng.sample(all_deals, max(4, int(len(all_deals) * COMPLAINT_SHARE))):
        title, said, core, solution, note = COMPLAINTS[rng.randrange(len(COMPLAINTS))]
        final = gen.weighted(COMPLAINT_FINAL_SHARES)
        earliest = gen.days_ago(150 if final == workflow.CLOSED else 20)
        since = max(deal.created_at, earliest)
        if since >= gen.anchor:
            continue
        received = since + (gen.anchor - since) * rng.uniform(0.2, 0.98)
        people = gen.contacts.get(deal.account_id) or []
        owner = deal.account.owner
        complaint = complaint_services.receive(
            owner,
            deal.account,
            title,
            description=said,
            severity=gen.weighted({"low": 2, "normal": 6, "high": 2}),
            deal_id=deal.id,
            contact_id=people[0].id if people else None,
            received_at=received,
            via="cli",
        )
        made += 1
        at = received
        plan = [(workflow.UNDERSTAND, 4.0, {"core_issue": core}), (workflow.PROPOSE, 18.0, {"solution": solution})]
        if rng.random() < 0.15:
            plan += [
                (workflow.REJECT, 20.0, {}),
                (workflow.PROPOSE, 24.0, {"solution": solution + "，另赠一次上门巡检"}),
            ]
        plan += [(workflow.ACCEPT, 12.0, {}), (workflow.CLOSE, 10.0, {"closing_note": note})]
        for step, median, texts in plan:
            at += _hours(gen, median)
            if complaint.state == final or at >= gen.anchor:
                break  # still being handled today
            reason = "客户认为方案不能解决根本问题" if step == workflow.REJECT else ""
            complaint_services.take_step(owner, complaint, step, texts=texts, reason=reason, at=at, via="cli")
    surveys = 0
    for deal in all_deals:
        if deal.won_on is None or rng.random() > SURVEY_SHARE:
            continue
        answered = deal.won_on + timedelta(days=rng.randint(3, 20))
        if answered > gen.today:
            continue
        overall = gen.weighted({"5": 35, "4": 40, "3": 15, "2": 7, "1": 3})
        base = int(overall)
        rater = {
            key: (None if rng.random() < 0.08 else max(1, min(5, base + rng.choice((-1, 0, 0, 0, 1)))))
            for key in ("reliability", "assurance", "tangibles", "empathy", "responsiveness")
        }
        people = gen.contacts.get(deal.account_id) or []
        db.session.add(
            SatisfactionSurvey(
                account_id=deal.account_id,
                deal_id=deal.id,
                contact_id=people[0].id if people else None,
                user_id=deal.owner_id,
                occasion="won",
                answered_on=answered,
                satisfaction=base,
                comment=gen.pick(SURVEY_COMMENTS),
                created_at=datetime.combine(answered, dtime(10), tzinfo=team_zone()).astimezone(UTC),
                **rater,
            )
        )
        surveys += 1
    db.session.flush()
    return {"complaints": made, "satisfaction_surveys": surveys}


def default_anchor() -> datetime:
    """Today's midnight in the team's time zone: the same seed gives the same data all day."""
    midnight = datetime.combine(datetime.now(team_zone()).date(), dtime(0), tzinfo=team_zone())
    return midnight.astimezone(UTC)


@contextmanager
def _fewer_garbage_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while tens of thousands of live rows sit in the session (about 10% faster)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def generate(scale: DemoScale | None = None, seed: int = 1, anchor: datetime | None = None) -> DemoResult:
    """Fill a freshly migrated, empty database with demo data; flushes only, the caller commits."""
    with _fewer_garbage_collections():
        return _Generator(scale or DemoScale(), seed, anchor or default_anchor()).build()
