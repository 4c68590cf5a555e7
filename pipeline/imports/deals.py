"""Deals from another CRM's export (Salesforce, Pipedrive, HubSpot, 纷享销客 …), with their outcomes as history.

Each row becomes a deal in the stage its source stage maps to (--stage-map, else the common names below). A won
deal gets the history a win leaves (created in 成交, then 成交 → 跟进 on its close date) and a lost one the
history of a loss (created in the stage it was lost from, then → 输单 on its close date, with the reason), all
with trigger 'import', so the funnel and the reports count them on day one. The source's id (External ID, or a
digest of the row when the export has none) is kept in Deal.import_ref: importing the same file again adds
nothing. Deals go to the account named in the row (among the accounts the deal's owner may see, else created
for them); the owner is matched to a user by e-mail or name, else the importer's --owner.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.core.audit import record
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals import kept
from pipeline.deals.method import ALL_STATES, CLOSE, DONE, FOLLOW_UP, LOST, OPEN_STAGES, QUALIFY
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem, LostReason, StageEvent
from pipeline.extensions import db
from pipeline.imports import values
from pipeline.imports.contacts_write import allocate_ids
from pipeline.imports.errors import BadRows
from pipeline.imports.mapping import DEAL_HEADERS, apply_overrides, auto_map, header_key
from pipeline.imports.tables import Table, open_table
from pipeline.imports.values import BadValue

TRIGGER = "import"
CHUNK = 1_000
# Stage names as the common CRMs ship them (compared like headers: case, width and punctuation folded).
KNOWN_STAGES: dict[str, str] = {
    **dict.fromkeys(
        (
            "Prospecting",
            "Qualification",
            "Lead In",
            "Contact Made",
            "appointmentscheduled",
            "qualifiedtobuy",
            "New",
            "初步接洽",
            "确认",
            "线索",
            "验证客户",
        ),
        QUALIFY,
    ),
    **dict.fromkeys(
        (
            "Needs Analysis",
            "Value Proposition",
            "Id. Decision Makers",
            "Perception Analysis",
            "Demo Scheduled",
            "presentationscheduled",
            "decisionmakerboughtin",
            "需求确认",
            "考察",
            "需求分析",
            "方案演示",
        ),
        "evaluate",
    ),
    **dict.fromkeys(("Proposal/Price Quote", "Proposal Made", "Proposal", "报价", "方案报价"), "propose"),
    **dict.fromkeys(
        ("Negotiation/Review", "Negotiation", "Negotiations Started", "contractsent", "谈判", "商务谈判", "成交"),
        CLOSE,
    ),
    **dict.fromkeys(("Closed Won", "Won", "closedwon", "赢单", "已成交", "跟进"), FOLLOW_UP),
    **dict.fromkeys(("Closed Lost", "Lost", "closedlost", "输单", "丢单", "已输单"), LOST),
    **dict.fromkeys(("完结", "Done"), DONE),
}
LIMITS = {c.key: c.type.length for c in Deal.__table__.columns if getattr(c.type, "length", None)}
ACCOUNT_LIMIT = Account.__table__.c.name.type.length


@dataclass(frozen=True)
class DealBadRow:
    """A row that cannot become a deal: its line and every reason."""

    line: int
    reasons: tuple[str, ...]


@dataclass
class DealRow:
    """A clean row, ready to become a deal and its history."""

    line: int
    ref: str
    title: str
    amount: Decimal
    currency: str
    stage: str
    closed_on: date | None
    created_at: datetime
    account: str
    owner_id: int
    lost_reason: str | None
    lost_note: str


@dataclass
class DealPlan:
    """What a real run would do."""

    headers: list[str]
    mapping: dict[str, int]
    owner: User
    rows: list[DealRow] = field(default_factory=list)
    bad_rows: list[DealBadRow] = field(default_factory=list)
    skipped: int = 0  # already imported (or repeated in the file)
    new_accounts: dict[tuple[int, str], str] = field(default_factory=dict)  # (owner, key) → name

    def by_stage(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.stage] = counts.get(row.stage, 0) + 1
        return counts


def parse_stage_map(text: str | None) -> dict[str, str]:
    """'Won=follow_up,Lost=lost,Negotiation=close' as {folded source stage: our stage}; wrong pairs refused."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (text or "").split(","))):
        source, sep, target = pair.rpartition("=")
        target = target.strip()
        if not sep or not source.strip() or target not in ALL_STATES:
            raise InvalidInput({"stage-map": f"{pair!r} is not Source=stage (stages: {', '.join(ALL_STATES)})"})
        found[header_key(source)] = target
    return found


