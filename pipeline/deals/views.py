"""The deal pages: the list, a new deal, and one deal with its stages, checklist, moves and history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, deals_visible_to, visible_account, visible_deal
from pipeline.auth.views import set_current_page
from pipeline.core.errors import Conflict, DomainError, Forbidden, GateRefused, InvalidInput, Missing, NotFound
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals import services, workflow
from pipeline.deals.forms import (
    AdvanceForm,
    ChecklistForm,
    DealFilterForm,
    EditDealForm,
    LoseForm,
    NewDealForm,
    ReasonedMoveForm,
    VersionedForm,
    locale_code,
    lost_reason_choices,
)
from pipeline.deals.method import (
    ALL_STATES,
    DONE,
    FIELD_LABELS,
    FOLLOW_UP,
    LOST,
    STAGE_KEYS,
    STAGES,
    STRATEGY_BY_KEY,
    next_stage,
    stage,
)
from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
from pipeline.extensions import db

bp = Blueprint("deals", __name__)

CURRENCY_SYMBOLS = {"CNY": "¥"}
OPEN_ENDED = (LOST, DONE)  # no next step is overdue on a deal that is over

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
MOVE_FORMS: dict[str, type[VersionedForm]] = {
    workflow.ADVANCE: AdvanceForm,
    workflow.COMPLETE: AdvanceForm,
    workflow.REVERT: ReasonedMoveForm,
    workflow.REOPEN: ReasonedMoveForm,
    workflow.LOSE: LoseForm,
}


# ---- Formatting shared by every deal template ---------------------------------------------------------------


@bp.app_template_global()
def money(amount: Decimal | str | None, currency: str = "CNY") -> str:
    """An amount as people read it: ¥120,000.00, or USD 3,500.00 for other currencies."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError):
        return str(amount)
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{currency} {value:,.2f}"


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None) -> str:
    """A stored UTC moment in the team's time zone (Asia/Shanghai by default), to the minute."""
    return moment.astimezone(team_zone()).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.app_template_global()
def stage_label(key: str | None) -> str:
    """A stage's or end state's name in the page's language."""
    return stage(key).label(locale_code()) if key is not None and key in ALL_STATES else (key or "")


@bp.app_template_global()
def strategy_label(key: str | None) -> str:
    """A strategy's name in the page's language."""
    return STRATEGY_BY_KEY[key].label(locale_code()) if key is not None and key in STRATEGY_BY_KEY else (key or "")


def today() -> date:
    """Today's date in the team's time zone."""
    return datetime.now(team_zone()).date()


@bp.app_template_global()
def days_in_stage(deal: Deal, on: date) -> int:
    """Whole days the deal has sat in its current stage."""
    return max((on - local_date(deal.stage_entered_at)).days, 0)


@bp.app_template_global()
def overdue(deal: Deal, on: date) -> bool:
    """The next step's due date has passed on a deal that is still being worked."""
    return deal.next_step_due is not None and deal.next_step_due < on and deal.stage not in OPEN_ENDED


