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

from pipeline.accounts.models import Account, Contact, Tag
from pipeline.accounts.qualification import set_qualification
from pipeline.accounts.scales import QUALIFICATION_KEYS, RELATIONSHIP_KEYS
from pipeline.accounts.services import create_account, create_contact
from pipeline.accounts.tags import find_or_create
from pipeline.activities.models import Activity
from pipeline.activities.services import log_activity
from pipeline.auth.models import Role, User
from pipeline.auth.services import create_user, hash_password, issue_token
from pipeline.core.changelog import FieldChange, apply_changes
from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals import kept
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
        self.seed = seed
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

    # ---- what was sold, through which channel, at what margin; who left (the customer analyses) -----------------

    def sales_mix(self, deals_made: list[Deal]) -> None:
        """Each deal's product line and channel, and the gross profit of most won ones (entered as a team would)."""
        rng = random.Random(f"sales-mix-{self.seed}")  # its own stream: the rest of the demo stays as it was
        for deal in deals_made:
            b2c = deal.account.kind == "b2c"
            line = rng.choices(list(data.PRODUCT_LINES), [w[1 if b2c else 0] for w in data.PRODUCT_LINES.values()])[0]
            deal.product_line = line
            deal.channel = rng.choices(list(data.CHANNELS), [w[1 if b2c else 0] for w in data.CHANNELS.values()])[0]
            low, high = data.MARGINS[line]
            if deal.won_on is not None and rng.random() < 0.8:
                deal.gross_profit = (deal.amount * Decimal(rng.uniform(low, high))).quantize(Decimal("0.01"))
        db.session.flush()

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
        self.sales_mix([story.deal for story in stories if story.deal is not None])
        customer_profiles(random.Random(self.rng.random()), accounts, self.contacts, self.anchor)
        add_care_demo(random.Random(f"care-{self.seed}"), self.anchor, accounts, self.contacts, self.activities)
        care_counts = complaints_and_surveys(self, [s.deal for s in stories if s.deal is not None])
        # Back-dated activities were logged when they happened: one UPDATE for all of them.
        db.session.execute(
            update(Activity).values(created_at=Activity.occurred_at, updated_at=Activity.occurred_at),
            execution_options={"synchronize_session": False},
        )
        rep = self.reps[0]
        token = issue_token(rep, "demo")
        db.session.flush()
        kept.recount_all()  # activities were re-dated above, past the services that keep the deals' figures
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


# ---- care (客户维护): relationship levels, birthdays coming up, calls with their result and time of day ------------

# How involved the relationship is, by kind (seed 003: many low-margin customers basic/reactive, few big ones partners).
RELATIONSHIP_WEIGHTS: dict[str, dict[str, int]] = {
    "b2b": {"basic": 15, "reactive": 25, "accountable": 30, "proactive": 20, "partnership": 10},
    "b2c": {"basic": 55, "reactive": 35, "accountable": 10, "proactive": 0, "partnership": 0},
}
CALL_RANGES = (9, 10, 14, 15, 16)  # the hour each contact tends to pick up at
ANSWERED_AT_BEST, ANSWERED_OTHERWISE = 0.75, 0.3
OTHER_RESULTS = {"no_answer": 55, "busy": 35, "declined": 10}


