"""The filter bar every report page shares: a GET form, so its fields land in the URL (no CSRF needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField

from pipeline.auth.models import Role, Team, User
from pipeline.core.forms import BaseForm
from pipeline.deals.forms import any_strategy_choices
from pipeline.extensions import db
from pipeline.reports.filters import CUSTOM, TODAY, WEEK, ReportFilters

PERIOD_LABELS = {
    "this_week": _l("This week"),
    "last_week": _l("Last week"),
    "this_month": _l("This month"),
    "this_quarter": _l("This quarter"),
    "last_90_days": _l("Last 90 days"),
    "last_12_months": _l("Last 12 months"),
    CUSTOM: _l("Custom dates"),
}


def period_choices() -> list[SelectChoice]:
    """The period presets, and custom dates, in the page's language."""
    return [SelectChoice(key, str(label)) for key, label in PERIOD_LABELS.items()]


class ReportFilterForm(BaseForm):
    """Period (or week), team, rep and strategy; `filters.read_filters` reads and checks what it sends."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), choices=period_choices, default="this_month")
    from_ = DateField(_l("From"), name="from")
    to = DateField(_l("To"))
    week = StringField(_l("Week"))
    compare = StringField(_l("Compared with"))
    team = SelectField(_l("Team"), default="")  # choices: admins any team; leads and reps have no choice
    rep = SelectField(_l("Rep"), default="")  # choices: the people within the user's reach
    strategy = SelectField(_l("Strategy"), choices=any_strategy_choices, default="")
    sort = HiddenField(_l("Sort"))


def team_choices(user: User) -> list[SelectChoice]:
    """Every team, for an admin; a lead's reports are their team's and a rep's their own, so they choose none."""
    if user.role != Role.ADMIN:
        return []
    teams = db.session.execute(select(Team.id, Team.name).order_by(Team.name))
    return [SelectChoice("", str(_l("All teams"))), *(SelectChoice(str(i), name) for i, name in teams)]


def rep_choices(user: User) -> list[SelectChoice]:
    """The people whose figures the user may see on their own: everyone for an admin, a lead's team, none for a rep."""
    if user.role == Role.ADMIN:
        rows = db.session.execute(
            select(User.id, User.name, Team.name).outerjoin(Team, Team.id == User.team_id).order_by(User.name, User.id)
        )
        people = [SelectChoice(str(i), f"{name} ({team})" if team else name) for i, name, team in rows]
        return [SelectChoice("", str(_l("All reps"))), *people]
    if user.role == Role.LEAD and user.team_id is not None:
        rows = db.session.execute(
            select(User.id, User.name).where(User.team_id == user.team_id).order_by(User.name, User.id)
        )
        return [SelectChoice("", str(_l("Whole team"))), *(SelectChoice(str(i), name) for i, name in rows)]
    return []


def filter_form(
    user: User,
    filters: ReportFilters | None = None,
    *,
    sent: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> ReportFilterForm:
    """The filter bar showing what the report was drawn for, or, when it could not be, what was sent and why not."""
    if filters is None:
        form = ReportFilterForm(formdata=MultiDict(sent or {}))
        for field in form:
            if field.name in (errors or {}):
                field.errors = [str((errors or {})[field.name])]
    else:
        form = ReportFilterForm(formdata=None, data=_shown(filters))
    form.team.choices = team_choices(user)
    form.rep.choices = rep_choices(user)
    return form


def _shown(filters: ReportFilters) -> dict[str, Any]:
    """The form's fields for a report that was drawn: a preset shows the dates it stands for."""
    period = filters.period
    shown: dict[str, Any] = {
        "team": str(filters.team_id or ""),
        "rep": str(filters.rep_id or ""),
        "strategy": filters.strategy or "",
        "sort": filters.sort or "",
    }
    if filters.period_name == TODAY:
        return shown
    if filters.period_name == WEEK:
        compare = filters.compare or period.previous_week()
        return {**shown, "week": period.week_label(), "compare": compare.week_label()}
    return {**shown, "period": filters.period_name, "from_": period.first, "to": period.last}
