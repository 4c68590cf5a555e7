"""Forms for the account pages: the list's filters, an account, a contact and a quick note."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

from pipeline.accounts.services import EMAIL
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code
from pipeline.deals.method import ACCOUNT_KIND_CHOICES


def kind_choices() -> list[SelectChoice]:
    """B2B and B2C, labelled in the page's language."""
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in ACCOUNT_KIND_CHOICES]


def any_kind_choices() -> list[SelectChoice]:
    """Every kind (and "any"), for filtering."""
    return [SelectChoice("", str(_l("Any kind"))), *kind_choices()]


class AccountFilterForm(BaseForm):
    """The list's search and filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search name, industry or region"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=any_kind_choices, default="")
    owner = SelectField(_l("Owner"), default="")  # choices: whoever owns an account the reader sees
    region = SelectField(_l("Region"), default="", validate_choice=False)  # a bookmarked value may have gone
    industry = SelectField(_l("Industry"), default="", validate_choice=False)
    before = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1)])


class AccountForm(BaseForm):
    """An account's fields; create and edit share them."""

    name = StringField(_l("Name"), validators=[DataRequired(message=_l("A name is required.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=kind_choices, default="b2b")
    industry = StringField(_l("Industry"), validators=[Length(max=100)])
    region = StringField(_l("Region"), validators=[Length(max=100)])
    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])  # choices: the people the user may assign to

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the account services take."""
        return {
            "name": self.name.data or "",
            "kind": self.kind.data,
            "industry": self.industry.data or "",
            "region": self.region.data or "",
            "owner_id": self.owner_id.data,
        }


class ContactForm(BaseForm):
    """A person at an account and how to reach them."""

    name = StringField(_l("Name"), validators=[DataRequired(message=_l("A name is required.")), Length(max=100)])
    title = StringField(_l("Job title"), validators=[Length(max=100)])
    mobile = StringField(_l("Mobile"), validators=[Length(max=40)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    email = StringField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(EMAIL, message=_l("An e-mail address such as name@example.com.")),
        ],
    )
    birthday = DateField(_l("Birthday"), validators=[Optional()])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=4000)])

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the contact services take."""
        text = ("name", "title", "mobile", "phone", "email", "address", "notes")
        return {name: self[name].data or "" for name in text} | {"birthday": self.birthday.data}


class NoteForm(BaseForm):
    """A quick note on an account."""

    note = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Write the note first.")), Length(max=4000)])
