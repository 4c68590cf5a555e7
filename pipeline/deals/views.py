"""The deal pages: the list, a new deal, and one deal with its stages, checklist, moves and history."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts.models import Account
from pipeline.activities import panel as activity_panel
from pipeline.activities.forms import ActivityForm
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, deals_visible_to, visible_account, visible_deal
from pipeline.auth.views import set_current_page
from pipeline.care.complaints import services as complaint_services
from pipeline.care.satisfaction import services as satisfaction
from pipeline.core.errors import Conflict, DomainError, Forbidden, GateRefused, InvalidInput, NotFound
from pipeline.core.forms import BaseForm
from pipeline.core.pages import (
    OVER,
    Refusal,
    actor,
    attach_errors,
    days_in_stage,
    field_errors,
    locale_code,
    overdue,
    stage_label,
    today,
)
from pipeline.deals import board_views, deal_page, my_day, services, workflow
from pipeline.deals.forms import (
    AdvanceForm,
    ChecklistForm,
    DealFilterForm,
    EditDealForm,
    LoseForm,
    NewDealForm,
    ReasonedMoveForm,
    VersionedForm,
    lost_reason_choices,
)
from pipeline.deals.method import (
    ACTIVITY_KIND_CHOICES,
    DONE,
    LOST,
    STAGE_KEYS,
    guidance,
    next_stage,
)
from pipeline.deals.models import Deal
from pipeline.extensions import db

bp = Blueprint("deals", __name__)


MOVE_FORMS: dict[str, type[VersionedForm]] = {
    workflow.ADVANCE: AdvanceForm,
    workflow.COMPLETE: AdvanceForm,
    workflow.REVERT: ReasonedMoveForm,
    workflow.REOPEN: ReasonedMoveForm,
    workflow.LOSE: LoseForm,
}


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
@login_required
def home() -> tuple[str, int]:
    """My day: the user's overdue next steps, stalled deals, this month's closes and recent activity."""
    user = actor()
    team = user.is_lead_or_admin and request.args.get("team") == "1"  # a lead may look over the whole team
    day = my_day.my_day(user, today(), team=team, thresholds=current_app.config.get("PIPELINE_STALL_DAYS"))
    activity_kinds = {c.key: c.label(locale_code()) for c in ACTIVITY_KIND_CHOICES}
    return render_template("deals/my_day.html", day=day, user=user, team=team, activity_kinds=activity_kinds), 200


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
        preselected = request.args.get("account_id", type=int)  # "新建商机" from an account's page
        if preselected in {a.id for a in accounts}:
            form.account_id.data = preselected
        return render_template("deals/new.html", form=form, accounts=accounts), 200
    if form.validate():
        try:
            account = visible_account(user, form.account_id.data)
            deal = services.create_deal(user, account, form.title.data or "", **_without(form.changes(), "title"))
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("Deal created."), "success")
            return redirect(url_for("deals.show", deal_id=deal.id))
    return render_template("deals/new.html", form=form, accounts=accounts), 422


def _without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


# ---- One deal ---------------------------------------------------------------------------------------------------


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


def render_deal(
    deal: Deal,
    status: int = 200,
    *,
    edit_form: EditDealForm | None = None,
    move_form: tuple[str, VersionedForm] | None = None,
    influence_form: tuple[str | int, BaseForm] | None = None,
    refusal: Refusal | None = None,
    activity_form: ActivityForm | None = None,
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
    if influence_form is not None:
        submitted = influence_form[1]
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
            progress=deal_page.progress(deal, events),
            checklist=deal_page.checklist(deal),
            guidance=guidance(deal.stage, locale),
            checklist_open=deal.stage not in OVER,
            edit_form=edit_form,
            edit_open=edit_open,
            move_forms=forms,
            destinations={t: _destination(deal, t) for t in forms},
            refusal=refusal,
            timeline=deal_page.timeline(deal, events, locale),
            influences=deal_page.influence_section(deal, user, locale, influence_form),
            today=today(),
            stage_days=days_in_stage(deal, today()),
            is_overdue=overdue(deal, today()),
            activities=activity_panel.panel(deal, activity_form),
            complaints=complaint_services.complaints_of(user, deal=deal),
            surveys=satisfaction.surveys_of(user, deal=deal),
            survey_due=satisfaction.needs_survey(deal),
        ),
        status,
    )


def refused_request(deal_id: int, exc: DomainError, forbidden: str = "") -> tuple[Deal, Refusal, int]:
    """Undo whatever the refused request touched and say why, in the page's language where we know the words."""
    locale = locale_code()
    db.session.rollback()
    deal = visible_deal(actor(), deal_id)
    if isinstance(exc, GateRefused):
        return (
            deal,
            Refusal(_("This move is refused. Still missing:"), deal_page.missing_labels(exc.missing, locale)),
            409,
        )
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
    return render_deal(deal)


