"""Contacts on their own: one person's page (details, tags, notes, changes) and the group view by tag."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from pipeline.accounts.forms import TAGS_HINT
from pipeline.accounts.groups import contacts_in_group
from pipeline.accounts.presenters import contact_history
from pipeline.accounts.profile_forms import GroupForm, TagsForm
from pipeline.accounts.tags import set_tags, tags_in_use
from pipeline.auth.scope import visible_contact
from pipeline.auth.views import set_current_page
from pipeline.core.pages import actor

bp = Blueprint("contacts", __name__)


@bp.get("/contacts")
@login_required
def index() -> tuple[str, int]:
    """Everyone in a group (seed 001: group customers freely), or every contact, with their company and tags."""
    user = actor()
    form = GroupForm(request.args)
    groups = tags_in_use(user)
    if not form.validate():
        return render_template("accounts/contacts.html", form=form, groups=groups, rows=[], older=None), 422
    size = current_app.config["PIPELINE_PAGE_SIZE"]
    rows, more = contacts_in_group(user, form.tag.data or None, before=form.before.data, size=size)
    older = url_for("contacts.index", tag=form.tag.data or None, before=rows[-1].id) if more else None
    return render_template("accounts/contacts.html", form=form, groups=groups, rows=rows, older=older), 200


def _contact_page(contact_id: int, status: int = 200, tags_form: TagsForm | None = None) -> tuple[str, int]:
    contact = visible_contact(actor(), contact_id)
    set_current_page(url_for("contacts.show", contact_id=contact.id))
    page = render_template(
        "accounts/contact.html",
        contact=contact,
        account=contact.account,
        history=contact_history(contact),
        tags_form=tags_form or TagsForm(formdata=None, data={"tags": contact.tags}),
        tags_hint=TAGS_HINT,
    )
    return page, status


@bp.get("/contacts/<int:contact_id>")
@login_required
def show(contact_id: int) -> tuple[str, int]:
    """One person: how to reach them, their groups, notes, and every change to them (who, what, when)."""
    return _contact_page(contact_id)


@bp.post("/contacts/<int:contact_id>/tags")
@login_required
def set_contact_tags(contact_id: int) -> Response | tuple[str, int]:
    """Put the person in exactly the groups typed: new names become new tags, names left out are removed."""
    user = actor()
    contact = visible_contact(user, contact_id)
    form = TagsForm()
    if not form.validate():
        return _contact_page(contact_id, 422, form)
    changed = set_tags(user, contact, form.tags.data or [])
    flash(_("Tags saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("contacts.show", contact_id=contact.id))
