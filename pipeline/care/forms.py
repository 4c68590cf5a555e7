"""Forms of the care pages: the due list's filter, a quick touch, the greeting, the cadence settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from pipeline.accounts.forms import any_kind_choices
from pipeline.accounts.models import Tag
from pipeline.accounts.scales import CALL_RESULTS, RELATIONSHIP_KEYS, RELATIONSHIP_LEVELS, VALUE_TIERS
from pipeline.activities.models import ACTIVITY_KIND_BY_KEY, TOUCH_KINDS
from pipeline.care.cadence import MAX_DAYS, MAX_PERCENT, MIN_PERCENT, TIER_KEYS, Intervals
from pipeline.care.greetings import MAX_GREETING, RecipientFilter
from pipeline.care.holidays import HOLIDAYS
from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code
from pipeline.extensions import db


class DueFilterForm(BaseForm):
    """Whose due accounts and which page, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    owner = SelectField(_l("Rep"), default="")  # choices: whoever owns an account the reader sees
    page = IntegerField(_l("Page"), default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])


def touch_kind_choices() -> list[SelectChoice]:
    locale = locale_code()
    return [SelectChoice(k, ACTIVITY_KIND_BY_KEY[k].label(locale)) for k in TOUCH_KINDS]


def call_result_choices() -> list[SelectChoice]:
    locale = locale_code()
    return [SelectChoice("", str(_l("— not a call —"))), *(SelectChoice(c.key, c.label(locale)) for c in CALL_RESULTS)]


class TouchForm(BaseForm):
    """Log a revisit from the due list in one click: a call that was answered, unless told otherwise."""

    kind = SelectField(_l("Kind"), choices=touch_kind_choices, default="call")
    call_result = SelectField(_l("Call result"), choices=call_result_choices, default="answered")
    summary = StringField(_l("Summary"), validators=[Length(max=4000)])


def level_choices(blank: str) -> list[SelectChoice]:
    locale = locale_code()
    return [SelectChoice("", blank), *(SelectChoice(c.key, c.label(locale)) for c in RELATIONSHIP_LEVELS)]


def tag_choices() -> list[SelectChoice]:
    """Every tag or group (重要客户, 集团客户 …), for choosing whom to greet."""
    tags = db.session.execute(select(Tag.id, Tag.name).order_by(Tag.name))
    return [SelectChoice("", str(_l("Any tag or group"))), *(SelectChoice(str(i), name) for i, name in tags)]


def holiday_choices() -> list[SelectChoice]:
    locale = locale_code()
    return [SelectChoice(c.key, c.label(locale)) for c in HOLIDAYS]


class GreetingForm(BaseForm):
    """Which holiday, whom to greet (tag or group, account kind, relationship level) and what to say."""

    holiday = SelectField(_l("Holiday"), choices=holiday_choices)
    tag_id = SelectField(_l("Tag or group"), choices=tag_choices, default="")
    kind = SelectField(_l("Account kind"), choices=any_kind_choices, default="")
    relationship_level = SelectField(
        _l("Relationship level"), choices=lambda: level_choices(str(_l("Any level"))), default=""
    )
    greeting = TextAreaField(
        _l("Greeting"),
        validators=[InputRequired(message=_l("Write the greeting.")), Length(max=MAX_GREETING)],
        description=_l("{name} becomes each contact's name."),
    )
    subject = StringField(_l("Mail subject"), validators=[Length(max=200)])

    def wanted(self) -> RecipientFilter:
        """The chosen recipients as the greeting services take them."""
        return RecipientFilter(
            tag_id=int(self.tag_id.data) if self.tag_id.data else None,
            kind=self.kind.data or None,
            relationship_level=self.relationship_level.data or None,
        )


class CadenceForm(BaseForm):
    """Days between touches per relationship level, and each value tier's share of them (admins only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locale = locale_code()
        for level in RELATIONSHIP_LEVELS:
            self[f"days_{level.key}"].label.text = str(_l("%(level)s: days", level=level.label(locale)))
        for tier in VALUE_TIERS:
            self[f"percent_{tier.key}"].label.text = str(_l("%(tier)s: percent", tier=tier.label(locale)))

    def intervals(self) -> tuple[dict[str, int], dict[str, int]]:
        """The typed days per level and percent per tier."""
        days = {level: self[f"days_{level}"].data for level in RELATIONSHIP_KEYS}
        percent = {tier: self[f"percent_{tier}"].data for tier in TIER_KEYS}
        return days, percent

    @classmethod
    def filled(cls, intervals: Intervals, **kwargs: Any) -> CadenceForm:
        """The form showing the cadence in force."""
        data = {f"days_{k}": v for k, v in intervals.level_days.items()}
        data |= {f"percent_{k}": v for k, v in intervals.tier_percent.items()}
        return cls(formdata=None, data=data, **kwargs)


for _choice in RELATIONSHIP_LEVELS:
    setattr(
        CadenceForm,
        f"days_{_choice.key}",
        IntegerField(
            _l("Days"),
            validators=[InputRequired(message=_l("Give a number of days.")), NumberRange(min=1, max=MAX_DAYS)],
        ),
    )
for _choice in VALUE_TIERS:
    setattr(
        CadenceForm,
        f"percent_{_choice.key}",
        IntegerField(
            _l("Percent"),
            validators=[
                InputRequired(message=_l("Give a percentage.")),
                NumberRange(min=MIN_PERCENT, max=MAX_PERCENT),
            ],
        ),
    )