def _moment(day: date) -> datetime:
    """Noon of a local date, in UTC: the moment an outcome of that date is recorded at (inside the day anywhere)."""
    return datetime.combine(day, time(12), tzinfo=team_zone()).astimezone(UTC)


class _Reader:
    """Turns rows into DealRows or reasons, with what it needs looked up once."""

    def __init__(self, owner: User, stage_map: dict[str, str], lost_from: str) -> None:
        self.owner = owner
        self.stages = {header_key(k): v for k, v in KNOWN_STAGES.items()} | stage_map
        self.lost_from = lost_from
        self.users: dict[str, int] = {}
        for user_id, email, name in db.session.execute(select(User.id, User.email, User.name).where(User.active)):
            self.users.setdefault(email.lower(), user_id)
            self.users.setdefault(values.key(name), user_id)
        self.reasons: dict[str, str] = {}
        for key, zh, en in db.session.execute(select(LostReason.key, LostReason.label_zh, LostReason.label_en)):
            for name in (key, zh, en):
                self.reasons.setdefault(values.key(name), key)
        self.today = local_date(utcnow())

    def read(self, line: int, cells: list[str], mapping: dict[str, int]) -> DealRow | list[str]:
        raw = {f: (cells[i].strip() if i < len(cells) else "") for f, i in mapping.items()}
        problems: list[str] = []

        def bad(field: str, problem: str) -> None:
            value = raw.get(field, "")
            problems.append(_("%(field)s: %(problem)s (%(value)s)", field=field, problem=problem, value=value[:40]))

        title = values.folded(raw.get("title", "")) if not values.CONTROL.search(raw.get("title", "")) else ""
        if not title:
            problems.append(_("no deal name"))
        elif len(title) > LIMITS["title"]:
            bad("title", _("too long: at most %(n)s characters", n=LIMITS["title"]))
        account = values.folded(raw.get("account", "")) if not values.CONTROL.search(raw.get("account", "")) else ""
        if not account:
            problems.append(_("no account"))
        elif len(account) > ACCOUNT_LIMIT:
            bad("account", _("too long: at most %(n)s characters", n=ACCOUNT_LIMIT))
        stage_text = raw.get("stage", "")
        stage = self.stages.get(header_key(stage_text)) if stage_text else QUALIFY
        if stage is None:
            bad("stage", _("unknown stage; map it with --stage-map"))
        amount = Decimal("0.00")
        try:
            amount = values.amount(raw.get("amount", ""))
        except BadValue as exc:
            bad("amount", str(exc))
        currency = values.nfkc(raw.get("currency", "")).upper() or "CNY"
        if len(currency) != 3 or not currency.isalpha():
            bad("currency", _("a three-letter code such as CNY"))
        closed_on = created = None
        try:
            closed_on = values.day(raw.get("close_date", ""))
        except BadValue as exc:
            bad("close_date", str(exc))
        try:
            created = values.day(raw.get("created", ""))
        except BadValue as exc:
            bad("created", str(exc))
        if stage in (FOLLOW_UP, DONE, LOST) and closed_on is None and not raw.get("close_date"):
            problems.append(_("a won or lost deal needs its close date"))
        owner_id = self.owner.id
        if raw.get("owner"):
            found = self.users.get(raw["owner"].lower()) or self.users.get(values.key(raw["owner"]))
            if found is None:
                bad("owner", _("no such user"))
            else:
                owner_id = found
        lost_reason, lost_note = None, ""
        if stage == LOST:
            note = raw.get("lost_reason", "")
            lost_reason = self.reasons.get(values.key(note), "other") if note else "other"
            lost_note = note if lost_reason == "other" else ""
        created_day = created or closed_on or self.today
        if closed_on is not None and stage in (FOLLOW_UP, DONE, LOST) and closed_on < created_day:
            problems.append(_("closed before it was created"))
        if problems:
            return problems
        ref = (
            raw.get("external_id", "")
            or "row:"
            + hashlib.sha1(
                "\x1f".join((title, account, str(amount), str(closed_on), str(created), stage_text)).encode()
            ).hexdigest()
        )
        if len(ref) > LIMITS["import_ref"]:
            return [_("%(field)s: %(problem)s", field="external_id", problem=_("too long"))]
        return DealRow(
            line,
            ref,
            title,
            amount,
            currency,
            stage or QUALIFY,
            closed_on,
            _moment(created_day),
            account,
            owner_id,
            lost_reason,
            lost_note,
        )


