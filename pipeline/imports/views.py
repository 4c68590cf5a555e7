"""The contact import on the web: upload a file, see what it would do (and change the columns), then confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField

from pipeline.core.errors import DomainError, InvalidInput
from pipeline.core.forms import BaseForm
from pipeline.core.pages import actor
from pipeline.imports import uploads
from pipeline.imports.contacts import CREATE, MERGE, SKIP, ContactPlan, plan_file
from pipeline.imports.contacts_write import write_contacts
from pipeline.imports.encoding import UnreadableFile
from pipeline.imports.forms import ConfirmForm, UploadForm
from pipeline.imports.rows import CONTACT_FIELDS, FIELD_LABELS

bp = Blueprint("imports", __name__, url_prefix="/imports")
BAD_ROWS_SHOWN = 500  # every bad row up to this many; beyond it the page says how many more


def mapping_form(headers: list[str], mapping: dict[str, int]) -> BaseForm:
    """One drop-down per field, listing the file's columns (a GET form: choosing columns changes nothing)."""

    class MappingForm(BaseForm):
        class Meta:
            csrf = False

    choices = [SelectChoice("", _("— not imported —"))]
    choices += [SelectChoice(str(i), h or _("column %(n)s", n=i + 1)) for i, h in enumerate(headers)]
    for field in CONTACT_FIELDS:
        setattr(MappingForm, f"col_{field}", SelectField(FIELD_LABELS[field], choices=choices))
    data = {f"col_{field}": str(mapping[field]) if field in mapping else "" for field in CONTACT_FIELDS}
    return MappingForm(formdata=None, data=data)


def columns_from_args(args: Any) -> dict[str, int] | None:
    """The columns chosen on the preview (col_<field>=index), or None to recognise them from the headers."""
    if not any(key.startswith("col_") for key in args):
        return None
    chosen: dict[str, int] = {}
    for field in CONTACT_FIELDS:
        value = str(args.get(f"col_{field}", "")).strip()
        if value:
            if not value.isdigit():
                raise InvalidInput({field: "no such column"})
            chosen[field] = int(value)
    return chosen


def columns_text(mapping: dict[str, int]) -> str:
    """The mapping as the confirmation carries it: name=0,mobile=3."""
    return ",".join(f"{field}={i}" for field, i in mapping.items())


def columns_from_text(text: str) -> dict[str, int]:
    """Read back columns_text; anything else is refused naming the field."""
    chosen: dict[str, int] = {}
    for pair in filter(None, text.split(",")):
        field, _sep, index = pair.partition("=")
        if not index.isdigit():
            raise InvalidInput({"columns": f"{pair!r} is not field=column"})
        chosen[field] = int(index)
    return chosen


def describe_fills(fills: tuple[str, ...]) -> str:
    """What a merge fills in, in words: 职位, 邮箱, tag 朋友."""
    named = [_("tag %(name)s", name=f[4:]) if f.startswith("tag:") else str(FIELD_LABELS.get(f, f)) for f in fills]
    return ", ".join(named) or "—"


def _upload_page(form: UploadForm, status: int = 200, problem: str = "") -> tuple[str, int]:
    return render_template("imports/contacts.html", form=form, problem=problem), status


@bp.get("/contacts")
@login_required
def contacts() -> tuple[str, int]:
    """Choose a file of contacts to import."""
    return _upload_page(UploadForm())


@bp.post("/contacts")
@login_required
def upload() -> Response | tuple[str, int]:
    """Keep the file under a new token and show what importing it would do (too large a file: 413)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422)
    storage = form.file.data
    filename = Path(storage.filename or "upload").name
    if Path(filename).suffix.lower() not in uploads.SUFFIXES:
        form.file.errors = [_("A CSV, Excel (.xlsx) or vCard (.vcf) file, please.")]
        return _upload_page(form, 422)
    kept = uploads.keep(actor(), storage.stream, filename)
    return redirect(url_for(".preview", upload=kept.token, encoding=form.encoding.data or None))


def _preview_page(
    upload: uploads.Upload, plan: ContactPlan, encoding: str, status: int = 200, problem: str = ""
) -> tuple[str, int]:
    confirm = ConfirmForm(
        formdata=None, data={"upload": upload.token, "encoding": encoding, "columns": columns_text(plan.mapping)}
    )
    return render_template(
        "imports/preview.html",
        upload=upload,
        plan=plan,
        encoding=encoding,
        mapping=mapping_form(plan.headers, plan.mapping),
        fields=CONTACT_FIELDS,
        labels=FIELD_LABELS,
        confirm=confirm,
        actions=(CREATE, MERGE, SKIP),
        bad_rows=plan.bad_rows[:BAD_ROWS_SHOWN],
        more_bad=max(len(plan.bad_rows) - BAD_ROWS_SHOWN, 0),
        problem=problem,
        describe_fills=describe_fills,
    ), status


@bp.get("/contacts/preview")
@login_required
def preview() -> Response | tuple[str, int]:
    """What the import would do: counts, the columns (changeable), the first rows, every bad row."""
    token = request.args.get("upload", "")
    if not token:  # nothing uploaded yet: the upload form
        return _upload_page(UploadForm())
    upload = uploads.kept(actor(), token)
    encoding = request.args.get("encoding", "")
    try:
        columns = columns_from_args(request.args)
        plan = plan_file(upload.path, actor(), filename=upload.filename, encoding=encoding or None, columns=columns)
    except (UnreadableFile, InvalidInput) as exc:
        return _upload_page(UploadForm(), 422, exc.message)
    with plan:
        return _preview_page(upload, plan, encoding)


@bp.post("/contacts/confirm")
@login_required
def confirm() -> Response | tuple[str, int]:
    """Import the previewed file with the columns shown: every row, or none when any row is bad."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for(".contacts"))
    user = actor()
    upload = uploads.kept(user, form.upload.data or "")
    try:
        columns = columns_from_text(form.columns.data or "")
        plan = plan_file(
            upload.path, user, filename=upload.filename, encoding=form.encoding.data or None, columns=columns
        )
    except (UnreadableFile, InvalidInput) as exc:
        return _upload_page(UploadForm(), 422, exc.message)
    with plan:
        try:
            done = write_contacts(plan, via="web", actor=user, filename=upload.filename)
        except DomainError as exc:
            return _preview_page(upload, plan, form.encoding.data or "", 422, exc.message)
    uploads.discard(upload.token)
    flash(
        _(
            "Imported %(file)s: %(created)s created, %(merged)s merged, %(skipped)s skipped.",
            file=upload.filename,
            created=done.created,
            merged=done.merged,
            skipped=done.skipped,
        ),
        "success",
    )
    return redirect(url_for("accounts.index"))
