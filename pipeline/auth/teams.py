"""A team's members as a list of ids, read once per request: a lead's scope as `owner_id IN (…)` literals.

`owner_id IN (SELECT id FROM users WHERE team_id = …)` hides from PostgreSQL's planner which owners it will
meet, so at a million deals it scans every open deal for a lead's board; with the ids themselves it reads the
team's rows from the (owner_id, stage, …) index (bench/README.md, "Query plans").
"""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import select

from pipeline.auth.models import User
from pipeline.extensions import db


def team_member_ids(team_id: int) -> list[int]:
    """The ids of the team's users (active or not: their records stay the team's), cached for the request."""
    cache: dict[int, list[int]] | None = g.setdefault("team_member_ids", {}) if has_app_context() else None
    if cache is not None and team_id in cache:
        return cache[team_id]
    ids = list(db.session.scalars(select(User.id).where(User.team_id == team_id).order_by(User.id)))
    if cache is not None:
        cache[team_id] = ids
    return ids