def actor() -> User:
    """The signed-in user as a model object (services take a User, not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def with_deal(view: Callable[..., Any]) -> Callable[..., Any]:
    """Sign-in required, and the deal loaded through the user's scope: someone else's deal answers 404."""

    @wraps(view)
    def wrapper(deal_id: int, **kwargs: Any) -> Any:
        deal = visible_deal(actor(), deal_id)
        set_current_page(url_for("deals.show", deal_id=deal_id))
        return view(deal, **kwargs)

    return login_required(wrapper)


# ---- The list -------------------------------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    """The pipeline starts at the deal list."""
    return redirect(url_for("deals.index"))


@bp.get("/deals")
@login_required
def index() -> tuple[str, int]:
    """The deals the user may see, newest first, a page at a time (keyset: ?before=<id>)."""
    form = DealFilterForm(request.args)
    if not form.validate():
        return render_template("deals/index.html", form=form, deals=[], older=None, today=today()), 422
    user = actor()
    size = current_app.config["PIPELINE_PAGE_SIZE"]
    query = (
        select(Deal)
        .where(deals_visible_to(user))
        .options(joinedload(Deal.account), joinedload(Deal.owner))
        .order_by(Deal.id.desc())
        .limit(size + 1)
    )
    if form.stage.data:
        query = query.where(Deal.stage == form.stage.data)
    if form.mine.data:
        query = query.where(Deal.owner_id == user.id)
    if form.before.data:
        query = query.where(Deal.id < form.before.data)
    deals = list(db.session.scalars(query).unique())
    older = None
    if len(deals) > size:
        deals = deals[:size]
        older = url_for(
            "deals.index", stage=form.stage.data or None, mine="1" if form.mine.data else None, before=deals[-1].id
        )
    return render_template("deals/index.html", form=form, deals=deals, older=older, today=today()), 200


# ---- A new deal -------------------------------------------------------------------------------------------------


@bp.route("/deals/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int]:
    """Open a deal in 确认 for one of the user's accounts."""
    user = actor()
    form = NewDealForm()
    accounts = db.session.scalars(select(Account).where(accounts_visible_to(user)).order_by(Account.name)).all()
    form.account_id.choices = [SelectChoice(str(a.id), a.name) for a in accounts]
    if not form.is_submitted():
        return render_template("deals/new.html", form=form, accounts=accounts), 200
    if form.validate():
        try:
            account = visible_account(user, form.account_id.data)
            deal = services.create_deal(user, account, form.title.data or "", **_without(form.changes(), "title"))
        except InvalidInput as exc:
            db.session.rollback()
            _attach_errors(form, exc)
        else:
            flash(_("Deal created."), "success")
            return redirect(url_for("deals.show", deal_id=deal.id))
    return render_template("deals/new.html", form=form, accounts=accounts), 422


def _without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def _attach_errors(form: FlaskForm, exc: InvalidInput) -> None:
    """Show a service's refusal next to the field it names (or above the form when no field matches)."""
    for name, message in exc.fields.items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(f"{name}: {message}")


# ---- One deal ---------------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    """Why the last request on the page was refused, and (for a gate) everything that is missing."""

    message: str
    missing: list[str] = field(default_factory=list)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (field id, label, what is wrong)


@bp.app_template_global()
def field_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Each wrong field of a submitted form as (id to link to, label, messages); form-wide ones have no id."""
    found = [(f.id, str(f.label.text), " ".join(map(str, f.errors))) for f in form if f.errors]
    return found + [("", "", str(message)) for message in form.form_errors]


def _move_form(deal: Deal, trigger: str, *, submitted: bool = False) -> VersionedForm:
    """The form for one move: the submitted one, or a blank one carrying the deal's current version."""
    form_class = MOVE_FORMS[trigger]
    form = form_class(prefix=trigger) if submitted else form_class(formdata=None, prefix=trigger, version=deal.version)
    if isinstance(form, LoseForm):
        form.lost_reason.choices = lost_reason_choices(services.lost_reasons())
    return form


def _moves(deal: Deal, user: User) -> list[str]:
    """The moves to offer: what the method allows from here, without the ones the user's role may not ask for."""
    return [t for t in workflow.available_triggers(deal.stage) if t not in workflow.LEADS_ONLY or user.is_lead_or_admin]


def _destination(deal: Deal, trigger: str) -> str | None:
    if trigger == workflow.ADVANCE:
        return next_stage(deal.stage)
    if trigger == workflow.REVERT:
        return STAGE_KEYS[STAGE_KEYS.index(deal.stage) - 1]
    if trigger == workflow.REOPEN:
        return deal.lost_from_stage
    return {workflow.LOSE: LOST, workflow.COMPLETE: DONE}.get(trigger)


