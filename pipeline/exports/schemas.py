"""Export API schemas: the download's query arguments (the weekly report's, plus format and language)."""

from __future__ import annotations

from marshmallow import Schema

from pipeline.core.schemas import Text
from pipeline.deals.method import STRATEGY_KEYS
from pipeline.exports.services import FORMATS, XLSX


class ExportQuery(Schema):
    week = Text(metadata={"description": "an ISO week such as 2026-W47 (default: the last full week)"})
    team = Text(metadata={"description": "a team's id (admins; a lead's export is their team's already)"})
    rep = Text(metadata={"description": "a rep's id: within your team for a lead; a rep exports only their own"})
    strategy = Text(metadata={"description": "only deals whose current strategy is this: " + " | ".join(STRATEGY_KEYS)})
    format = Text(
        metadata={
            "description": f"{' | '.join(FORMATS)} (default {XLSX}): the workbook, or its 商机 (Deals) sheet as CSV"
        }
    )
    lang = Text(metadata={"description": "zh | en: sheet names and headers (default: your language)"})


BINARY = {"type": "string", "format": "binary"}
ATTACHMENT = {
    "Content-Disposition": {
        "description": "attachment; the file's name says the week and whose deals: pipeline-2026-W47-华东.xlsx",
        "schema": {"type": "string"},
    }
}
