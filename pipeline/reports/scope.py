"""Whose deals a report counts, and who may ask for which: a rep their own, a lead their team, an admin any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from pipeline.auth.models import Role, Team, User
from pipeline.auth.scope import out_of_reach
from pipeline.auth.teams import team_member_ids
from pipeline.core.errors import NotFound
from pipeline.core.models import is_id
from pipeline.deals.method import STRATEGY_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db


@dataclass(frozen=True)
class ReportScope:
    """The deals a report counts: a team's, one rep's, or the company's, optionally one strategy's."""

    team_id: int | None = None
    owner_id: int | None = None
    strategy: str | None = None

    @property
    def whole_company(self) -> bool:
        return self.team_id is None and self.owner_id is None and self.strategy is None

    def deals(self, owner_column: Any = Deal.owner_id, strategy_column: Any = Deal.strategy) -> ColumnElement[bool]:
        """A WHERE clause over the deals table (or a copy of its owner and strategy columns) for this scope."""
        conditions: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            conditions.append(owner_column == self.owner_id)
        if self.team_id is not None:
            conditions.append(owner_column.in_(team_member_ids(self.team_id)))
        if self.strategy is not None:
            conditions.append(strategy_column == self.strategy)
        return and_(*conditions) if conditions else true()


def scope_for(
    user: User, team_id: int | None = None, owner_id: int | None = None, strategy: str | None = None
) -> ReportScope:
    """The scope `user` asked for, if they may see it; NotFound (as for a missing record) when they may not."""
    if strategy is not None and strategy not in STRATEGY_KEYS:
        raise NotFound(f"strategy {strategy!r} not found")
    if team_id is not None and (not is_id(team_id) or db.session.get(Team, team_id) is None):
        raise NotFound(f"team {team_id} not found")
    owner = db.session.get(User, owner_id) if owner_id is not None and is_id(owner_id) else None
    if owner_id is not None and owner is None:
        raise NotFound(f"user {owner_id} not found")
    if user.role == Role.ADMIN:
        if owner is not None and team_id is not None and owner.team_id != team_id:
            raise NotFound(f"user {owner_id} not found in team {team_id}")
        return ReportScope(team_id, owner_id, strategy)
    if user.role == Role.LEAD and user.team_id is not None:
        if team_id not in (None, user.team_id):
            raise out_of_reach("team", team_id, "no such team or rep in your reach")
        if owner is not None and owner.team_id != user.team_id:
            raise out_of_reach("rep", owner_id, "no such team or rep in your reach")
        return ReportScope(None if owner_id else user.team_id, owner_id, strategy)
    if team_id is not None:
        raise out_of_reach("team", team_id, "no such team or rep in your reach")
    if owner_id not in (None, user.id):
        raise out_of_reach("rep", owner_id, "no such team or rep in your reach")
    return ReportScope(None, user.id, strategy)
