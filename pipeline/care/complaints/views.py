"""The complaint pages: the list (open first), a new complaint, one complaint with its steps, and the report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.scales import COMPLAINT_STATES
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, deals_visible_to, visible_complaint
from pipeline.auth.views import set_current_page
from pipeline.care.choosing import choose_account_page, preselected
from pipeline.care.complaints import page as complaint_page
from pipeline.care.complaints import report as complaint_report
from pipeline.care.complaints import services as services
from pipeline.care.complaints import workflow as workflow
from pipeline.care.complaints.forms import (
    SEVERITY_LABELS,
    STEP_FORMS,
    STEP_HINTS,
    STEP_LABELS,
    ComplaintFilterForm,
    NewComplaintForm,
    ReassignForm,
    VersionedForm,
)
from pipeline.care.models import Complaint
from pipeline.core.errors import Conflict, DomainError, Forbidden, GateRefused, InvalidInput, NotFound
from pipeline.core.pages import Refusal, actor, attach_errors, field_errors, locale_code, today
from pipeline.core.timeutil import team_zone
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.filters import BadFilter, read_filters
from pipeline.reports.forms import filter_form, rep_choices

bp = Blueprint("complaints", __name__)


def with_complaint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Sign-in required, and the complaint loaded through the user's scope: someone else's answers 404."""

    @wraps(view)
    def wrapper(complaint_id: int, **kwargs: Any) -> Any:
        complaint = visible_complaint(actor(), complaint_id)
        set_current_page(url_for("complaints.show", complaint_id=complaint_id))
        return view(complaint, **kwargs)

    return login_required(wrapper)


def people_in_reach(user: User) -> list[SelectChoice]:
    """Whom the user may give a complaint to: a lead their team, an admin anyone, a rep nobody else."""
    return rep_choices(user)[1:]


def state_labels() -> dict[str, str]:
    return {c.key: c.label(locale_code()) for c in COMPLAINT_STATES}


# ---- The list -------------------------------------------------------------------------------------------------


@bp.get("/complaints")
@login_required
def index() -> tuple[str, int]:
    """The complaints the user may see, open ones first and the longest waiting on top; filters in the URL."""
    user = actor()
    form = ComplaintFilterForm(request.args)
    form.owner.choices = rep_choices(user) or [SelectChoice("", "")]
    accounts = db.session.execute(
        select(Account.id, Account.name).where(accounts_visible_to(user)).order_by(Account.name)
    )
    form.account.choices = [SelectChoice("", _("All accounts")), *(SelectChoice(str(i), n) for i, n in accounts)]
    if not form.validate():
        return render_template("care/complaints/index.html", form=form, complaints=[], labels=state_labels()), 400
    query = services.complaints_query(
        user,
        state=form.state.data or None,
        owner_id=int(form.owner.data) if form.owner.data else None,
        account_id=int(form.account.data) if form.account.data else None,
    )
    complaints = list(db.session.scalars(query.limit(500)).unique())
    return render_template(
        "care/complaints/index.html",
        form=form,
        complaints=complaints,
        labels=state_labels(),
        severities=SEVERITY_LABELS,
        now=datetime.now(team_zone()),
    ), 200


# ---- A new complaint ------------------------------------------------------------------------------------------


