"""Who exported what and when, as the export page lists it: read from the audit log, within the viewer's reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, pgettext
from sqlalchemy import ColumnElement, select, true

from pipeline.auth.models import Role, User
from pipeline.auth.teams import team_member_ids
from pipeline.core.audit import AuditEvent
from pipeline.exports.services import EXPORT_ACTION
from pipeline.extensions import db

RECENT = 20


@dataclass(frozen=True)
class ExportEntry:
    """One logged export: when, who (a user's name, or the command's operating-system account), and what."""

    at: datetime
    who: str
    via: str  # web, api or cli
    week: str
    whose: str
    format: str
    deal_rows: int | None  # the 商机 sheet's rows; None when the log does not say


def _visible(user: User) -> ColumnElement[bool]:
    """Whose exports a user may see: an admin everyone's (commands too), a lead their team's, a rep their own."""
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.LEAD and user.team_id is not None:
        return AuditEvent.user_id.in_(team_member_ids(user.team_id))
    return AuditEvent.user_id == user.id


def deal_sheet_names() -> frozenset[str]:
    """The 商机 sheet's name in every language a file may be in (the log counts rows by sheet name)."""
    names = set()
    for locale in current_app.config["PIPELINE_LOCALES"]:
        with force_locale(locale):
            names.add(pgettext("sheet", "Deals"))
    return frozenset(names)


def _deal_rows(rows: Any, names: frozenset[str]) -> int | None:
    if not isinstance(rows, Mapping):
        return None
    return next((n for sheet, n in rows.items() if sheet in names and isinstance(n, int)), None)


def recent_exports(user: User, limit: int = RECENT) -> list[ExportEntry]:
    """The latest weekly exports the user may see, newest first."""
    query = (
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.action == EXPORT_ACTION, _visible(user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    names = deal_sheet_names()
    entries = []
    for event, name in db.session.execute(query):
        details = event.details or {}
        entries.append(
            ExportEntry(
                at=event.at,
                who=name or event.actor,
                via=event.via,
                week=str(details.get("week") or ""),
                whose=str(details.get("scope") or ""),
                format=str(details.get("format") or ""),
                deal_rows=_deal_rows(details.get("rows"), names),
            )
        )
    return entries
