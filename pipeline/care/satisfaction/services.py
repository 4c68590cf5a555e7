"""Satisfaction after every purchase (seed 003): record the customer's answers, and follow them over time.

Each survey holds satisfaction 1–5 and the five RATER dimensions 1–5 (信赖度 Reliability, 保证度 Assurance,
可见度 Tangibles, 关怀度 Empathy, 反应度 Responsiveness; a dimension the customer did not answer stays blank).
Trends are averages per month or quarter, each with the number of answers it is made of, computed from sums
and counts in SQL so a quarter is the exact average of its three months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.scales import RATER_KEYS
from pipeline.auth.models import User
from pipeline.auth.scope import sees, surveys_visible_to, visible_deal
from pipeline.care.models import OCCASIONS, SatisfactionSurvey
from pipeline.core.audit import record
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.core.models import is_id
from pipeline.deals.method import WON_STATES
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from pipeline.reports.sql import year_month

SCORES: tuple[str, ...] = ("satisfaction", *RATER_KEYS)  # every 1–5 answer of a survey
LOWEST, HIGHEST = 1, 5
MONTH, QUARTER = "month", "quarter"
BUCKETS = (MONTH, QUARTER)
MAX_COMMENT = 4000


def _score(value: Any, name: str, errors: dict[str, str], *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            errors[name] = f"{name}: a score from {LOWEST} to {HIGHEST} is required"
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not LOWEST <= value <= HIGHEST:
        errors[name] = f"{name}: a whole score from {LOWEST} to {HIGHEST}, not {value!r}"
        return None
    return value


def record_survey(
    actor: User,
    account: Account,
    *,
    answered_on: date,
    today: date,
    satisfaction: Any,
    occasion: str = "won",
    deal_id: Any = None,
    contact_id: Any = None,
    comment: Any = "",
    via: str = "web",
    **rater: Any,
) -> SatisfactionSurvey:
    """Keep one customer's answers; every wrong field is named at once, a future date among them."""
    if not sees(actor, account.owner_id):
        raise NotFound(f"account {account.id} not found")
    errors: dict[str, str] = {}
    unknown = set(rater) - set(RATER_KEYS)
    for name in sorted(unknown):
        errors[name] = "unknown field"
    scores = {"satisfaction": _score(satisfaction, "satisfaction", errors, required=True)}
    scores.update({key: _score(rater.get(key), key, errors, required=False) for key in RATER_KEYS})
    if occasion not in OCCASIONS:
        errors["occasion"] = f"one of {', '.join(OCCASIONS)}"
    if not isinstance(answered_on, date):
        errors["answered_on"] = "a date (YYYY-MM-DD)"
    elif answered_on > today:
        errors["answered_on"] = "the customer cannot have answered in the future"
    text = "" if comment is None else str(comment).strip()
    if len(text) > MAX_COMMENT:
        errors["comment"] = f"at most {MAX_COMMENT} characters"
    deal = None
    if deal_id not in (None, ""):
        try:
            deal = visible_deal(actor, deal_id) if is_id(deal_id) else None
        except NotFound:
            deal = None
        if deal is None or deal.account_id != account.id:
            errors["deal_id"] = f"no deal {deal_id} of this account that you can see"
            deal = None
    contact = db.session.get(Contact, contact_id) if is_id(contact_id) else None
    if contact_id not in (None, "") and (contact is None or contact.account_id != account.id):
        errors["contact_id"] = f"no contact {contact_id} at this account"
    if errors:
        raise InvalidInput(errors)
    survey = SatisfactionSurvey(
        account_id=account.id,
        deal_id=deal.id if deal else None,
        contact_id=contact.id if contact else None,
        user_id=actor.id,
        occasion=occasion,
        answered_on=answered_on,
        comment=text,
        **scores,
    )
    db.session.add(survey)
    db.session.flush()
    record("satisfaction.record", via=via, user=actor, survey_id=survey.id, account_id=account.id)
    return survey


def surveys_query(user: User, *, account_id: int | None = None, deal_id: int | None = None) -> Select[Any]:
    """The surveys `user` may see, newest answer first."""
    query = (
        select(SatisfactionSurvey)
        .where(surveys_visible_to(user))
        .order_by(SatisfactionSurvey.answered_on.desc(), SatisfactionSurvey.id.desc())
    )
    if account_id is not None:
        query = query.where(SatisfactionSurvey.account_id == account_id)
    if deal_id is not None:
        query = query.where(SatisfactionSurvey.deal_id == deal_id)
    return query


