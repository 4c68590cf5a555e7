"""JSON API v1 for the weekly export: the same file as the web download, for scripts (logged with via="api")."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import force_locale

from pipeline.auth.api import api_locale, api_user, token_blueprint
from pipeline.core.pages import today
from pipeline.core.schemas import ErrorSchema
from pipeline.exports import schemas
from pipeline.exports.arguments import read_export_args
from pipeline.exports.responses import send_download
from pipeline.exports.services import CSV, MEDIA_TYPES, XLSX, download

blp = token_blueprint(
    "exports_api",
    __name__,
    "/api/v1/exports",
    "The weekly export as a file: a rep's deals are their own, a lead's their team's or one of its reps', "
    "an admin's any; a team or rep out of reach answers 404. Every export is logged: who, when, what.",
)


@blp.route("/weekly")
@blp.arguments(schemas.ExportQuery, location="query")
@blp.response(
    200,
    schemas.BINARY,
    content_type=MEDIA_TYPES[XLSX],
    description="the workbook: 汇总, 商机, 本周变化, 停滞 (Summary, Deals, Changes this week, Stalled)",
    headers=schemas.ATTACHMENT,
)
@blp.alt_response(
    200,
    schema=schemas.BINARY,
    content_type=MEDIA_TYPES[CSV],
    description="with format=csv: the deals, UTF-8 with a BOM, CRLF line ends",
    headers=schemas.ATTACHMENT,
    success=True,
)
@blp.alt_response(400, schema=ErrorSchema, description="an argument cannot be read; `fields` names it")
@blp.alt_response(404, schema=ErrorSchema, description="the team or rep does not exist or is out of your reach")
def weekly(args: dict[str, Any]) -> Response:
    """The week's pipeline as a file: the figures, every deal on the board, the week's changes, the stalled deals."""
    user = api_user()
    with force_locale("en"):  # a bad argument is named in English, as every API error is
        wanted = read_export_args(args, user, today(), api_locale())
    return send_download(download(wanted.scope, wanted.week, wanted.format, wanted.lang, user=user, via="api"))
