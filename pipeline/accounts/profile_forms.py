"""Forms on the account page beyond its fields: tags, the lost mark, the qualification worksheet, the comparison."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from pipeline.accounts.churn import CHURN_NOTE_MAX
from pipeline.accounts.forms import TagList
from pipeline.accounts.qualification import NOTE_MAX
from pipeline.accounts.scales import CHURN_REASONS, QUALIFICATION_KEYS
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code


class PrefixedForm(BaseForm):
    """A form that shares a page with others: its fields' names and ids carry the form's prefix, so none clash."""

    PREFIX = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)


class TagsForm(PrefixedForm):
    """An account's or a contact's tags, as one comma-separated line: add a name to add it, delete it to remove it."""

    PREFIX = "tagging"

    tags = TagList(_l("Tags and groups"))


def churn_reason_choices() -> list[SelectChoice]:
    """Why customers leave (流失原因), in the page's language."""
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in CHURN_REASONS]


class ChurnForm(PrefixedForm):
    """Mark the customer lost (流失): why, since when, and what happened."""

    PREFIX = "churn"

    reason = SelectField(_l("Why they left"), choices=churn_reason_choices)
    churned_on = DateField(_l("Lost on"), validators=[DataRequired(message=_l("Give the date the customer left."))])
    note = TextAreaField(_l("What happened"), validators=[Optional(), Length(max=CHURN_NOTE_MAX)])


class QualificationForm(PrefixedForm):
    """The seven yes/no criteria of the 潜力客户工作表; each field is named after its criterion's key."""

    PREFIX = "worksheet"

    note = TextAreaField(_l("Note on the assessment"), validators=[Optional(), Length(max=NOTE_MAX)])

    def answers(self) -> dict[str, Any]:
        """The ticked criteria and the note, as the worksheet service takes them."""
        return {key: bool(self[key].data) for key in QUALIFICATION_KEYS} | {"note": self.note.data or ""}


for _key in QUALIFICATION_KEYS:  # labels come from scales.py at render time; the field only needs its name
    setattr(QualificationForm, _key, BooleanField(_key))


class CompareForm(BaseForm):
    """Which candidate accounts to put side by side (read from the query string: a GET form, no CSRF token)."""

    class Meta:
        csrf = False

    account = SelectMultipleField(_l("Accounts to compare"), coerce=int, validate_choice=False)


class GroupForm(BaseForm):
    """Which group's contacts to list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    tag = StringField(_l("Group (tag)"), validators=[Optional(), Length(max=100)])
    before = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1)])