def add_care_demo(
    rng: random.Random,
    anchor: datetime,
    accounts: list[Account],
    contacts: dict[int, list[Contact]],
    activities: list[Activity],
) -> None:
    """Relationship levels (unless set already), a few birthdays in the coming two weeks, and every call's result
    at a time of day that suits each contact, so the best hour to call shows on the pages."""
    if all(a.relationship_level == "basic" for a in accounts):
        for account in accounts:
            weights = RELATIONSHIP_WEIGHTS.get(account.kind, RELATIONSHIP_WEIGHTS["b2b"])
            account.relationship_level = rng.choices(list(weights), list(weights.values()))[0]
    zone = team_zone()
    today = anchor.astimezone(zone).date()
    # About one in twelve, and at least one, of the customers still with us (a lost one gets no greetings).
    staying = {a.id for a in accounts if a.churned_on is None}
    born = [p for account_id, people in contacts.items() if account_id in staying for p in people if p.birthday]
    for person in rng.sample(born, min(len(born), max(1, round(len(born) * 0.08)))):
        soon = today + timedelta(days=rng.randint(0, 13))
        year = person.birthday.year - (person.birthday.year % 4)  # a leap year: 29 February fits too
        person.birthday = soon.replace(year=year)
    best_hour: dict[int, int] = {}
    for activity in activities:
        if activity.kind != "call":
            continue
        key = activity.contact_id or -(activity.account_id or 0)
        best = best_hour.setdefault(key, rng.choice(CALL_RANGES))
        hour = best if rng.random() < 0.6 else rng.randint(8, 19)
        local = activity.occurred_at.astimezone(zone)
        activity.occurred_at = local.replace(hour=hour, minute=rng.randrange(60)).astimezone(UTC)
        answered = rng.random() < (ANSWERED_AT_BEST if hour == best else ANSWERED_OTHERWISE)
        results = list(OTHER_RESULTS)
        activity.call_result = "answered" if answered else rng.choices(results, list(OTHER_RESULTS.values()))[0]
    db.session.flush()


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
    from pipeline.care.complaints import services as complaint_services
    from pipeline.care.complaints import workflow as workflow
    from pipeline.care.models import SatisfactionSurvey

    rng, made = gen.rng, 0
    # The service refuses a complaint received (or a step taken) in the future: a demo anchored after today keeps
    # its complaints before now.
    horizon = min(gen.anchor, utcnow())
    for deal in rng.sample(all_deals, max(4, int(len(all_deals) * COMPLAINT_SHARE))):
        title, said, core, solution, note = COMPLAINTS[rng.randrange(len(COMPLAINTS))]
        final = gen.weighted(COMPLAINT_FINAL_SHARES)
        earliest = gen.days_ago(150 if final == workflow.CLOSED else 20)
        since = max(deal.created_at, earliest)
        if since >= horizon:
            continue
        received = since + (horizon - since) * rng.uniform(0.2, 0.98)
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
            if complaint.state == final or at >= horizon:
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


# ---- the customer database: tags, relationship levels, worksheets, lost customers, Markdown notes ---------------

ACCOUNT_TAGS = {"集团客户": 0.15, "老客户": 0.3, "价格敏感": 0.1, "生态伙伴": 0.05}  # beside 重要客户 or 普通用户
CONTACT_TAGS = {"朋友": 0.15, "重要客户": 0.2, "决策人": 0.15, "技术把关": 0.1, "节日问候": 0.3, "家人": 0.03}
ACCOUNT_NOTES = (
    "**采购习惯**：每年 {month} 月做预算，{quarter}季度集中招标。\n\n- 付款周期 60 天\n- 偏好本地化服务团队",
    "关注*交付周期*和售后响应。\n\n1. 上次项目验收顺利\n2. 明年有扩容计划\n\n官网：[{domain}](https://{domain})",
    "老板重视品牌，**决策快**；财务审批严格，报价要附成本明细。",
    "对价格敏感，竞品报价低 10%。建议强调 ~~低价~~ **总体拥有成本**。",
)
CONTACT_NOTES = (
    "喜欢喝**普洱**，周末常打羽毛球。",
    "- 孩子今年高考\n- 不喜欢上午开会",
    "技术出身，看重*参数*与案例；邮件沟通比电话有效。",
    "春节前送礼品，生日 {month} 月。",
)
TIMELINE_NOTES = (
    "**回访**：设备运行正常，客户提出两点改进建议：\n\n- 报表导出更快\n- 增加移动端审批",
    "电话问候，客户提到下季度可能**新增预算**，约下月拜访。",
    "送去中秋礼盒，对接人已换成采购部新经理，需重新建立关系。",
)
CHURN_NOTES = {
    "price": "竞品报价低两成，客户选择了更便宜的方案。",
    "service": "两次故障响应超过 48 小时，客户**明确表示不满**。",
    "competitor": "新任 CIO 引入原单位的供应商。",
    "no_need": "项目取消，预算转向其他部门。",
    "closed": "门店关闭，业务迁往外省。",
    "quality": "批次质量问题导致退货。",
    "other": "联系人离职后失去联系。",
}
CHURN_WEIGHTS = {"price": 30, "service": 20, "competitor": 20, "no_need": 12, "closed": 8, "quality": 6, "other": 4}


