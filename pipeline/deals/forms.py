"""Forms for the deal pages: create, edit, tick a checklist item, and each move of the workflow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    Field,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from pipeline.accounts.models import Contact
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code
from pipeline.deals.method import (
    ALL_STATES,
    ATTITUDES,
    INFLUENCE_LEVELS,
    INFLUENCE_ROLES,
    RELATIONSHIP_DEPTHS,
    STRATEGIES,
    Choice,
)
from pipeline.deals.models import LostReason

MAX_AMOUNT = Decimal("1e14")  # what the amount column holds, in yuan


def strategy_choices() -> list[SelectChoice]:
    """The five strategies (and "not chosen yet") labelled in the page's language."""
    locale = locale_code()
    return [
        SelectChoice("", str(_l("— not chosen yet —"))),
        *(SelectChoice(s.key, s.label(locale)) for s in STRATEGIES),
    ]


def stage_choices() -> list[SelectChoice]:
    """Every stage and end state (and "all") labelled in the page's language."""
    locale = locale_code()
    return [
        SelectChoice("", str(_l("All stages"))),
        *(SelectChoice(s.key, s.label(locale)) for s in ALL_STATES.values()),
    ]


def lost_reason_choices(reasons: list[LostReason]) -> list[SelectChoice]:
    """The lost-reason list labelled in the page's language."""
    locale = locale_code()
    return [SelectChoice(r.key, r.label(locale)) for r in reasons]


class DealFieldsForm(BaseForm):
    """The fields a person edits on a deal; create and edit share them."""

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("A title is required.")), Length(max=200)])
    amount = DecimalField(
        _l("Amount"),
        places=2,
        validators=[Optional(), NumberRange(min=0, message=_l("The amount must be zero or more."))],
    )
    currency = StringField(
        _l("Currency"),
        default="CNY",
        validators=[
            DataRequired(message=_l("A currency is required.")),
            Regexp(r"^[A-Za-z]{3}$", message=_l("A three-letter currency code such as CNY.")),
        ],
    )
    expected_close_date = DateField(_l("Expected close date"), validators=[Optional()])
    strategy = SelectField(_l("Strategy"), choices=strategy_choices, default="")
    strategy_rationale = TextAreaField(_l("Why this strategy"), validators=[Length(max=4000)])
    competitors = StringField(_l("Competitors"), validators=[Length(max=1000)])
    next_step = StringField(_l("Next step"), validators=[Length(max=1000)])
    next_step_due = DateField(_l("Next step due"), validators=[Optional()])
    product_line = StringField(_l("Product line"), validators=[Length(max=100)])
    channel = StringField(_l("Sales channel"), validators=[Length(max=100)])
    gross_profit = DecimalField(_l("Gross profit"), places=2, validators=[Optional()])

    def validate_gross_profit(self, field: Field) -> None:
        """Kept in whole cents like the amount; left empty when the margin is not known."""
        if field.data is None:
            return
        if field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("At most two decimal places."))
        if abs(field.data) >= MAX_AMOUNT:
            raise ValidationError(_l("The gross profit is too large."))

    def validate_amount(self, field: Field) -> None:
        """Money is kept in whole cents, below the column's limit."""
        if field.data is None:
            return
        if field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("At most two decimal places."))
        if field.data >= MAX_AMOUNT:
            raise ValidationError(_l("The amount is too large."))

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form the deal services take."""
        return {
            "title": self.title.data,
            "amount": self.amount.data if self.amount.data is not None else Decimal("0.00"),
            "currency": (self.currency.data or "").upper(),
            "expected_close_date": self.expected_close_date.data,
            "strategy": self.strategy.data or None,
            "strategy_rationale": self.strategy_rationale.data or "",
            "competitors": self.competitors.data or "",
            "next_step": self.next_step.data or "",
            "next_step_due": self.next_step_due.data,
            "product_line": self.product_line.data or "",
            "channel": self.channel.data or "",
            "gross_profit": self.gross_profit.data,
        }


class NewDealForm(DealFieldsForm):
    """A new deal for one of the accounts the user can see (choices filled in by the view)."""

    account_id = SelectField(
        _l("Account"), coerce=int, choices=[], validators=[InputRequired(message=_l("Choose an account."))]
    )


class VersionedForm(BaseForm):
    """Carries the version of the deal the page showed, so a change made meanwhile is refused, not overwritten."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class EditDealForm(VersionedForm, DealFieldsForm):
    """Edit a deal's fields (never its stage: that changes only through a move)."""


