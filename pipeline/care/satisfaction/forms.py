"""Forms for satisfaction: a customer's answers after a purchase or a follow-up, and the trend page's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from pipeline.accounts.scales import RATER_DIMENSIONS
from pipeline.care.satisfaction.services import BUCKETS, HIGHEST, LOWEST, MONTH
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code

OCCASION_LABELS = {"won": _l("After the purchase"), "follow_up": _l("Follow-up"), "other": _l("Other")}
BUCKET_LABELS = {"month": _l("Per month"), "quarter": _l("Per quarter")}
SCORE_MESSAGE = _l("A whole score from 1 to 5.")


def occasion_choices() -> list[SelectChoice]:
    return [SelectChoice(key, str(label)) for key, label in OCCASION_LABELS.items()]


def bucket_choices() -> list[SelectChoice]:
    return [SelectChoice(key, str(BUCKET_LABELS[key])) for key in BUCKETS]


def _score(label: object, *, required: bool) -> IntegerField:
    first = InputRequired(message=SCORE_MESSAGE) if required else Optional()
    return IntegerField(label, validators=[first, NumberRange(min=LOWEST, max=HIGHEST, message=SCORE_MESSAGE)])


class SurveyForm(BaseForm):
    """Satisfaction 1–5, and the five RATER dimensions 1–5 (each may be left blank)."""

    occasion = SelectField(_l("Occasion"), choices=occasion_choices, default="won")
    answered_on = DateField(
        _l("Answered on"), validators=[InputRequired(message=_l("Enter the date the customer answered."))]
    )
    deal_id = SelectField(_l("Deal"), choices=[], default="")
    contact_id = SelectField(_l("Contact"), choices=[], default="")
    satisfaction = _score(_l("Satisfaction"), required=True)
    reliability = _score(_l("Reliability"), required=False)
    assurance = _score(_l("Assurance"), required=False)
    tangibles = _score(_l("Tangibles"), required=False)
    empathy = _score(_l("Empathy"), required=False)
    responsiveness = _score(_l("Responsiveness"), required=False)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])

    def rater_fields(self) -> list[IntegerField]:
        """The RATER fields in the method's order, labelled in the page's language (信赖度 …)."""
        locale = locale_code()
        found = []
        for choice in RATER_DIMENSIONS:
            f = self._fields[choice.key]
            f.label.text = choice.label(locale)
            found.append(f)
        return found


class TrendForm(BaseForm):
    """Whose trend: per month or quarter, and one account (any the user may see) if wanted."""

    class Meta:
        csrf = False

    by = SelectField(_l("Group by"), choices=bucket_choices, default=MONTH)
    account = SelectField(_l("Account"), choices=[], default="", validators=[Optional()])
