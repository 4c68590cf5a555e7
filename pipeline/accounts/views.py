"""The account pages: the list, one account with its deals, contacts, activity and notes, and their forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts import profile, services
from pipeline.accounts.forms import TAGS_HINT, AccountFilterForm, AccountForm, ContactForm, NoteForm
from pipeline.accounts.models import Account, Contact
from pipeline.accounts.presenters import account_history, criteria_rows, profile_labels, profile_rules
from pipeline.accounts.profile_forms import ChurnForm, QualificationForm, TagsForm
from pipeline.accounts.qualification import answers
from pipeline.accounts.tags import set_tags, tags_in_use
from pipeline.auth.models import User
from pipeline.auth.scope import visible_account, visible_contact
from pipeline.auth.views import set_current_page
from pipeline.care.calls import contact_call_times
from pipeline.care.complaints import services as complaint_services
from pipeline.care.satisfaction import services as satisfaction
from pipeline.core.errors import Forbidden, InvalidInput
from pipeline.core.pages import actor, attach_errors, locale_code, today
from pipeline.deals.method import ACCOUNT_KIND_CHOICES, ACTIVITY_KIND_CHOICES
from pipeline.extensions import db

bp = Blueprint("accounts", __name__)


def kind_labels() -> dict[str, str]:
    """Each account kind's name in the page's language."""
    locale = locale_code()
    return {c.key: c.label(locale) for c in ACCOUNT_KIND_CHOICES}


def activity_labels() -> dict[str, str]:
    """Each activity kind's name in the page's language."""
    locale = locale_code()
    return {c.key: c.label(locale) for c in ACTIVITY_KIND_CHOICES}


# ---- The list -------------------------------------------------------------------------------------------------


def _values(label: str, values: list[str], current: str | None) -> list[SelectChoice]:
    """A filter's choices: "any", then each value in use (and the asked-for one, even if no account has it now)."""
    shown = values if not current or current in values else [current, *values]
    return [SelectChoice("", label), *(SelectChoice(v, v) for v in shown)]


FILTERS = ("q", "kind", "tag", "frequency", "status", "owner", "region", "industry")


def _filter_args(form: AccountFilterForm) -> dict[str, str]:
    """The list's filters as query arguments, without empty ones, for links that keep them."""
    args = {name: form[name].data for name in FILTERS}
    return {k: v for k, v in args.items() if v}


@bp.get("/accounts")
@login_required
def index() -> tuple[str, int]:
    """The accounts the user may see, newest first, searchable and filterable, a page at a time (?before=<id>)."""
    user = actor()
    form = AccountFilterForm(request.args)
    regions, industries = services.filter_values(user)
    form.region.choices = _values(_("Any region"), regions, form.region.data)
    form.industry.choices = _values(_("Any industry"), industries, form.industry.data)
    form.tag.choices = _values(_("Any tag"), [name for name, *_counts in tags_in_use(user)], form.tag.data)
    owners = services.account_owners(user) if user.is_lead_or_admin else []
    form.owner.choices = [SelectChoice("", _("Anyone")), *(SelectChoice(str(i), name) for i, name in owners)]
    page = {
        "form": form,
        "rows": [],
        "older": None,
        "filtered": bool(request.args),
        "kinds": kind_labels(),
        "labels": profile_labels(),
        "no_purchase": profile.NO_PURCHASE,
        "show_owner_filter": bool(owners),
    }
    if not form.validate():
        return render_template("accounts/index.html", **page), 422
    wanted = services.AccountFilter(
        text=(form.q.data or "").strip(),
        kind=form.kind.data or None,
        owner_id=int(form.owner.data) if form.owner.data else None,
        region=form.region.data or None,
        industry=form.industry.data or None,
        tag=form.tag.data or None,
        frequency=form.frequency.data or None,
        status=form.status.data or None,
    )
    rows, more = services.account_list(
        user, wanted, today=today(), before=form.before.data, size=current_app.config["PIPELINE_PAGE_SIZE"]
    )
    if more:
        page["older"] = url_for("accounts.index", **_filter_args(form), before=rows[-1].account.id)
    first_page = url_for("accounts.index", **_filter_args(form))
    page.update(rows=rows, filtered=bool(_filter_args(form) or form.before.data), first_page=first_page)
    return render_template("accounts/index.html", **page), 200


