"""What a download asks for (week, team, rep, strategy, format, language), read in one place for the page and API.

Whose deals and which week are read by the reports' own filter reader, so a link from the weekly report asks
for exactly the deals the report showed, and a team or rep out of the user's reach is 404 here as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from pipeline.auth.models import User
from pipeline.core.errors import NotFound
from pipeline.exports.services import FORMATS, XLSX
from pipeline.reports.filters import WEEK, BadFilter, ReportFilters, read_filters
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope

EXPORT_FILTERS = ("week", "team", "rep", "strategy")  # what the export takes of the weekly report's filters


@dataclass(frozen=True)
class ExportArgs:
    """A download's choices: the weekly report's filters, the file's format and the language of its sheets."""

    filters: ReportFilters
    format: str
    lang: str

    @property
    def scope(self) -> ReportScope:
        return self.filters.scope

    @property
    def week(self) -> Period:
        return self.filters.period


def read_export_args(args: Mapping[str, str], user: User, today: date, default_lang: str) -> ExportArgs:
    """Read a download's arguments; BadFilter names every argument at fault (400) before NotFound (404) is said.

    `compare` and the reports' other arguments are not the export's: they are left unread, so a link that
    carries them still works. The week defaults to the last full week, the language to `default_lang`.
    """
    errors: dict[str, str] = {}
    fmt = (args.get("format") or "").strip() or XLSX
    if fmt not in FORMATS:
        errors["format"] = _("Choose xlsx or csv.")
    locales = current_app.config["PIPELINE_LOCALES"]
    lang = (args.get("lang") or "").strip() or default_lang
    if lang not in locales:
        errors["lang"] = _("Choose the language of the file: %(choices)s.", choices=", ".join(locales))
    wanted = {name: args[name] for name in EXPORT_FILTERS if args.get(name) is not None}
    try:
        filters = read_filters(wanted, user, today, when=WEEK)
    except BadFilter as exc:
        raise BadFilter({**exc.fields, **errors}) from None
    except NotFound:
        if errors:  # a wrong field is said first, as the reports do, whoever's deals were asked for
            raise BadFilter(errors) from None
        raise
    if errors:
        raise BadFilter(errors)
    return ExportArgs(filters, fmt, lang)
