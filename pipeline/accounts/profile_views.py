"""The account page's own forms: tags, the lost mark (流失), the qualification worksheet, and the comparison."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts import churn, qualification
from pipeline.accounts.presenters import criteria_rows
from pipeline.accounts.profile_forms import ChurnForm, CompareForm, QualificationForm, TagsForm
from pipeline.accounts.scales import MAX_COMPARED
from pipeline.accounts.tags import set_tags
from pipeline.accounts.views import render_account_page
from pipeline.auth.scope import visible_account
from pipeline.core.errors import InvalidInput
from pipeline.core.pages import actor, attach_errors, today
from pipeline.extensions import db

bp = Blueprint("profile", __name__)


@bp.post("/accounts/<int:account_id>/tags")
@login_required
def set_account_tags(account_id: int) -> Response | tuple[str, int]:
    """Give the account exactly the tags typed: new names become new tags, names left out are removed."""
    user = actor()
    account = visible_account(user, account_id)
    form = TagsForm()
    if not form.validate():
        return render_account_page(account, 422, tags_form=form)
    changed = set_tags(user, account, form.tags.data or [])
    flash(_("Tags saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("accounts.show", account_id=account.id, _anchor="account-tags"))


@bp.post("/accounts/<int:account_id>/churn")
@login_required
def mark_churned(account_id: int) -> Response | tuple[str, int]:
    """Mark the customer lost (流失) with why and when."""
    user = actor()
    account = visible_account(user, account_id)
    form = ChurnForm()
    if form.validate():
        try:
            churn.mark_churned(user, account, form.reason.data, form.churned_on.data, form.note.data or "", today())
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
            account = visible_account(actor(), account_id)
        else:
            flash(_("Marked as a lost customer."), "success")
            return redirect(url_for("accounts.show", account_id=account.id, _anchor="churn"))
    return render_account_page(account, 422, churn_form=form)


@bp.post("/accounts/<int:account_id>/churn/clear")
@login_required
def unmark_churned(account_id: int) -> Response:
    """Take the lost mark back: the customer is buying again, or the mark was a mistake."""
    user = actor()
    account = visible_account(user, account_id)
    changed = churn.unmark_churned(user, account)
    flash(_("No longer marked as lost.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("accounts.show", account_id=account.id, _anchor="churn"))


@bp.post("/accounts/<int:account_id>/qualification")
@login_required
def save_qualification(account_id: int) -> Response | tuple[str, int]:
    """Save the 潜力客户工作表: which of the seven criteria the account meets."""
    user = actor()
    account = visible_account(user, account_id)
    form = QualificationForm()
    if not form.validate():
        return render_account_page(account, 422, qualification_form=form)
    changed = qualification.set_qualification(user, account, form.answers())
    flash(_("Worksheet saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("accounts.show", account_id=account.id, _anchor="qualification"))


@bp.get("/accounts/compare")
@login_required
def compare() -> tuple[str, int]:
    """Up to five candidate accounts side by side on the worksheet's criteria, with their totals."""
    user = actor()
    form = CompareForm(request.args)
    choices = qualification.comparable_accounts(user)
    form.account.choices = [
        SelectChoice(i, f"{name} ({score}/7)" if score is not None else f"{name} ({_('not assessed')})")
        for i, name, score in choices
    ]
    status, candidates = 200, []
    if not form.validate():
        status = 422
    else:
        try:
            candidates = qualification.compare(user, form.account.data or [])
        except InvalidInput:
            form.account.errors = [_("Choose at most %(n)d accounts to compare.", n=MAX_COMPARED)]
            status = 422
    page = render_template(
        "accounts/compare.html",
        form=form,
        candidates=candidates,
        criteria=criteria_rows(),
        most=MAX_COMPARED,
    )
    return page, status