def plan_deals(
    path: Path,
    owner: User,
    *,
    filename: str = "",
    encoding: str | None = None,
    overrides: dict[str, str] | None = None,
    stage_map: str | None = None,
    lost_from: str = QUALIFY,
) -> DealPlan:
    """Read the file and decide every row's fate without changing anything."""
    if lost_from not in OPEN_STAGES:
        raise InvalidInput({"lost-from": f"one of {', '.join(OPEN_STAGES)}"})
    reader = _Reader(owner, parse_stage_map(stage_map), lost_from)
    with open_table(path, filename, encoding) as table:
        return _plan(table, owner, reader, overrides or {})


def _plan(table: Table, owner: User, reader: _Reader, overrides: dict[str, str]) -> DealPlan:
    mapping = apply_overrides(auto_map(table.headers, DEAL_HEADERS), table.headers, overrides, DEAL_HEADERS)
    plan = DealPlan(table.headers, mapping, owner)
    known = set()
    seen: set[str] = set()
    candidates: list[DealRow] = []
    for line, cells in table.rows:
        if not any(cells):
            continue
        row = reader.read(line, cells, mapping)
        if isinstance(row, list):
            plan.bad_rows.append(DealBadRow(line, tuple(row)))
        else:
            candidates.append(row)
    refs = [r.ref for r in candidates]
    for start in range(0, len(refs), CHUNK):
        known.update(
            db.session.scalars(select(Deal.import_ref).where(Deal.import_ref.in_(refs[start : start + CHUNK])))
        )
    for row in candidates:
        if row.ref in known or row.ref in seen:
            plan.skipped += 1
            continue
        seen.add(row.ref)
        plan.rows.append(row)
    return plan


def _accounts(plan: DealPlan, now: datetime) -> dict[tuple[int, str], int]:
    """Each (owner, account name) → an account the owner may see, created where there is none."""
    found: dict[tuple[int, str], int] = {}
    owners = {row.owner_id for row in plan.rows}
    for owner_id in owners:
        owner = db.session.get(User, owner_id)
        query = select(Account.id, Account.name).where(accounts_visible_to(owner)).order_by(Account.id)
        for account_id, name in db.session.execute(query):
            found.setdefault((owner_id, values.key(name)), account_id)
    new = {}
    for row in plan.rows:
        wanted = (row.owner_id, values.key(row.account))
        if wanted not in found and wanted not in new:
            new[wanted] = row.account
    keys = list(new)
    ids = allocate_ids(Account.__table__, len(keys))
    rows = [
        {"id": i, "name": new[k], "kind": "b2b", "owner_id": k[0], "created_at": now, "updated_at": now}
        for k, i in zip(keys, ids, strict=True)
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(Account.__table__), rows[start : start + CHUNK])
    found.update(zip(keys, ids, strict=True))
    plan.new_accounts = new  # what was created, for the summary
    return found


