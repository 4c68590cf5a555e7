"""Forms for the account pages: the list's filters, an account, a contact and a quick note."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

from pipeline.accounts.profile import NO_PURCHASE
from pipeline.accounts.scales import FREQUENCY_CLASSES, RELATIONSHIP_LEVELS
from pipeline.accounts.services import EMAIL, NOTES_MAX
from pipeline.accounts.tags import TAG_MAX, split_tags, too_long
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


def relationship_choices() -> list[SelectChoice]:
    """The five relationship levels (关系水平), least involved first, in the page's language."""
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in RELATIONSHIP_LEVELS]


def frequency_choices() -> list[SelectChoice]:
    """Any frequency, each class of seed 003, or no purchase in the last twelve months."""
    locale = locale_code()
    return [
        SelectChoice("", str(_l("Any purchase frequency"))),
        *(SelectChoice(c.key, c.label(locale)) for c in FREQUENCY_CLASSES),
        SelectChoice(NO_PURCHASE, str(_l("No purchase in 12 months"))),
    ]


def status_choices() -> list[SelectChoice]:
    """Every customer, the current ones, or the ones marked lost (流失客户)."""
    return [
        SelectChoice("", str(_l("Current and lost"))),
        SelectChoice("active", str(_l("Current customers"))),
        SelectChoice("churned", str(_l("Lost customers"))),
    ]


class TagList(StringField):
    """Tags typed as one line, separated by commas; the data is the cleaned list of names."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return ", ".join(self.data or [])

    def process_data(self, value: object) -> None:
        """Start from a record's tags (Tag objects) or a list of names."""
        self.data = [getattr(t, "name", t) for t in value] if isinstance(value, list | tuple) else []

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = split_tags(valuelist[0]) if valuelist else []
        long_one = too_long(self.data)
        if long_one:
            message = _l("Each tag is at most %(max)d characters; shorten “%(name)s”.", max=TAG_MAX, name=long_one)
            raise ValueError(message)


TAGS_HINT = _l("Separate tags with commas, e.g. 重要客户, 集团客户, 朋友. A new name makes a new tag.")


class AccountFilterForm(BaseForm):
    """The list's search and filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search name, industry or region"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=any_kind_choices, default="")
    tag = SelectField(_l("Tag or group"), default="", validate_choice=False)  # choices: the tags in use
    frequency = SelectField(_l("Purchase frequency"), choices=frequency_choices, default="")
    status = SelectField(_l("Customer status"), choices=status_choices, default="")
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
    relationship_level = SelectField(_l("Relationship level"), choices=relationship_choices, default="basic")
    tags = TagList(_l("Tags and groups"))
    notes = TextAreaField(_l("Notes (Markdown)"), validators=[Length(max=NOTES_MAX)])

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the account services take (the tags go separately)."""
        return {
            "name": self.name.data or "",
            "kind": self.kind.data,
            "industry": self.industry.data or "",
            "region": self.region.data or "",
            "owner_id": self.owner_id.data,
            "relationship_level": self.relationship_level.data,
            "notes": self.notes.data or "",
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
    tags = TagList(_l("Tags and groups"))
    notes = TextAreaField(_l("Notes (Markdown)"), validators=[Length(max=4000)])

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the contact services take (the tags go separately)."""
        text = ("name", "title", "mobile", "phone", "email", "address", "notes")
        return {name: self[name].data or "" for name in text} | {"birthday": self.birthday.data}


class NoteForm(BaseForm):
    """A quick note on an account."""

    note = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Write the note first.")), Length(max=4000)])