def customer_profiles(
    rng: random.Random, accounts: list[Account], contacts: dict[int, list[Contact]], anchor: datetime
) -> None:
    """Fill the customer database: tags, levels, margins, worksheets, a few lost customers, Markdown notes."""
    today = anchor.astimezone(team_zone()).date()
    won: dict[int, list[Deal]] = defaultdict(list)
    open_accounts: set[int] = set()
    for deal in db.session.scalars(select(Deal).where(Deal.account_id.in_([a.id for a in accounts]))):
        if deal.won_on is not None:
            won[deal.account_id].append(deal)
        elif deal.stage not in (LOST, DONE):
            open_accounts.add(deal.account_id)
    tags = {t.name: t for t in find_or_create([*ACCOUNT_TAGS, *CONTACT_TAGS, "普通用户"])}
    lost_yet = False
    last_idle = next((a for a in reversed(accounts) if a.id not in open_accounts), None)

    def picked(shares: dict[str, float]) -> list[Tag]:
        return [tags[name] for name, share in shares.items() if rng.random() < share]

    for account in accounts:
        owner, b2c = account.owner, account.kind == "b2c"
        for deal in won[account.id]:  # margins as entered after the sale: consumers thin, companies wider
            if deal.gross_profit is None and rng.random() < 0.8:
                margin = rng.uniform(0.04, 0.16) if b2c else rng.uniform(0.08, 0.48)
                deal.gross_profit = (deal.amount * Decimal(str(round(margin, 3)))).quantize(Decimal("0.01"))
        if b2c:
            account.tags = picked({"普通用户": 0.5, "朋友": 0.2})
        else:  # the customers that buy again are the important ones (seed 001's 80/20), the others ordinary
            important = len(won[account.id]) > 1 or rng.random() < 0.1
            ordinary = [] if important or rng.random() < 0.5 else [tags["普通用户"]]
            account.tags = picked(ACCOUNT_TAGS) + ([tags["重要客户"]] if important else ordinary)
        for person in contacts.get(account.id, []):
            person.tags = picked(CONTACT_TAGS)
            if rng.random() < 0.25:
                person.notes = rng.choice(CONTACT_NOTES).format(month=rng.randint(1, 12))
        steps = (0, 2) if b2c else (1, 4)
        level = RELATIONSHIP_KEYS[min(4, rng.randint(*steps) + (1 if len(won[account.id]) > 1 else 0))]
        if level != account.relationship_level:  # chosen by the rep some days ago: a change in the history
            moment = max(account.created_at, anchor - timedelta(days=rng.uniform(1, 60)))
            apply_changes(account, "account", {"relationship_level": level}, owner.id, at=moment)
        if rng.random() < 0.5:
            domain = f"www.{rng.choice(('hx', 'zt', 'jd', 'hr'))}{account.id}.com.cn"
            note = rng.choice(ACCOUNT_NOTES)
            account.notes = note.format(month=rng.randint(1, 12), quarter=rng.choice("一二三四"), domain=domain)
        if rng.random() < 0.3:
            moment = account.created_at + (anchor - account.created_at) * rng.random()
            log_activity(owner, "note", rng.choice(TIMELINE_NOTES), account_id=account.id, occurred_at=moment)
        first = account is last_idle and not lost_yet  # at least one lost customer, whatever the scale
        if not b2c and account.id in open_accounts and rng.random() < 0.5:
            met = {k: rng.random() < 0.55 for k in QUALIFICATION_KEYS}
            set_qualification(owner, account, met | {"note": "按潜力客户工作表评估"})
        elif (account.id not in open_accounts and rng.random() < 0.12) or first:
            lost_yet = True
            reason = rng.choices(list(CHURN_WEIGHTS), weights=list(CHURN_WEIGHTS.values()))[0]
            on = today - timedelta(days=rng.randint(3, 150))
            changes = {"churned_on": on, "churn_reason_key": reason, "churn_note": CHURN_NOTES[reason]}
            apply_changes(account, "account", changes, owner.id, at=anchor - timedelta(days=(today - on).days))
    # Contacts were added when the account was: their entries in the history say so.
    added = select(func.min(Contact.created_at)).where(
        Contact.account_id == FieldChange.entity_id, Contact.name == FieldChange.new_value
    )
    db.session.execute(
        update(FieldChange).where(FieldChange.field == "contact_added").values(at=added.scalar_subquery()),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
