"""The deal page's contents: the stages as steps, the current checklist, and the history as people read it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pipeline.auth.models import User
from pipeline.core.errors import Missing
from pipeline.core.pages import money, stage_label, strategy_label
from pipeline.deals import services, workflow
from pipeline.deals.method import DONE, FIELD_LABELS, FOLLOW_UP, LOST, STAGE_KEYS, STAGES
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
from pipeline.extensions import db

TRIGGER_LABELS = {
    "create": _l("Created"),
    workflow.ADVANCE: _l("Advance"),
    workflow.REVERT: _l("Move back"),
    workflow.LOSE: _l("Mark lost"),
    workflow.REOPEN: _l("Reopen"),
    workflow.COMPLETE: _l("Complete"),
}
FIELD_NAMES = {
    "title": _l("Title"),
    "amount": _l("Amount"),
    "currency": _l("Currency"),
    "expected_close_date": _l("Expected close date"),
    "strategy": _l("Strategy"),
    "strategy_rationale": _l("Why this strategy"),
    "competitors": _l("Competitors"),
    "next_step": _l("Next step"),
    "next_step_due": _l("Next step due"),
    "owner_id": _l("Owner"),
    "account_id": _l("Account"),
}


def labels(locale: str) -> dict[tuple[str, str], str]:
    """Names of everything a gate can ask for, in the page's language."""
    names = {("field", k): (en if locale == "en" else zh) for k, (zh, en) in FIELD_LABELS.items()}
    for t in db.session.scalars(select(ChecklistTemplate)):
        names[("checklist", t.key)] = t.label(locale)
    return names


def missing_labels(missing: list[Missing], locale: str) -> list[str]:
    names = labels(locale)
    return [names.get((m.kind, m.key), m.label_en if locale == "en" else m.label) for m in missing]


def progress(deal: Deal, events: list[Any]) -> list[dict[str, Any]]:
    """The five stages as steps: passed, current or ahead, each with the date the deal last entered it."""
    entered: dict[str, datetime] = {}
    for event in events:
        entered[event.to_stage] = event.at
    here = deal.lost_from_stage if deal.stage == LOST else deal.stage
    position = len(STAGE_KEYS) if here == DONE else STAGE_KEYS.index(here or STAGE_KEYS[0])
    steps = []
    for i, s in enumerate(STAGES):
        state = "passed" if i < position else "current" if i == position else "ahead"
        steps.append({"key": s.key, "label": stage_label(s.key), "state": state, "entered": entered.get(s.key)})
    return steps


def checklist(deal: Deal) -> list[DealChecklistItem]:
    """The current stage's items (for a deal that is over, its last stage's), in the method's order."""
    here = {LOST: deal.lost_from_stage, DONE: FOLLOW_UP}.get(deal.stage, deal.stage)
    items = db.session.scalars(
        select(DealChecklistItem)
        .join(DealChecklistItem.template)
        .where(DealChecklistItem.deal_id == deal.id, DealChecklistItem.stage == here)
        .options(selectinload(DealChecklistItem.template), selectinload(DealChecklistItem.done_by))
        .order_by(ChecklistTemplate.position)
    )
    return list(items)


def timeline(deal: Deal, events: list[Any], locale: str) -> list[dict[str, Any]]:
    """Moves and field changes in one list, newest first."""
    changes = services.field_changes(deal)
    ids = {e.user_id for e in events} | {c.user_id for c in changes}
    people = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids - {None})))}
    names = labels(locale)
    reasons = {r.key: r.label(locale) for r in services.lost_reasons()}
    entries: list[dict[str, Any]] = []
    for e in events:
        entries.append(
            {
                "kind": "move",
                "at": e.at,
                "order": (e.at, 1, e.id),
                "who": people.get(e.user_id, ""),
                "trigger": TRIGGER_LABELS.get(e.trigger, e.trigger),
                "from": stage_label(e.from_stage) if e.from_stage else "",
                "to": stage_label(e.to_stage),
                "reason": e.reason,
                "lost_reason": reasons.get(e.lost_reason_key or "", e.lost_reason_key or ""),
                "override": e.override,
                "waived": [names.get(("checklist", k), names.get(("field", k), k)) for k in e.overridden or []],
            }
        )
    for c in changes:
        text = change_text(deal, c.field, c.old_value, c.new_value, names)
        entries.append(
            {"kind": "change", "at": c.at, "order": (c.at, 0, c.id), "who": people.get(c.user_id, ""), **text}
        )
    entries.sort(key=lambda entry: entry["order"], reverse=True)
    return entries


def change_text(
    deal: Deal, name: str, old: str | None, new: str | None, names: dict[tuple[str, str], str]
) -> dict[str, str]:
    """A field change as a person reads it: the field's name and both values in words."""
    if name.startswith("checklist."):
        key = name.removeprefix("checklist.")
        words = {"true": _("done"), "false": _("not done")}
        return {
            "field": _("Checklist: %(item)s", item=names.get(("checklist", key), key)),
            "old": words.get(old or "", old or ""),
            "new": words.get(new or "", new or ""),
        }

    def shown(value: str | None) -> str:
        if value is None or value == "":
            return "—"
        if name == "strategy":
            return strategy_label(value)
        if name == "amount":
            return money(value, deal.currency)
        return value

    return {"field": str(FIELD_NAMES.get(name, name)), "old": shown(old), "new": shown(new)}