# ---- One account ---------------------------------------------------------------------------------------------


def render_account_page(account: Account, status: int = 200, **forms: Any) -> tuple[str, int]:
    """Draw an account's page; a refused form (note, tags, lost mark, worksheet) comes back as typed, with why."""
    user = actor()
    kinds = kind_labels()
    on = today()
    set_current_page(url_for("accounts.show", account_id=account.id))
    frequency, won = profile.frequency_of(user, account, on)
    advice = profile.advise(user, account)
    churn_form = forms.get("churn_form") or ChurnForm(formdata=None, data={"churned_on": on})
    qualification_form = forms.get("qualification_form") or QualificationForm(
        formdata=None, data={**answers(account.qualification), "note": getattr(account.qualification, "note", "")}
    )
    contacts = services.contacts_of(account)
    return (
        render_template(
            "accounts/show.html",
            account=account,
            deals=services.account_deals(user, account),
            contacts=contacts,
            call_times=contact_call_times([c.id for c in contacts]),
            activities=services.account_activities(user, account, notes=False),
            notes=services.account_activities(user, account, notes=True),
            history=account_history(account, kinds),
            complaints=complaint_services.complaints_of(user, account=account),
            surveys=satisfaction.surveys_of(user, account=account),
            note_form=forms.get("note_form") or NoteForm(formdata=None),
            contact_form=ContactForm(formdata=None),
            tags_form=forms.get("tags_form") or TagsForm(formdata=None, data={"tags": account.tags}),
            churn_form=churn_form,
            qualification_form=qualification_form,
            qualification_score=sum(answers(account.qualification).values()),
            criteria=criteria_rows(),
            frequency=frequency,
            won_in_window=won,
            advice=advice,
            rules=profile_rules(advice),
            labels=profile_labels(),
            tags_hint=TAGS_HINT,
            kinds=kinds,
            activity_kinds=activity_labels(),
            today=on,
        ),
        status,
    )


@bp.get("/accounts/<int:account_id>")
@login_required
def show(account_id: int) -> tuple[str, int]:
    """One account: its facts, its deals, the people there, what happened lately, notes, and what changed."""
    return render_account_page(visible_account(actor(), account_id))


@bp.post("/accounts/<int:account_id>/notes")
@login_required
def add_note(account_id: int) -> Response | tuple[str, int]:
    """Keep a quick note on the account."""
    user = actor()
    account = visible_account(user, account_id)
    form = NoteForm()
    if not form.validate():
        return render_account_page(account, 422, note_form=form)
    try:
        services.add_note(user, account, form.note.data or "")
    except InvalidInput as exc:
        db.session.rollback()
        form.note.errors = [*form.note.errors, *exc.fields.values()]  # the note is the only thing typed
        return render_account_page(visible_account(actor(), account_id), 422, note_form=form)
    flash(_("Note added."), "success")
    return redirect(url_for("accounts.show", account_id=account.id, _anchor="account-notes"))


# ---- New and edited accounts ----------------------------------------------------------------------------------


def _account_form(user: User, account: Account | None = None, *, submitted: bool) -> AccountForm:
    """The account form, its owners limited to the people the user may assign to (and the current owner)."""
    form = AccountForm() if submitted else AccountForm(formdata=None, obj=account)
    owners = [(u.id, u.name) for u in services.assignable_owners(user)]
    if account is not None and account.owner_id not in {i for i, _name in owners}:
        owners.insert(0, (account.owner_id, account.owner.name))
    form.owner_id.choices = [SelectChoice(i, name) for i, name in owners]
    if not submitted and account is None:
        form.owner_id.data = user.id
    return form