def _labels(locale: str) -> dict[tuple[str, str], str]:
    """Names of everything a gate can ask for, in the page's language."""
    names = {("field", k): (en if locale == "en" else zh) for k, (zh, en) in FIELD_LABELS.items()}
    for t in db.session.scalars(select(ChecklistTemplate)):
        names[("checklist", t.key)] = t.label(locale)
    return names


def _missing_labels(missing: list[Missing], locale: str) -> list[str]:
    names = _labels(locale)
    return [names.get((m.kind, m.key), m.label_en if locale == "en" else m.label) for m in missing]


def _progress(deal: Deal, events: list[Any]) -> list[dict[str, Any]]:
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


def _checklist(deal: Deal) -> list[DealChecklistItem]:
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


def _timeline(deal: Deal, events: list[Any], locale: str) -> list[dict[str, Any]]:
    """Moves and field changes in one list, newest first."""
    changes = services.field_changes(deal)
    ids = {e.user_id for e in events} | {c.user_id for c in changes}
    people = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids - {None})))}
    names = _labels(locale)
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
        text = _change_text(deal, c.field, c.old_value, c.new_value, names)
        entries.append(
            {"kind": "change", "at": c.at, "order": (c.at, 0, c.id), "who": people.get(c.user_id, ""), **text}
        )
    entries.sort(key=lambda entry: entry["order"], reverse=True)
    return entries


