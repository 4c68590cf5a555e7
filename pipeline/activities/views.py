"""Log a touch (call, visit, e-mail, meeting, note) from the deal page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from pipeline.accounts.scales import CALL_RESULTS
from pipeline.activities import services
from pipeline.activities.forms import ActivityForm
from pipeline.activities.models import kind_label
from pipeline.auth.scope import visible_deal
from pipeline.auth.views import set_current_page
from pipeline.core.errors import InvalidInput
from pipeline.core.pages import Refusal, actor, attach_errors, field_errors, locale_code
from pipeline.deals.views import render_deal
from pipeline.extensions import db

bp = Blueprint("activities", __name__)


@bp.app_template_global()
def activity_kind(key: str) -> str:
    """An activity kind's name in the page's language."""
    return kind_label(key, locale_code())


@bp.app_template_global()
def call_result_label(key: str) -> str:
    """A call result's name in the page's language (answered, no answer, busy, declined)."""
    choice = next((c for c in CALL_RESULTS if c.key == key), None)
    return choice.label(locale_code()) if choice is not None else key


@bp.post("/deals/<int:deal_id>/activities")
@login_required
def log(deal_id: int) -> Response | tuple[str, int]:
    """Record one touch on a deal the user sees; a refusal shows next to the fields on the deal page."""
    user = actor()
    deal = visible_deal(user, deal_id)
    set_current_page(url_for("deals.show", deal_id=deal.id))
    form = ActivityForm(prefix="activity", contacts=deal.account.contacts)
    if form.validate():
        try:
            services.log_for_deal(user, deal, **form.changes())
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("Activity logged."), "success")
            return redirect(url_for("deals.show", deal_id=deal.id, _anchor="activities"))
    refusal = Refusal(_("Check the highlighted fields."), fields=field_errors(form))
    return render_deal(deal, 422, activity_form=form, refusal=refusal)
