"""What can be done to a deal: create, edit, tick checklist items, move. Services flush; callers commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import check_may_own, sees, visible_account
from pipeline.core.changelog import FieldChange, apply_changes
from pipeline.core.database import is_stale_snapshot
from pipeline.core.errors import Conflict, InvalidInput, Missing, NotFound
from pipeline.core.models import is_id, utcnow
from pipeline.core.timeutil import local_date
from pipeline.deals import kept, workflow
from pipeline.deals.influences import influence_roles, required_roles
from pipeline.deals.method import DONE, LOST, QUALIFY, STRATEGY_KEYS
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem, LostReason, StageEvent
from pipeline.extensions import db

STALE = "this deal was changed by someone else in the meantime; reload it and try again"

# Fields a person may edit directly. `stage` is not among them: stages change only through moves.
EDITABLE = (
    "title",
    "amount",
    "currency",
    "expected_close_date",
    "strategy",
    "strategy_rationale",
    "competitors",
    "next_step",
    "next_step_due",
    "owner_id",
    "account_id",
    "product_line",
    "channel",
    "gross_profit",
)
TEXT_LIMITS = {"product_line": 100, "channel": 100}  # the columns' lengths


def checklist_for(stage: str) -> list[ChecklistTemplate]:
    """The active checklist items of a stage, in the method's order."""
    return list(
        db.session.scalars(
            select(ChecklistTemplate)
            .where(ChecklistTemplate.stage == stage, ChecklistTemplate.active.is_(True))
            .order_by(ChecklistTemplate.position)
        )
    )


# Every active template with one deal's copy of it. Built once: every move reads it (bench/transitions.py).
_CHECKLIST_STATE = (
    select(
        ChecklistTemplate.stage,
        ChecklistTemplate.key,
        ChecklistTemplate.label_zh,
        ChecklistTemplate.label_en,
        ChecklistTemplate.required,
        DealChecklistItem.done,
    )
    .outerjoin(
        DealChecklistItem,
        (DealChecklistItem.item_key == ChecklistTemplate.key) & (DealChecklistItem.deal_id == bindparam("deal_id")),
    )
    .where(ChecklistTemplate.active.is_(True))
    .order_by(ChecklistTemplate.position)
)


def _checklist_state(deal: Deal) -> tuple[workflow.ChecklistFacts, frozenset[str]]:
    """What the gates read and which items the deal already has, in one query of plain rows."""
    rows = db.session.execute(_CHECKLIST_STATE, {"deal_id": deal.id})
    items: dict[str, list[workflow.ItemInfo]] = defaultdict(list)
    done: set[str] = set()
    materialised: set[str] = set()
    for stage, key, label_zh, label_en, required, is_done in rows:
        items[stage].append(workflow.ItemInfo(key, label_zh, label_en, required))
        if is_done is not None:
            materialised.add(key)
        if is_done:
            done.add(key)
    return workflow.ChecklistFacts(dict(items), frozenset(done)), frozenset(materialised)


def _influence_facts(deal: Deal, trigger: str) -> tuple[frozenset[str], frozenset[str]]:
    """The roles the deal's people hold and the roles required, read only when this move's gates look at them."""
    required = required_roles()
    if required and workflow.reads_influences(deal.stage, trigger):
        return influence_roles(deal), required
    return frozenset(), required


def _materialise_checklist(deal: Deal, stage: str, keys: Sequence[str], materialised: frozenset[str]) -> None:
    """Give the deal its own copy of the stage's checklist the first time it enters the stage."""
    for key in keys:
        if key not in materialised:
            db.session.add(DealChecklistItem(deal_id=deal.id, item_key=key, stage=stage))


def _flush_deal() -> None:
    """Write the deal first: a concurrent change to the same version fails here, before anything else.

    On SQLite a transaction that read before it wrote (begun deferred, outside a request's write transaction) is
    refused outright when someone else committed in between: what it read may be stale, so it is a conflict too.
    """
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(STALE) from exc
    except OperationalError as exc:
        if is_stale_snapshot(exc):
            raise Conflict(STALE) from exc
        raise


