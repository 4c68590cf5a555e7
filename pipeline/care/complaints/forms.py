"""Forms for the complaint pages: take one down, take each step, give it to someone else, filter the list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from pipeline.accounts.scales import COMPLAINT_STATES
from pipeline.care.complaints import workflow as workflow
from pipeline.care.models import SEVERITIES
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code

SEVERITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}
STEP_LABELS = {
    workflow.UNDERSTAND: _l("Core issue understood"),
    workflow.PROPOSE: _l("Propose the solution"),
    workflow.ACCEPT: _l("Customer accepts"),
    workflow.REJECT: _l("Customer rejects the solution"),
    workflow.CLOSE: _l("Apologise and close"),
}
STEP_HINTS = {
    workflow.UNDERSTAND: _l("Listen calmly, then write down what the customer really objects to."),
    workflow.PROPOSE: _l("Ask sincere questions to pin the complaint down, then propose a sound solution."),
    workflow.ACCEPT: _l("The customer agrees to the solution on record."),
    workflow.REJECT: _l("The complaint goes back to its core issue; say why the solution was not accepted."),
    workflow.CLOSE: _l("Apologise sincerely, say the relationship matters, and note what was agreed."),
}


def severity_choices() -> list[SelectChoice]:
    return [SelectChoice(key, str(SEVERITY_LABELS[key])) for key in SEVERITIES]


def state_choices() -> list[SelectChoice]:
    """Every step of a complaint (and "all") in the page's language."""
    locale = locale_code()
    return [SelectChoice("", str(_l("All states"))), *(SelectChoice(c.key, c.label(locale)) for c in COMPLAINT_STATES)]


class NewComplaintForm(BaseForm):
    """受理: what the customer complained about, for which account, deal and person, and when."""

    title = StringField(
        _l("Complaint"), validators=[DataRequired(message=_l("Say what the complaint is about.")), Length(max=200)]
    )
    description = TextAreaField(_l("What the customer said"), validators=[Optional(), Length(max=4000)])
    severity = SelectField(_l("Severity"), choices=severity_choices, default="normal")
    deal_id = SelectField(_l("Deal"), choices=[], default="")
    contact_id = SelectField(_l("Contact"), choices=[], default="")
    owner_id = SelectField(_l("Owner"), choices=[], default="")
    received_at = DateTimeLocalField(_l("Received at"), validators=[Optional()])


class VersionedForm(BaseForm):
    """Carries the version of the complaint the page showed, so a change made meanwhile is refused."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class UnderstandForm(VersionedForm):
    core_issue = TextAreaField(_l("Core issue"), validators=[Length(max=4000)])


class ProposeForm(VersionedForm):
    solution = TextAreaField(_l("Solution"), validators=[Length(max=4000)])


class AcceptForm(VersionedForm):
    """Nothing to type: the customer agreed to the solution shown."""


class RejectForm(VersionedForm):
    reason = TextAreaField(
        _l("Why the customer rejected it"),
        validators=[DataRequired(message=_l("Say why the customer rejected the solution.")), Length(max=4000)],
    )


class CloseForm(VersionedForm):
    closing_note = TextAreaField(_l("Apology and what was agreed"), validators=[Length(max=4000)])


STEP_FORMS: dict[str, type[VersionedForm]] = {
    workflow.UNDERSTAND: UnderstandForm,
    workflow.PROPOSE: ProposeForm,
    workflow.ACCEPT: AcceptForm,
    workflow.REJECT: RejectForm,
    workflow.CLOSE: CloseForm,
}


class ReassignForm(VersionedForm):
    """A lead gives the complaint to someone in the team."""

    owner_id = SelectField(_l("Owner"), choices=[], validators=[DataRequired(message=_l("Choose who handles it."))])


class ComplaintFilterForm(BaseForm):
    """The list's filters, in the URL."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=state_choices, default="", validators=[Optional()])
    owner = SelectField(_l("Owner"), choices=[], default="", validators=[Optional()])
    account = SelectField(_l("Account"), choices=[], default="", validators=[Optional()])