@bp.post("/deals/<int:deal_id>/edit")
@with_deal
def edit(deal: Deal) -> Response | tuple[str, int]:
    """Save the deal's fields, refusing if someone else saved first."""
    form = EditDealForm()
    if not form.validate():
        return render_deal(deal, 422, edit_form=form, refusal=Refusal(_("Check the highlighted fields.")))
    try:
        changed = services.update_deal(actor(), deal, form.changes(), expected_version=form.version.data)
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = refused_request(deal.id, exc)
        if isinstance(exc, InvalidInput):
            attach_errors(form, exc)
        return render_deal(fresh, status, edit_form=form, refusal=refusal)
    flash(_("Saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("deals.show", deal_id=deal.id))


@bp.post("/deals/<int:deal_id>/checklist/<key>")
@with_deal
def checklist_item(deal: Deal, key: str) -> Response | tuple[str, int]:
    """Tick or untick one item of the deal's checklist."""
    form = ChecklistForm()
    if not form.validate():
        return render_deal(deal, 422, refusal=Refusal(_("Tick or untick: the request was not understood.")))
    try:
        was_done = next((i.done for i in deal.checklist if i.item_key == key), None)
        note = form.note.data.strip() if "note" in request.form and form.note.data is not None else None
        item = services.set_checklist_item(actor(), deal, key, form.done.data == "1", note=note)
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = refused_request(deal.id, exc)
        if isinstance(exc, InvalidInput):
            refusal = Refusal(_("That item is not on this deal's checklist."))
        return render_deal(fresh, status, refusal=refusal)
    label = item.template.label(locale_code())
    if item.done == was_done:
        flash(_("Note saved: %(item)s", item=label), "success")
    else:
        flash(_("Done: %(item)s", item=label) if item.done else _("Not done: %(item)s", item=label), "success")
    return redirect(url_for("deals.show", deal_id=deal.id, _anchor="checklist"))


@bp.post("/deals/<int:deal_id>/move/<trigger>")
@with_deal
def move(deal: Deal, trigger: str) -> Response | tuple[str, int]:
    """Move the deal (advance, complete, revert, lose, reopen); a refusal says exactly what is missing."""
    if trigger not in MOVE_FORMS:
        raise NotFound(_("There is no move called %(trigger)s.", trigger=trigger))
    from_board = request.form.get("back_to") == board_views.BACK_TO_BOARD
    board_query = request.form.get("board_query", "")
    form = _move_form(deal, trigger, submitted=True)
    if not form.validate():
        return render_deal(deal, 422, move_form=(trigger, form), refusal=Refusal(_("Check the highlighted fields.")))
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
        fresh, refusal, status = refused_request(deal.id, exc, forbidden)
        if from_board:  # the card stays in its column and says what is missing
            return board_views.render_board(board_query, refused=(deal.id, refusal), status=status)
        if isinstance(exc, InvalidInput):
            attach_errors(form, exc)
        if isinstance(exc, Conflict):  # the deal moved on: offer the forms that fit where it is now
            return render_deal(fresh, status, refusal=refusal)
        return render_deal(fresh, status, move_form=(trigger, form), refusal=refusal)
    flash(_("Moved to %(stage)s.", stage=stage_label(deal.stage)), "success")
    if from_board:
        return redirect(board_views.board_url(board_query) + f"#deal-{deal.id}")
    return redirect(url_for("deals.show", deal_id=deal.id))