def _check_version(deal: Deal, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != deal.version:
        raise Conflict(f"{STALE} (you have version {expected_version}, the deal is at {deal.version})")


# ---- Field checks shared by create and edit -----------------------------------------------------------------


def _clean(actor: User, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Check and normalise editable fields, collecting one message per wrong field."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "stage":
            errors["stage"] = "the stage changes only through a move (advance, revert, lose, reopen, complete)"
        elif key not in EDITABLE:
            errors[key] = "unknown field"
        elif key == "title":
            if not str(value or "").strip():
                errors["title"] = "a title is required"
            elif len(value) > 200:
                errors["title"] = "at most 200 characters"
            else:
                out[key] = value.strip()
        elif key == "amount":
            try:
                amount = Decimal(str(value))
            except (InvalidOperation, ValueError):
                errors["amount"] = f"{value!r} is not a number"
                continue
            if not amount.is_finite() or amount < 0:
                errors["amount"] = "the amount must be zero or more"
            elif amount != amount.quantize(Decimal("0.01")):
                errors["amount"] = "at most two decimal places"
            elif amount >= Decimal("1e14"):
                errors["amount"] = "the amount is too large"
            else:
                out[key] = amount.quantize(Decimal("0.01"))
        elif key == "gross_profit":
            profit = _gross_profit(value, errors)
            if "gross_profit" not in errors:
                out[key] = profit
        elif key in TEXT_LIMITS:
            text = "" if value is None else str(value).strip()
            if len(text) > TEXT_LIMITS[key]:
                errors[key] = f"at most {TEXT_LIMITS[key]} characters"
            else:
                out[key] = text
        elif key == "currency":
            if not (isinstance(value, str) and len(value) == 3 and value.isalpha()):
                errors["currency"] = "a three-letter currency code such as CNY"
            else:
                out[key] = value.upper()
        elif key == "strategy":
            if value in (None, ""):
                out[key] = None
            elif value not in STRATEGY_KEYS:
                errors["strategy"] = f"one of {', '.join(STRATEGY_KEYS)}"
            else:
                out[key] = value
        elif key in ("expected_close_date", "next_step_due"):
            if value is not None and not isinstance(value, date):
                errors[key] = "a date (YYYY-MM-DD)"
            else:
                out[key] = value
        elif key == "owner_id":
            owner = db.session.get(User, value) if is_id(value) else None
            if owner is None:
                errors["owner_id"] = f"no user {value}"
            else:
                check_may_own(actor, owner)
                out[key] = owner.id
        elif key == "account_id":
            try:
                out[key] = visible_account(actor, value).id
            except NotFound:
                errors["account_id"] = f"no account {value} that you can see"
        else:
            out[key] = "" if value is None else str(value)
    return out


def _gross_profit(value: Any, errors: dict[str, str]) -> Decimal | None:
    """毛利 as entered: empty means not known (the margin analyses count such deals apart); it may be negative."""
    if value is None or value == "":
        return None
    try:
        profit = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors["gross_profit"] = f"{value!r} is not a number"
        return None
    if not profit.is_finite():
        errors["gross_profit"] = f"{value!r} is not a number"
    elif profit != profit.quantize(Decimal("0.01")):
        errors["gross_profit"] = "at most two decimal places"
    elif abs(profit) >= Decimal("1e14"):
        errors["gross_profit"] = "the gross profit is too large"
    else:
        return profit.quantize(Decimal("0.01"))
    return None


# ---- Services ---------------------------------------------------------------------------------------------


def create_deal(actor: User, account: Account, title: str, *, at: datetime | None = None, **fields: Any) -> Deal:
    """Open a deal in 确认 for an account the actor can see, with its first history row."""
    if not sees(actor, account.owner_id):
        raise NotFound(f"account {account.id} not found")
    errors: dict[str, str] = {}
    values = _clean(actor, {"title": title, **fields}, errors)
    if errors:
        raise InvalidInput(errors)
    when = at or utcnow()
    deal = Deal(
        account_id=account.id,
        owner_id=values.pop("owner_id", actor.id),
        stage=QUALIFY,
        stage_entered_at=when,
        created_at=when,
        updated_at=when,
        **values,
    )
    db.session.add(deal)
    db.session.flush()
    _materialise_checklist(deal, QUALIFY, [t.key for t in checklist_for(QUALIFY)], frozenset())
    db.session.add(
        StageEvent(
            deal_id=deal.id,
            from_stage=None,
            to_stage=QUALIFY,
            trigger="create",
            user_id=actor.id,
            at=when,
            amount=deal.amount,
        )
    )
    db.session.flush()
    kept.recount_checklist([deal.id])
    return deal


def update_deal(
    actor: User, deal: Deal, changes: dict[str, Any], expected_version: int | None, at: datetime | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """Edit a deal's fields (never its stage), logging each change; stale versions are refused."""
    _check_version(deal, expected_version)
    errors: dict[str, str] = {}
    values = _clean(actor, changes, errors)
    if errors:
        raise InvalidInput(errors)
    changed = apply_changes(deal, "deal", values, actor.id, at)
    if changed:
        _flush_deal()
    return changed


def set_checklist_item(
    actor: User, deal: Deal, key: str, done: bool, note: str | None = None, at: datetime | None = None
) -> DealChecklistItem:
    """Tick or untick one of the deal's checklist items; the deal's version moves so gates see fresh work."""
    if deal.stage in (LOST, DONE):
        raise Conflict(f"deal {deal.id} is {deal.stage}; its checklist is closed")
    item = db.session.scalar(
        select(DealChecklistItem).where(DealChecklistItem.deal_id == deal.id, DealChecklistItem.item_key == key)
    )
    if item is None:
        raise InvalidInput({"item_key": f"{key!r} is not on this deal's checklist"})
    when = at or utcnow()
    if item.done != done:
        item.done, item.done_by_id, item.done_at = done, (actor.id if done else None), (when if done else None)
        db.session.add(
            FieldChange(
                entity="deal",
                entity_id=deal.id,
                field=f"checklist.{key}",
                stage=deal.stage,
                old_value=str(not done).lower(),
                new_value=str(done).lower(),
                user_id=actor.id,
                at=when,
            )
        )
        deal.updated_at = when
    if note is not None:
        item.note = note
    _flush_deal()
    if deal.stage == item.stage:
        kept.recount_checklist([deal.id])
    return item


def lost_reasons() -> list[LostReason]:
    """The active lost reasons in the order they are offered."""
    return list(db.session.scalars(select(LostReason).where(LostReason.active.is_(True)).order_by(LostReason.position)))


def move(
    actor: User,
    deal: Deal,
    trigger: str,
    *,
    reason: str = "",
    lost_reason: str | None = None,
    override: bool = False,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> StageEvent:
    """Move a deal through the workflow and record it; the stage, history row and version change together."""
    _check_version(deal, expected_version)
    if (
        lost_reason is not None
        and db.session.scalar(select(LostReason.key).where(LostReason.key == lost_reason, LostReason.active.is_(True)))
        is None
    ):
        raise InvalidInput({"lost_reason": f"{lost_reason!r} is not in the lost-reason list"})
    when = at or utcnow()
    entered_at = deal.stage_entered_at
    facts, materialised = _checklist_state(deal)
    roles, required = _influence_facts(deal, trigger)
    request = workflow.Move(
        trigger=trigger,
        actor_role=actor.role,
        at=when,
        today=local_date(when),
        checklist=facts,
        reason=reason or "",
        lost_reason=lost_reason if trigger == workflow.LOSE else None,
        override=override,
        locale=actor.locale,
        influence_roles=roles,
        required_influences=required,
    )
    source = workflow.fire(deal, request)
    deal.updated_at = when
    if deal.stage not in (LOST, DONE):
        _materialise_checklist(deal, deal.stage, [i.key for i in facts.items.get(deal.stage, ())], materialised)
    event = StageEvent(
        deal_id=deal.id,
        from_stage=source,
        to_stage=deal.stage,
        trigger=trigger,
        user_id=actor.id,
        at=when,
        from_entered_at=entered_at,
        reason=request.reason,
        lost_reason_key=request.lost_reason,
        amount=deal.amount,
        override=request.overridden,
        overridden=[m.key for m in request.missing] if request.overridden else [],
    )
    db.session.add(event)
    _flush_deal()  # one flush: the version-checked UPDATE, the new checklist items and the history row
    kept.recount_checklist([deal.id])  # the stage the deal is in now (none when it left the board)
    return event


def what_is_missing(actor: User, deal: Deal) -> list[Missing]:
    """What the next forward move (advance or complete) still wants, so nobody has to try it to find out."""
    forward = workflow.forward_trigger(deal.stage)
    if forward is None:
        return []
    dest = workflow.destination(deal.stage, forward)
    now = utcnow()
    roles, required = _influence_facts(deal, forward)
    request = workflow.Move(
        trigger=forward,
        actor_role=actor.role,
        at=now,
        today=local_date(now),
        checklist=_checklist_state(deal)[0],
        locale=actor.locale,
        influence_roles=roles,
        required_influences=required,
    )
    return workflow.missing_for(deal, dest, request)


def current_checklist(deal: Deal) -> list[DealChecklistItem]:
    """The deal's items for the stage it is in, in the method's order."""
    return list(
        db.session.scalars(
            select(DealChecklistItem)
            .join(ChecklistTemplate)
            .where(DealChecklistItem.deal_id == deal.id, DealChecklistItem.stage == deal.stage)
            .order_by(ChecklistTemplate.position)
        )
    )


def history(deal: Deal) -> list[StageEvent]:
    """Every move of the deal, oldest first."""
    return list(db.session.scalars(select(StageEvent).where(StageEvent.deal_id == deal.id).order_by(StageEvent.id)))


def field_changes(deal: Deal) -> list[FieldChange]:
    """Every logged field change and checklist tick of the deal, oldest first."""
    return list(
        db.session.scalars(
            select(FieldChange)
            .where(FieldChange.entity == "deal", FieldChange.entity_id == deal.id)
            .order_by(FieldChange.id)
        )
    )