def _new_form(user: User, account: Account, deal: Deal | None, *, submitted: bool) -> NewComplaintForm:
    form = NewComplaintForm() if submitted else NewComplaintForm(formdata=None, deal_id=str(deal.id) if deal else "")
    deals = db.session.execute(
        select(Deal.id, Deal.title)
        .where(Deal.account_id == account.id, deals_visible_to(user))
        .order_by(Deal.id.desc())
    )
    contacts = db.session.execute(
        select(Contact.id, Contact.name).where(Contact.account_id == account.id).order_by(Contact.name)
    )
    form.deal_id.choices = [SelectChoice("", _("— none —")), *(SelectChoice(str(i), t) for i, t in deals)]
    form.contact_id.choices = [SelectChoice("", _("— none —")), *(SelectChoice(str(i), n) for i, n in contacts)]
    form.owner_id.choices = [
        SelectChoice("", _("The account's owner (%(name)s)", name=account.owner.name)),
        *people_in_reach(user),
    ]
    return form


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int]:
    """受理: take a complaint down; first choose the account, then the form shows its deals and people."""
    user = actor()
    account, deal = preselected(user)
    if account is None and request.method == "POST":
        raise NotFound("account not found")  # a form is only ever sent for an account the sender may see
    if account is None:
        page = choose_account_page(
            user,
            title=_("New complaint"),
            question=_("Which customer is complaining?"),
            action=url_for("complaints.new"),
            back=(url_for("complaints.index"), _("Complaints")),
        )
        return page, 200
    form = _new_form(user, account, deal, submitted=request.method == "POST")
    if request.method == "GET":
        return render_template("care/complaints/new.html", form=form, account=account), 200
    if form.validate():
        received = form.received_at.data
        try:
            complaint = services.receive(
                user,
                account,
                form.title.data,
                description=form.description.data or "",
                severity=form.severity.data,
                deal_id=int(form.deal_id.data) if form.deal_id.data else None,
                contact_id=int(form.contact_id.data) if form.contact_id.data else None,
                owner_id=int(form.owner_id.data) if form.owner_id.data else None,
                received_at=received.replace(tzinfo=team_zone()) if received else None,
            )
        except (InvalidInput, Forbidden) as exc:
            db.session.rollback()
            if isinstance(exc, InvalidInput):
                attach_errors(form, exc)
            else:
                form.owner_id.errors = [*form.owner_id.errors, exc.message]
        else:
            flash(_("Complaint received."), "success")
            return redirect(url_for("complaints.show", complaint_id=complaint.id))
    return render_template("care/complaints/new.html", form=form, account=account, errors=field_errors(form)), 422


# ---- One complaint --------------------------------------------------------------------------------------------


def _step_form(complaint: Complaint, name: str, *, submitted: bool = False) -> VersionedForm:
    form_class = STEP_FORMS[name]
    if submitted:
        return form_class(prefix=name)
    return form_class(formdata=None, prefix=name, obj=complaint)


def render_complaint(
    complaint: Complaint,
    status: int = 200,
    *,
    step_form: tuple[str, VersionedForm] | None = None,
    reassign_form: ReassignForm | None = None,
    refusal: Refusal | None = None,
) -> tuple[str, int]:
    """Draw the complaint page; a refused step passes its form back so what was typed stays."""
    user = actor()
    locale = locale_code()
    forms = {name: _step_form(complaint, name) for name in workflow.available_steps(complaint.state)}
    if step_form is not None and step_form[0] in forms:
        forms[step_form[0]] = step_form[1]
        if refusal is not None:
            refusal.fields = field_errors(step_form[1])
    reassign = None
    if user.is_lead_or_admin:
        reassign = reassign_form or ReassignForm(
            formdata=None, owner_id=str(complaint.owner_id), version=complaint.version
        )
        reassign.owner_id.choices = people_in_reach(user)
    return render_template(
        "care/complaints/show.html",
        complaint=complaint,
        progress=complaint_page.progress(complaint, locale),
        times=complaint_page.times(complaint),
        timeline=complaint_page.timeline(complaint, locale),
        step_forms=forms,
        step_labels=STEP_LABELS,
        step_hints=STEP_HINTS,
        opened=step_form[0] if step_form else None,
        reassign_form=reassign,
        refusal=refusal,
        labels=state_labels(),
        severities=SEVERITY_LABELS,
    ), status