def _account_page(form: AccountForm, account: Account | None, status: int) -> tuple[str, int]:
    """The account form, with the advised relationship level beside the rep's choice when editing."""
    advice = profile.advise(actor(), account) if account is not None else None
    page = render_template(
        "accounts/form.html", form=form, account=account, advice=advice, labels=profile_labels(), tags_hint=TAGS_HINT
    )
    return page, status


def _save_refused(form: AccountForm, exc: InvalidInput | Forbidden) -> None:
    """Undo the refused save and show why next to the field it concerns."""
    db.session.rollback()
    if isinstance(exc, Forbidden):
        form.owner_id.errors = [*form.owner_id.errors, _("You may not give this account to that person.")]
    else:
        attach_errors(form, exc)


@bp.route("/accounts/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int]:
    """Add an account, owned by the user unless they may give it to someone else."""
    user = actor()
    form = _account_form(user, submitted=request.method == "POST")
    set_current_page(request.path)
    if request.method == "GET":
        return _account_page(form, None, 200)
    if form.validate():
        values = form.changes()
        try:
            account = services.create_account(user, values.pop("name"), **values)
            set_tags(user, account, form.tags.data or [])
        except (InvalidInput, Forbidden) as exc:
            _save_refused(form, exc)
        else:
            flash(_("Account created."), "success")
            return redirect(url_for("accounts.show", account_id=account.id))
    return _account_page(form, None, 422)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@login_required
def edit(account_id: int) -> Response | tuple[str, int]:
    """Change an account's fields; every change is kept in its history."""
    user = actor()
    account = visible_account(user, account_id)
    form = _account_form(user, account, submitted=request.method == "POST")
    set_current_page(request.path)
    if request.method == "GET":
        return _account_page(form, account, 200)
    if form.validate():
        try:
            changed = services.update_account(user, account, form.changes())
            changed = set_tags(user, account, form.tags.data or []) or bool(changed)
        except (InvalidInput, Forbidden) as exc:
            _save_refused(form, exc)
            account = visible_account(actor(), account_id)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success" if changed else "info")
            return redirect(url_for("accounts.show", account_id=account.id))
    return _account_page(form, account, 422)


# ---- Contacts -------------------------------------------------------------------------------------------------


def _contact_page(form: ContactForm, account: Account, contact: Contact | None, status: int) -> tuple[str, int]:
    set_current_page(request.path)  # a refused POST redraws the form: the language switch comes back to it
    page = render_template(
        "accounts/contact_form.html", form=form, account=account, contact=contact, tags_hint=TAGS_HINT
    )
    return page, status


@bp.route("/accounts/<int:account_id>/contacts/new", methods=["GET", "POST"])
@login_required
def new_contact(account_id: int) -> Response | tuple[str, int]:
    """Add a person at the account: who they are and how to reach them."""
    user = actor()
    account = visible_account(user, account_id)
    if request.method == "GET":
        return _contact_page(ContactForm(formdata=None), account, None, 200)
    form = ContactForm()
    if form.validate():
        values = form.changes()
        try:
            contact = services.create_contact(user, account, values.pop("name"), **values)
            set_tags(user, contact, form.tags.data or [])
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
            account = visible_account(actor(), account_id)
        else:
            flash(_("Contact added."), "success")
            return redirect(url_for("accounts.show", account_id=account.id, _anchor="contacts"))
    return _contact_page(form, account, None, 422)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contact(contact_id: int) -> Response | tuple[str, int]:
    """Change a contact's details; someone whose account the user cannot see answers 404."""
    user = actor()
    contact = visible_contact(user, contact_id)
    if request.method == "GET":
        return _contact_page(ContactForm(formdata=None, obj=contact), contact.account, contact, 200)
    form = ContactForm()
    if form.validate():
        try:
            changed = services.update_contact(user, contact, form.changes())
            changed = set_tags(user, contact, form.tags.data or []) or bool(changed)
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
            contact = visible_contact(actor(), contact_id)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success" if changed else "info")
            return redirect(url_for("accounts.show", account_id=contact.account_id, _anchor="contacts"))
    return _contact_page(form, contact.account, contact, 422)
