"""The deal page's buying influences (客户参与者): add, change and remove the customer's people on a deal."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from pipeline.core.errors import Conflict, Forbidden, InvalidInput
from pipeline.core.forms import BaseForm
from pipeline.core.pages import Refusal, actor, attach_errors, locale_code
from pipeline.deals import deal_page, influences
from pipeline.deals.forms import AddInfluenceForm, ChangeInfluenceForm, RemoveInfluenceForm, contact_choices
from pipeline.deals.method import INFLUENCE_ROLES
from pipeline.deals.models import Deal
from pipeline.deals.views import refused_request, render_deal, with_deal

bp = Blueprint("influences", __name__)

# What the services can still refuse once the form is valid, in the page's language.
PAGE_WORDS = {
    "role": _l("This person already holds this role on the deal."),
    "contact_id": _l("Choose a contact of this deal's account."),
}


def _back(deal: Deal) -> Response:
    return redirect(url_for("deals.show", deal_id=deal.id, _anchor="influences"))


def _role_label(key: str) -> str:
    return next((c.label(locale_code()) for c in INFLUENCE_ROLES if c.key == key), key)


def _refuse(deal: Deal, key: str | int, form: BaseForm, exc: InvalidInput | Conflict | Forbidden) -> tuple[str, int]:
    """Undo the request and draw the deal page with the form as sent and the service's words beside its fields."""
    fresh, refusal, status = refused_request(deal.id, exc)
    if isinstance(exc, InvalidInput):
        worded = {name: str(PAGE_WORDS.get(name, message)) for name, message in exc.fields.items()}
        attach_errors(form, InvalidInput(worded))
    return render_deal(fresh, status, influence_form=(key, form), refusal=_closed(exc, refusal))


def _closed(exc: Exception, refusal: Refusal) -> Refusal:
    """The services refuse changes to a deal that is over: say so in the page's language."""
    if isinstance(exc, Conflict) and exc.message.endswith(influences.CLOSED):
        return Refusal(_("This deal is over; its buying influences can no longer change."))
    return refusal


@bp.post("/deals/<int:deal_id>/influences")
@with_deal
def add(deal: Deal) -> Response | tuple[str, int]:
    """Name one of the customer's people on the deal: a contact of the account, or a new one."""
    form = AddInfluenceForm(prefix="influence")
    form.contact_id.choices = contact_choices(influences.account_contacts(deal))
    if not form.validate():
        refusal = Refusal(_("Check the highlighted fields."))
        return render_deal(deal, 422, influence_form=(deal_page.ADD, form), refusal=refusal)
    try:
        row = influences.add_influence(
            actor(),
            deal,
            contact_id=int(form.contact_id.data) if form.contact_id.data else None,
            name=form.name.data or "",
            title=form.title.data or "",
            **form.values(),
        )
    except (InvalidInput, Conflict, Forbidden) as exc:
        return _refuse(deal, deal_page.ADD, form, exc)
    flash(_("Added %(name)s as %(role)s.", name=row.contact.name, role=_role_label(row.role)), "success")
    return _back(deal)


@bp.post("/deals/<int:deal_id>/influences/<int:influence_id>")
@with_deal
def change(deal: Deal, influence_id: int) -> Response | tuple[str, int]:
    """Change how one person on the deal stands: role, attitude, influence, depth, note."""
    form = ChangeInfluenceForm(prefix=f"influence{influence_id}")
    if not form.validate():
        influences.influence_of(actor(), deal, influence_id)  # an id not on this deal answers 404, not 422
        refusal = Refusal(_("Check the highlighted fields."))
        return render_deal(deal, 422, influence_form=(influence_id, form), refusal=refusal)
    try:
        row = influences.change_influence(actor(), deal, influence_id, form.values())
    except (InvalidInput, Conflict, Forbidden) as exc:
        return _refuse(deal, influence_id, form, exc)
    flash(_("Saved: %(name)s.", name=row.contact.name), "success")
    return _back(deal)


@bp.post("/deals/<int:deal_id>/influences/<int:influence_id>/remove")
@with_deal
def remove(deal: Deal, influence_id: int) -> Response | tuple[str, int]:
    """Take one person off the deal; the contact stays at the account and the history keeps who they were."""
    form = RemoveInfluenceForm()
    if not form.validate():
        return render_deal(deal, 422, refusal=Refusal(_("The request was not understood; reload the page.")))
    try:
        row = influences.remove_influence(actor(), deal, influence_id)
    except (Conflict, Forbidden) as exc:
        fresh, refusal, status = refused_request(deal.id, exc)
        return render_deal(fresh, status, refusal=_closed(exc, refusal))
    flash(_("Removed %(name)s from the deal.", name=row.contact.name), "success")
    return _back(deal)