def surveys_of(user: User, *, account: Account | None = None, deal: Deal | None = None) -> list[SatisfactionSurvey]:
    """An account's or a deal's surveys the user may see, newest first."""
    query = surveys_query(
        user, account_id=account.id if account is not None else None, deal_id=deal.id if deal is not None else None
    )
    return list(db.session.scalars(query))


def needs_survey(deal: Deal) -> bool:
    """A won deal nobody has asked about yet: the method says to measure satisfaction after every purchase."""
    if deal.won_on is None or deal.stage not in WON_STATES:
        return False
    asked = db.session.scalar(
        select(SatisfactionSurvey.id).where(SatisfactionSurvey.deal_id == deal.id, SatisfactionSurvey.occasion == "won")
    )
    return asked is None


# ---- Trends -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Average:
    """The average of some answers (two decimals), and how many answers it is made of."""

    count: int = 0
    total: int = 0

    @property
    def mean(self) -> Decimal | None:
        if not self.count:
            return None
        return (Decimal(self.total) / Decimal(self.count)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def __add__(self, other: Average) -> Average:
        return Average(self.count + other.count, self.total + other.total)


@dataclass
class TrendRow:
    """One month or quarter (or one rep): the number of surveys and the average of each score."""

    label: str
    surveys: int = 0
    scores: dict[str, Average] = field(default_factory=lambda: {k: Average() for k in SCORES})

    def add(self, surveys: int, scores: dict[str, Average]) -> None:
        self.surveys += surveys
        for key, value in scores.items():
            self.scores[key] = self.scores[key] + value


def _scoped(scope: ReportScope, account_id: int | None) -> ColumnElement[bool]:
    """Surveys asked by the reps in the scope (for one account, when one is asked for)."""
    if scope.strategy is not None:
        raise ValueError("satisfaction is not reported by strategy")
    condition = scope.deals(owner_column=SatisfactionSurvey.user_id) if not scope.whole_company else true()
    if account_id is not None:
        condition = condition & (SatisfactionSurvey.account_id == account_id)
    return condition


def _sums(group: Any, scope: ReportScope, period: Period, account_id: int | None) -> list[Any]:
    s = SatisfactionSurvey
    aggregates = [func.count()]
    for key in SCORES:
        column = getattr(s, key)
        aggregates += [func.count(column), func.coalesce(func.sum(column), 0)]
    return list(
        db.session.execute(
            select(group, *aggregates)
            .where(_scoped(scope, account_id), s.answered_on >= period.first, s.answered_on <= period.last)
            .group_by(group)
            .order_by(group)
        )
    )


def _unpack(row: Any) -> tuple[Any, int, dict[str, Average]]:
    key, surveys, *rest = row
    scores = {k: Average(int(rest[2 * i]), int(rest[2 * i + 1])) for i, k in enumerate(SCORES)}
    return key, int(surveys), scores


def quarter_of(month: str) -> str:
    """ "2026-05" → "2026-Q2"."""
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def trend(scope: ReportScope, period: Period, bucket: str = MONTH, account_id: int | None = None) -> list[TrendRow]:
    """Per month (or quarter) of the answer date: surveys and each score's average with its count, oldest first."""
    if bucket not in BUCKETS:
        raise ValueError(f"no bucket {bucket!r}")
    rows: dict[str, TrendRow] = {}
    for month, surveys, scores in map(
        _unpack, _sums(year_month(SatisfactionSurvey.answered_on), scope, period, account_id)
    ):
        label = quarter_of(month) if bucket == QUARTER else month
        rows.setdefault(label, TrendRow(label)).add(surveys, scores)
    return [rows[k] for k in sorted(rows)]


def by_rep(scope: ReportScope, period: Period, account_id: int | None = None) -> list[TrendRow]:
    """Per rep who asked: surveys and each score's average with its count, by name."""
    found = [_unpack(r) for r in _sums(SatisfactionSurvey.user_id, scope, period, account_id)]
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_([k for k, _, _ in found]))).all())
    rows = []
    for user_id, surveys, scores in found:
        row = TrendRow(names.get(user_id, str(user_id)))
        row.add(surveys, scores)
        rows.append(row)
    return sorted(rows, key=lambda r: r.label)


def total(rows: list[TrendRow], label: str = "") -> TrendRow:
    """All the rows together (exact: sums and counts, not an average of averages)."""
    out = TrendRow(label)
    for row in rows:
        out.add(row.surveys, row.scores)
    return out
