"""The deal page's contents: the stages as steps, the current checklist, and the history as people read it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pipeline.auth.models import User
from pipeline.core.errors import Missing
from pipeline.core.forms import BaseForm
from pipeline.core.pages import OVER, money, stage_label, strategy_label
from pipeline.deals import influences, services, workflow
from pipeline.deals.forms import AddInfluenceForm, ChangeInfluenceForm, contact_choices
from pipeline.deals.method import (
    ATTITUDES,
    DONE,
    EVALUATE,
    FIELD_LABELS,
    FOLLOW_UP,
    INFLUENCE_LEVELS,
    INFLUENCE_ROLES,
    LOST,
    PROPOSE,
    RELATIONSHIP_DEPTHS,
    STAGE_KEYS,
    STAGES,
    Choice,
)
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
    "product_line": _l("Product line"),
    "channel": _l("Sales channel"),
    "gross_profit": _l("Gross profit"),
    influences.FIELD: _l("Buying influence"),
}
ADD = "add"  # which influence form a refused request sent: the add form, or a person's id for a change


def labels(locale: str) -> dict[tuple[str, str], str]:
    """Names of everything a gate can ask for, in the page's language."""
    names = {("field", k): (en if locale == "en" else zh) for k, (zh, en) in FIELD_LABELS.items()}
    names.update({("influence", c.key): c.label(locale) for c in INFLUENCE_ROLES})
    for t in db.session.scalars(select(ChecklistTemplate)):
        names[("checklist", t.key)] = t.label(locale)
    return names


def waived_label(key: str, names: dict[tuple[str, str], str]) -> str:
    """What an override waived, by the key history keeps: a checklist item, a field or a buying-influence role."""
    return next((names[(kind, key)] for kind in ("checklist", "field", "influence") if (kind, key) in names), key)


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
                "waived": [waived_label(k, names) for k in e.overridden or []],
            }
        )
    for c in changes:
        text = change_text(deal, c.field, c.old_value, c.new_value, names, locale)
        entries.append(
            {"kind": "change", "at": c.at, "order": (c.at, 0, c.id), "who": people.get(c.user_id, ""), **text}
        )
    entries.sort(key=lambda entry: entry["order"], reverse=True)
    return entries


def _scale_label(scale: tuple[Choice, ...], key: object, locale: str) -> str:
    return next((c.label(locale) for c in scale if c.key == str(key)), str(key or ""))


def influence_text(value: str | None, locale: str) -> str:
    """A change-log snapshot of a person as people read it: "张三 · 决策者（经济买家） · 支持 · …"."""
    if not value:
        return "—"
    try:
        person = json.loads(value)
    except ValueError:
        return value
    if not isinstance(person, dict):
        return value
    parts = [
        str(person.get("name", "")),
        _scale_label(INFLUENCE_ROLES, person.get("role"), locale),
        _scale_label(ATTITUDES, person.get("attitude"), locale),
        _("%(level)s influence", level=_scale_label(INFLUENCE_LEVELS, person.get("influence"), locale)),
        _scale_label(RELATIONSHIP_DEPTHS, person.get("depth"), locale),
    ]
    return " · ".join(p for p in parts if p)


def influence_section(
    deal: Deal, user: User, locale: str, submitted: tuple[str | int, BaseForm] | None = None
) -> dict[str, Any]:
    """The deal's people as rows of labels, the forms to add, change and remove them, and what 报价 still wants."""
    people = influences.list_influences(user, deal)
    rows = [
        {
            "id": p.id,
            "name": p.contact.name,
            "title": p.contact.title,
            "note": p.note,
            "role": p.role,
            "role_label": _scale_label(INFLUENCE_ROLES, p.role, locale),
            "attitude": p.attitude,
            "attitude_label": _scale_label(ATTITUDES, p.attitude, locale),
            "influence_label": _scale_label(INFLUENCE_LEVELS, p.influence, locale),
            "depth": p.depth,
            "depth_label": _scale_label(RELATIONSHIP_DEPTHS, p.depth, locale),
        }
        for p in people
    ]
    editable = deal.stage not in OVER
    add_form = AddInfluenceForm(formdata=None, prefix="influence")
    change_forms: dict[int, BaseForm] = {}
    if editable:
        change_forms = {p.id: ChangeInfluenceForm(formdata=None, prefix=f"influence{p.id}", obj=p) for p in people}
    opened: str | int | None = None
    if submitted is not None:
        key, form = submitted
        if key == ADD:
            add_form = form  # type: ignore[assignment]
        elif key in change_forms:
            change_forms[int(key)] = form
        opened = key
    add_form.contact_id.choices = contact_choices(influences.account_contacts(deal)) if editable else []
    missing = (
        [c.label(locale) for c in influences.missing_roles(people, influences.required_roles())]
        if deal.stage == EVALUATE
        else []
    )
    return {
        "rows": rows,
        "editable": editable,
        "add_form": add_form,
        "change_forms": change_forms,
        "opened": opened,
        "missing": missing,
        "gate_stage": stage_label(PROPOSE),
    }


def change_text(
    deal: Deal, name: str, old: str | None, new: str | None, names: dict[tuple[str, str], str], locale: str = "zh"
) -> dict[str, str]:
    """A field change as a person reads it: the field's name and both values in words."""
    if name == influences.FIELD:
        return {"field": str(FIELD_NAMES[name]), "old": influence_text(old, locale), "new": influence_text(new, locale)}
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
        if name in ("amount", "gross_profit"):
            return money(value, deal.currency)
        return value

    return {"field": str(FIELD_NAMES.get(name, name)), "old": shown(old), "new": shown(new)}