class ChecklistForm(BaseForm):
    """Tick ("1") or untick ("0") one item; explicit rather than a toggle, so a double click does no harm."""

    done = HiddenField(validators=[AnyOf(["0", "1"])])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class AdvanceForm(VersionedForm):
    """Advance or complete; a lead or admin may override a failed gate, but only with a reason."""

    override = BooleanField(_l("Override the missing work"))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=4000)])

    def validate_reason(self, field: Field) -> None:
        """An override always says why."""
        if self.override.data and not field.data:
            raise ValidationError(_l("A reason is required to override."))


class ReasonedMoveForm(VersionedForm):
    """Revert or reopen: a reason is required."""

    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("A reason is required.")), Length(max=4000)]
    )


class LoseForm(VersionedForm):
    """Mark a deal lost with a reason from the list and an optional note."""

    lost_reason = SelectField(
        _l("Lost reason"), choices=[], validators=[DataRequired(message=_l("Choose a lost reason."))]
    )
    reason = TextAreaField(_l("Note"), validators=[Length(max=4000)])


class DealFilterForm(BaseForm):
    """The list's filters, read from the query string (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    stage = SelectField(_l("Stage"), choices=stage_choices, default="")
    mine = BooleanField(_l("Only my deals"))
    before = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1)])


def any_strategy_choices() -> list[SelectChoice]:
    """The five strategies (and "any") labelled in the page's language, for filtering."""
    locale = locale_code()
    return [SelectChoice("", str(_l("Any strategy"))), *(SelectChoice(s.key, s.label(locale)) for s in STRATEGIES)]


class BoardFilterForm(BaseForm):
    """The board's filters, read from the query string so a filtered board can be bookmarked and shared."""

    class Meta:
        csrf = False

    mine = BooleanField(_l("Only my deals"))
    strategy = SelectField(_l("Strategy"), choices=any_strategy_choices, default="")
    owner = SelectField(_l("Owner"), default="")  # choices: the people whose deals the user sees
    min_amount = DecimalField(_l("Amount from"), places=2, validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)])
    max_amount = DecimalField(_l("Amount to"), places=2, validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)])
    q = StringField(_l("Search title or account"), validators=[Optional(), Length(max=100)])

    def validate_max_amount(self, field: Field) -> None:
        if field.data is not None and self.min_amount.data is not None and field.data < self.min_amount.data:
            raise ValidationError(_l("Must not be below the lower bound."))


# ---- Buying influences (客户参与者) ------------------------------------------------------------------------------


def scale_choices(scale: tuple[Choice, ...]) -> list[SelectChoice]:
    """A scale from method.py (roles, attitudes, levels, depths) labelled in the page's language."""
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in scale]


def contact_choices(contacts: list[Contact]) -> list[SelectChoice]:
    """The account's people (and "a new contact"), each with their title so namesakes can be told apart."""
    return [
        SelectChoice("", str(_l("— a new contact (enter the name below) —"))),
        *(SelectChoice(str(c.id), f"{c.name} · {c.title}" if c.title else c.name) for c in contacts),
    ]


class InfluenceFieldsForm(BaseForm):
    """How one person stands in the decision; add and change share these."""

    role = SelectField(_l("Role in the decision"), choices=lambda: scale_choices(INFLUENCE_ROLES))
    attitude = SelectField(_l("Attitude"), choices=lambda: scale_choices(ATTITUDES), default="neutral")
    influence = SelectField(_l("Influence"), choices=lambda: scale_choices(INFLUENCE_LEVELS), default="medium")
    depth = SelectField(
        _l("Relationship depth"), choices=lambda: scale_choices(RELATIONSHIP_DEPTHS), coerce=int, default=1
    )
    note = StringField(_l("Note"), validators=[Length(max=2000)])

    def values(self) -> dict[str, Any]:
        """The submitted values in the form the influence services take."""
        return {
            "role": self.role.data,
            "attitude": self.attitude.data,
            "influence": self.influence.data,
            "depth": self.depth.data,
            "note": self.note.data or "",
        }


class AddInfluenceForm(InfluenceFieldsForm):
    """Name a person on the deal: a contact of the account (choices set by the view) or a new one."""

    contact_id = SelectField(_l("Contact"), choices=[], default="")
    name = StringField(_l("New contact's name"), validators=[Length(max=100)])
    title = StringField(_l("New contact's title"), validators=[Length(max=100)])

    def validate_name(self, field: Field) -> None:
        """One person at a time: an existing contact or a new name, never both, never neither."""
        if self.contact_id.data and field.data:
            raise ValidationError(_l("Choose a contact or enter a new one, not both."))
        if not self.contact_id.data and not field.data:
            raise ValidationError(_l("Enter the new contact's name, or choose a contact of the account."))


class ChangeInfluenceForm(InfluenceFieldsForm):
    """Change how a person on the deal stands."""


class RemoveInfluenceForm(BaseForm):
    """Take a person off the deal (the form carries only the CSRF token)."""
