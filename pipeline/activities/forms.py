"""The form that logs a touch on the deal page: kind, when, with whom, what was said and what came of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, Field, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from pipeline.accounts.models import Contact
from pipeline.accounts.scales import CALL_RESULTS
from pipeline.activities.models import ACTIVITY_KIND_CHOICES
from pipeline.activities.services import IN_THE_FUTURE, TOO_EARLY, when_problem
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code, today
from pipeline.core.timeutil import team_zone

MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def kind_choices() -> list[SelectChoice]:
    """The activity kinds labelled in the page's language."""
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in ACTIVITY_KIND_CHOICES]


def call_result_choices() -> list[SelectChoice]:
    """How a call went (答/未接/占线/拒接), in the page's language; blank for anything but a call."""
    locale = locale_code()
    return [SelectChoice("", str(_l("— not a call —"))), *(SelectChoice(c.key, c.label(locale)) for c in CALL_RESULTS)]


def contact_choices(contacts: list[Contact]) -> list[SelectChoice]:
    """The deal's account's contacts (and "nobody in particular")."""
    return [
        SelectChoice("", str(_l("— none —"))),
        *(SelectChoice(str(c.id), f"{c.name} · {c.title}" if c.title else c.name) for c in contacts),
    ]


class ActivityForm(BaseForm):
    """One touch; its moment is read in the team's time zone and may not be after today."""

    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[InputRequired(message=_l("Choose a kind."))])
    occurred_at = DateTimeLocalField(
        _l("When"), format=MINUTE, validators=[InputRequired(message=_l("Say when it happened."))]
    )
    contact_id = SelectField(_l("Contact"), choices=[], default="")
    call_result = SelectField(_l("Call result"), choices=call_result_choices, default="")
    summary = TextAreaField(
        _l("Summary"), validators=[DataRequired(message=_l("Say what happened.")), Length(max=4000)]
    )
    outcome = TextAreaField(_l("Outcome"), validators=[Length(max=4000)])

    def __init__(self, *args: Any, contacts: list[Contact] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact_id.choices = contact_choices(contacts or [])

    def moment(self) -> datetime | None:
        """The typed date and time as an aware moment in the team's time zone."""
        value = self.occurred_at.data
        return value.replace(tzinfo=team_zone()) if value is not None else None

    def validate_occurred_at(self, field: Field) -> None:
        """Log what happened, not what is planned: the same rule the service applies, in the page's words."""
        moment = self.moment()
        if moment is None:
            return
        problem = when_problem(moment, today())
        if problem == IN_THE_FUTURE:
            raise ValidationError(_l("The date cannot be after today."))
        if problem == TOO_EARLY:
            raise ValidationError(_l("The date is too far in the past."))

    def validate_call_result(self, field: Field) -> None:
        """A result belongs to a call only: the best hour to call is learnt from these."""
        if field.data and self.kind.data != "call":
            raise ValidationError(_l("Only a call has a result."))

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the activity service takes."""
        return {
            "kind": self.kind.data or "",
            "summary": self.summary.data or "",
            "outcome": self.outcome.data or "",
            "contact_id": int(self.contact_id.data) if self.contact_id.data else None,
            "occurred_at": self.moment(),
            "call_result": self.call_result.data or None,
        }


def blank_form(contacts: list[Contact]) -> ActivityForm:
    """An empty form whose "when" is now, to the minute, in the team's time zone."""
    now = datetime.now(team_zone()).replace(second=0, microsecond=0, tzinfo=None)
    return ActivityForm(formdata=None, prefix="activity", contacts=contacts, kind="call", occurred_at=now)