def _refused(complaint_id: int, exc: DomainError) -> tuple[Complaint, Refusal, int]:
    db.session.rollback()
    complaint = visible_complaint(actor(), complaint_id)
    if isinstance(exc, GateRefused):
        english = locale_code() == "en"  # the page's language, whatever the user's stored one
        names = [
            workflow.TEXT_LABELS[m.key][english] if m.key in workflow.TEXT_LABELS else m.label for m in exc.missing
        ]
        return complaint, Refusal(_("This step is refused. Still missing:"), names), 409
    if isinstance(exc, Conflict) and exc.message.startswith(services.STALE):
        return (
            complaint,
            Refusal(_("This complaint was changed by someone else in the meantime; reload the page.")),
            409,
        )
    if isinstance(exc, InvalidInput):
        return complaint, Refusal(_("Check the highlighted fields.")), 422
    return complaint, Refusal(exc.message), exc.status


@bp.get("/complaints/<int:complaint_id>")
@with_complaint
def show(complaint: Complaint) -> tuple[str, int]:
    """One complaint: where it stands in the method, its times, the next step, and what happened."""
    return render_complaint(complaint)


@bp.post("/complaints/<int:complaint_id>/steps/<step>")
@with_complaint
def take_step(complaint: Complaint, step: str) -> Response | tuple[str, int]:
    """Take one step (understand, propose, accept, reject, close); a refusal names everything missing."""
    if step not in STEP_FORMS:
        raise NotFound(_("There is no step called %(step)s.", step=step))
    form = _step_form(complaint, step, submitted=True)
    if not form.validate():
        return render_complaint(
            complaint, 422, step_form=(step, form), refusal=Refusal(_("Check the highlighted fields."))
        )
    texts = {k: form.data[k] for k in workflow.TEXTS if k in form.data}
    try:
        services.take_step(
            actor(),
            complaint,
            step,
            texts=texts,
            reason=form.data.get("reason") or "",
            expected_version=form.version.data,
        )
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = _refused(complaint.id, exc)
        if isinstance(exc, InvalidInput):
            attach_errors(form, exc)
        if isinstance(exc, Conflict) and not isinstance(exc, GateRefused):
            return render_complaint(fresh, status, refusal=refusal)
        return render_complaint(fresh, status, step_form=(step, form), refusal=refusal)
    flash(_("Now: %(state)s.", state=workflow.state_label(complaint.state, locale_code())), "success")
    return redirect(url_for("complaints.show", complaint_id=complaint.id))


@bp.post("/complaints/<int:complaint_id>/owner")
@with_complaint
def reassign(complaint: Complaint) -> Response | tuple[str, int]:
    """A lead gives the complaint to someone in the team (an admin to anyone)."""
    user = actor()
    form = ReassignForm()
    form.owner_id.choices = people_in_reach(user) or [SelectChoice(str(complaint.owner_id), complaint.owner.name)]
    if not form.validate():
        return render_complaint(complaint, 422, reassign_form=form, refusal=Refusal(_("Check the highlighted fields.")))
    try:
        changed = services.reassign(user, complaint, int(form.owner_id.data), expected_version=form.version.data)
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = _refused(complaint.id, exc)
        return render_complaint(fresh, status, refusal=refusal)
    flash(_("Owner changed.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("complaints.show", complaint_id=complaint.id))


# ---- The report -----------------------------------------------------------------------------------------------


@bp.get("/reports/complaints")
@login_required
def report() -> tuple[str, int]:
    """Open complaints per step, response and resolution times per rep and overall, and the longest waiting."""
    user = actor()
    args = {k: v for k, v in request.args.items() if k != "strategy"}
    try:
        filters = read_filters(args, user, today())
    except BadFilter as exc:
        form = filter_form(user, sent=args, errors=exc.fields)
        return render_template("care/complaints/report.html", form=form, filters=None, report=None), 400
    figures = complaint_report.complaint_report(filters.scope, filters.period)
    return render_template(
        "care/complaints/report.html",
        form=filter_form(user, filters),
        filters=filters,
        report=figures,
        labels=state_labels(),
        hours=lambda h: "—" if h is None else f"{h:.1f}",
    ), 200


@bp.app_template_global()
def complaint_state_label(key: str) -> str:
    """A complaint's state in the page's language (the account and deal pages list complaints too)."""
    return workflow.state_label(key, locale_code())