def _change_text(
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


def _render_deal(
    deal: Deal,
    status: int = 200,
    *,
    edit_form: EditDealForm | None = None,
    move_form: tuple[str, VersionedForm] | None = None,
    refusal: Refusal | None = None,
) -> tuple[str, int]:
    """Draw the deal page; a refused request passes its form back so what was typed stays."""
    user = actor()
    locale = locale_code()
    events = services.history(deal)
    forms = {t: _move_form(deal, t) for t in _moves(deal, user)}
    if move_form is not None and move_form[0] in forms:  # never offer a move the user may not make
        forms[move_form[0]] = move_form[1]
    edit_open = edit_form is not None
    submitted = edit_form if edit_form is not None else move_form[1] if move_form is not None else None
    if refusal is not None and submitted is not None:
        refusal.fields = field_errors(submitted)
    if edit_form is None:
        edit_form = EditDealForm(formdata=None, obj=deal)
    return (
        render_template(
            "deals/show.html",
            deal=deal,
            user=user,
            may_override=user.is_lead_or_admin,
            progress=_progress(deal, events),
            checklist=_checklist(deal),
            checklist_open=deal.stage not in OPEN_ENDED,
            edit_form=edit_form,
            edit_open=edit_open,
            move_forms=forms,
            destinations={t: _destination(deal, t) for t in forms},
            refusal=refusal,
            timeline=_timeline(deal, events, locale),
            today=today(),
            stage_days=days_in_stage(deal, today()),
            is_overdue=overdue(deal, today()),
        ),
        status,
    )


def _refused(deal_id: int, exc: DomainError, forbidden: str = "") -> tuple[Deal, Refusal, int]:
    """Undo whatever the refused request touched and say why, in the page's language where we know the words."""
    locale = locale_code()
    db.session.rollback()
    deal = visible_deal(actor(), deal_id)
    if isinstance(exc, GateRefused):
        return deal, Refusal(_("This move is refused. Still missing:"), _missing_labels(exc.missing, locale)), 409
    if isinstance(exc, Conflict) and exc.message.startswith(services.STALE):
        return deal, Refusal(_("This deal was changed by someone else in the meantime; reload the page.")), 409
    if isinstance(exc, Forbidden):
        return deal, Refusal(forbidden or exc.message), 403
    if isinstance(exc, InvalidInput):
        return deal, Refusal(_("Check the highlighted fields.")), 422
    return deal, Refusal(exc.message), exc.status


@bp.get("/deals/<int:deal_id>")
@with_deal
def show(deal: Deal) -> tuple[str, int]:
    """One deal: where it stands, what its stage still needs, what can happen next, and what happened."""
    return _render_deal(deal)


@bp.post("/deals/<int:deal_id>/edit")
@with_deal
def edit(deal: Deal) -> Response | tuple[str, int]:
    """Save the deal's fields, refusing if someone else saved first."""
    form = EditDealForm()
    if not form.validate():
        return _render_deal(deal, 422, edit_form=form, refusal=Refusal(_("Check the highlighted fields.")))
    try:
        changed = services.update_deal(actor(), deal, form.changes(), expected_version=form.version.data)
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = _refused(deal.id, exc)
        if isinstance(exc, InvalidInput):
            _attach_errors(form, exc)
        return _render_deal(fresh, status, edit_form=form, refusal=refusal)
    flash(_("Saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("deals.show", deal_id=deal.id))


@bp.post("/deals/<int:deal_id>/checklist/<key>")
@with_deal
def checklist_item(deal: Deal, key: str) -> Response | tuple[str, int]:
    """Tick or untick one item of the deal's checklist."""
    form = ChecklistForm()
    if not form.validate():
        return _render_deal(deal, 422, refusal=Refusal(_("Tick or untick: the request was not understood.")))
    try:
        item = services.set_checklist_item(actor(), deal, key, form.done.data == "1")
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = _refused(deal.id, exc)
        if isinstance(exc, InvalidInput):
            refusal = Refusal(_("That item is not on this deal's checklist."))
        return _render_deal(fresh, status, refusal=refusal)
    label = item.template.label(locale_code())
    flash(_("Done: %(item)s", item=label) if item.done else _("Not done: %(item)s", item=label), "success")
    return redirect(url_for("deals.show", deal_id=deal.id, _anchor="checklist"))


@bp.post("/deals/<int:deal_id>/move/<trigger>")
@with_deal
def move(deal: Deal, trigger: str) -> Response | tuple[str, int]:
    """Move the deal (advance, complete, revert, lose, reopen); a refusal says exactly what is missing."""
    if trigger not in MOVE_FORMS:
        raise NotFound(_("There is no move called %(trigger)s.", trigger=trigger))
    from pipeline.deals import board_views  # it imports this module for the helpers it shares

    from_board = request.form.get("back_to") == board_views.BACK_TO_BOARD
    board_query = request.form.get("board_query", "")
    form = _move_form(deal, trigger, submitted=True)
    if not form.validate():
        return _render_deal(deal, 422, move_form=(trigger, form), refusal=Refusal(_("Check the highlighted fields.")))
    data = form.data
    try:
        services.move(
            actor(),
            deal,
            trigger,
            reason=data.get("reason") or "",
            lost_reason=data.get("lost_reason") or None,
            override=bool(data.get("override")),
            expected_version=form.version.data,
        )
    except (InvalidInput, Conflict, Forbidden) as exc:
        forbidden = (
            _("Only a team lead or an admin may reopen a deal.")
            if trigger in workflow.LEADS_ONLY
            else _("Only a team lead or an admin may override a gate.")
        )
        fresh, refusal, status = _refused(deal.id, exc, forbidden)
        if from_board:  # the card stays in its column and says what is missing
            return board_views.render_board(board_query, refused=(deal.id, refusal), status=status)
        if isinstance(exc, InvalidInput):
            _attach_errors(form, exc)
        if isinstance(exc, Conflict):  # the deal moved on: offer the forms that fit where it is now
            return _render_deal(fresh, status, refusal=refusal)
        return _render_deal(fresh, status, move_form=(trigger, form), refusal=refusal)
    flash(_("Moved to %(stage)s.", stage=stage_label(deal.stage)), "success")
    if from_board:
        return redirect(board_views.board_url(board_query) + f"#deal-{deal.id}")
    return redirect(url_for("deals.show", deal_id=deal.id))