def _history(row: DealRow, deal_id: int, lost_from: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The deal's columns and its history rows, as the workflow would have left them."""
    created = row.created_at
    deal: dict[str, Any] = {"stage": row.stage, "stage_entered_at": created}
    event = {"deal_id": deal_id, "trigger": TRIGGER, "user_id": row.owner_id, "amount_cents": row.amount}
    event |= {"reason": "", "override": False, "overridden": [], "lost_reason_key": None}
    if row.stage in (FOLLOW_UP, DONE):
        won = _moment(row.closed_on) if row.closed_on else created
        events = [
            {**event, "from_stage": None, "to_stage": CLOSE, "at": created, "from_entered_at": None},
            {**event, "from_stage": CLOSE, "to_stage": FOLLOW_UP, "at": won, "from_entered_at": created},
        ]
        if row.stage == DONE:
            events.append({**event, "from_stage": FOLLOW_UP, "to_stage": DONE, "at": won, "from_entered_at": won})
        deal |= {"won_on": local_date(won), "stage_entered_at": won}
    elif row.stage == LOST:
        lost = _moment(row.closed_on) if row.closed_on else created
        events = [
            {**event, "from_stage": None, "to_stage": lost_from, "at": created, "from_entered_at": None},
            {
                **event,
                "from_stage": lost_from,
                "to_stage": LOST,
                "at": lost,
                "from_entered_at": created,
                "lost_reason_key": row.lost_reason,
                "reason": row.lost_note,
            },
        ]
        deal |= {
            "lost_on": local_date(lost),
            "lost_reason_key": row.lost_reason,
            "lost_from_stage": lost_from,
            "stage_entered_at": lost,
        }
    else:
        events = [{**event, "from_stage": None, "to_stage": row.stage, "at": created, "from_entered_at": None}]
    return deal, events


def write_deals(plan: DealPlan, *, via: str, actor: User | None, filename: str, lost_from: str = QUALIFY) -> int:
    """Carry the plan out, every row or none (the caller commits); the number of deals created."""
    if plan.bad_rows:
        raise BadRows(plan.bad_rows)
    record("import_deals", via=via, user=actor, file=filename, owner=plan.owner.email, created=len(plan.rows))
    now = utcnow()
    accounts = _accounts(plan, now)
    templates: dict[str, list[str]] = {}
    for key, stage in db.session.execute(
        select(ChecklistTemplate.key, ChecklistTemplate.stage)
        .where(ChecklistTemplate.active)
        .order_by(ChecklistTemplate.position)
    ):
        templates.setdefault(stage, []).append(key)
    for start in range(0, len(plan.rows), CHUNK):
        chunk = plan.rows[start : start + CHUNK]
        ids = allocate_ids(Deal.__table__, len(chunk))
        deals, events, items = [], [], []
        for row, deal_id in zip(chunk, ids, strict=True):
            columns, history = _history(row, deal_id, lost_from)
            deals.append(
                {
                    "id": deal_id,
                    "account_id": accounts[(row.owner_id, values.key(row.account))],
                    "owner_id": row.owner_id,
                    "title": row.title,
                    "amount_cents": row.amount,
                    "currency": row.currency,
                    "expected_close_date": row.closed_on,
                    "version": 1,
                    "import_ref": row.ref,
                    "created_at": row.created_at,
                    "updated_at": now,
                    "won_on": None,
                    "lost_on": None,
                    "lost_reason_key": None,
                    "lost_from_stage": None,
                    **columns,
                }
            )
            events += history
            if row.stage in OPEN_STAGES:
                items += [{"deal_id": deal_id, "item_key": k, "stage": row.stage} for k in templates.get(row.stage, [])]
        db.session.execute(insert(Deal.__table__), deals)
        db.session.execute(insert(StageEvent.__table__), events)
        if items:
            db.session.execute(insert(DealChecklistItem.__table__), items)
            kept.recount_checklist(ids)
    db.session.expire_all()
    return len(plan.rows)
