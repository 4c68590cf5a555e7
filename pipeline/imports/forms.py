"""The import pages' forms: the upload, and the confirmation carrying the columns the preview showed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField

from pipeline.core.forms import BaseForm

ENCODINGS = (("", _l("Detect")), ("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK"), ("utf-16", "UTF-16"))


def encoding_choices() -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in ENCODINGS]


class UploadForm(BaseForm):
    """A contacts file from a phone, Excel or another CRM."""

    file = FileField(
        _l("File (CSV, Excel .xlsx or vCard .vcf)"), validators=[FileRequired(message=_l("Choose a file."))]
    )
    encoding = SelectField(_l("Text encoding"), choices=encoding_choices, default="")


class ConfirmForm(BaseForm):
    """The upload to import and the columns as the preview showed them (field=column index, comma-separated)."""

    upload = HiddenField()
    encoding = HiddenField()
    columns = HiddenField()
