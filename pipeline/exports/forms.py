"""The export page's form: a GET form, so the download's choices land in its URL (no CSRF needed)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice, SelectField, StringField

from pipeline.auth.forms import LANGUAGES
from pipeline.auth.models import User
from pipeline.core.forms import BaseForm
from pipeline.deals.forms import any_strategy_choices
from pipeline.exports.arguments import ExportArgs
from pipeline.exports.services import CSV, XLSX
from pipeline.reports.forms import rep_choices, team_choices


def format_choices() -> list[SelectChoice]:
    """The two formats, saying what each holds."""
    return [
        SelectChoice(XLSX, str(_l("Excel workbook (.xlsx): summary, deals, changes, stalled"))),
        SelectChoice(CSV, str(_l("CSV (.csv): the deals only"))),
    ]


class ExportForm(BaseForm):
    """Week, team, rep and strategy as the weekly report reads them, then the file's format and language."""

    class Meta:
        csrf = False

    week = StringField(_l("Week"))
    team = SelectField(_l("Team"), default="")  # choices: admins any team; leads and reps have no choice
    rep = SelectField(_l("Rep"), default="")  # choices: the people within the user's reach
    strategy = SelectField(_l("Strategy"), choices=any_strategy_choices, default="")
    format = SelectField(_l("Format"), choices=format_choices, default=XLSX)
    lang = SelectField(_l("Language of the file"), choices=list(LANGUAGES))


def export_form(
    user: User,
    wanted: ExportArgs | None = None,
    *,
    sent: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    lang: str = "zh",
) -> ExportForm:
    """The form showing what would be downloaded, or, when the arguments could not be read, what was sent and why."""
    if wanted is None:
        formdata = MultiDict(sent or {})
        formdata.setdefault("lang", lang)  # the page's language, unless the file's was chosen
        form = ExportForm(formdata=formdata)
        for field in form:
            if field.name in (errors or {}):
                field.errors = [str((errors or {})[field.name])]
    else:
        filters = wanted.filters
        shown = {
            "week": wanted.week.week_label(),
            "team": str(filters.team_id or ""),
            "rep": str(filters.rep_id or ""),
            "strategy": filters.strategy or "",
            "format": wanted.format,
            "lang": wanted.lang,
        }
        form = ExportForm(formdata=None, data=shown)
    form.team.choices = team_choices(user)
    form.rep.choices = rep_choices(user)
    return form
