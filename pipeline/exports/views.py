"""The weekly export on the web: a page to choose the week and whose deals, the download, who exported what."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from pipeline.core.pages import actor, locale_code, today
from pipeline.exports.arguments import ExportArgs, read_export_args
from pipeline.exports.forms import ExportForm, export_form
from pipeline.exports.history import recent_exports
from pipeline.exports.responses import send_download
from pipeline.exports.services import download as export_download
from pipeline.reports.filters import BadFilter

bp = Blueprint("exports", __name__, url_prefix="/exports")

VIA_LABELS = {"web": _l("Web"), "api": _l("API"), "cli": _l("Command line")}


def _read() -> tuple[ExportArgs | None, ExportForm]:
    """The choices in the URL and the form showing them; None and the form with its errors when unreadable."""
    user = actor()
    try:
        wanted = read_export_args(request.args, user, today(), locale_code())
    except BadFilter as exc:
        return None, export_form(user, sent=request.args, errors=exc.fields, lang=locale_code())
    return wanted, export_form(user, wanted)


def _page(form: ExportForm, status: int = 200) -> tuple[str, int]:
    exports = recent_exports(actor())
    return render_template("exports/weekly.html", form=form, exports=exports, via_labels=VIA_LABELS), status


@bp.get("/weekly")
@login_required
def weekly() -> tuple[str, int]:
    """Choose a week and whose deals, and see who exported what lately."""
    wanted, form = _read()
    return _page(form, 200 if wanted is not None else 400)


@bp.get("/weekly/download")
@login_required
def download() -> Response | tuple[str, int]:
    """The export as a file; arguments that cannot be read bring back the form saying which (400)."""
    wanted, form = _read()
    if wanted is None:
        return _page(form, 400)
    made = export_download(wanted.scope, wanted.week, wanted.format, wanted.lang, user=actor(), via="web")
    return send_download(made)
