"""The 潜力客户工作表 (domain.md §3): seven yes/no criteria per account, and up to five candidates side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pipeline.accounts.models import Account, Qualification
from pipeline.accounts.scales import MAX_COMPARED, QUALIFICATION_KEYS
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, visible_account
from pipeline.core.changelog import log_change
from pipeline.core.errors import InvalidInput
from pipeline.deals.method import Choice
from pipeline.extensions import db

NOTE_MAX = 2000

# What a yes (1 point) and a no (0) mean for each criterion, as the deck words them (好/差, 高/低 …).
MEANINGS: dict[str, tuple[Choice, Choice]] = {
    "growth": (Choice("yes", "好", "good"), Choice("no", "差", "poor")),
    "business_plan": (Choice("yes", "高", "high"), Choice("no", "低", "low")),
    "funding": (Choice("yes", "高", "high"), Choice("no", "低", "low")),
    "opportunities": (Choice("yes", "多", "many"), Choice("no", "少", "few")),
    "solution_fit": (Choice("yes", "好", "good"), Choice("no", "差", "poor")),
    "our_competitiveness": (Choice("yes", "强", "strong"), Choice("no", "弱", "weak")),
    "relationship": (Choice("yes", "强", "strong"), Choice("no", "弱", "weak")),
}
assert tuple(MEANINGS) == QUALIFICATION_KEYS


def answers(qualification: Qualification | None) -> dict[str, bool]:
    """Each criterion's answer; an account never assessed answers no to all."""
    return {key: bool(qualification and getattr(qualification, key)) for key in QUALIFICATION_KEYS}


def set_qualification(actor: User, account: Account, values: dict[str, Any]) -> bool:
    """Save the worksheet's answers (and note), logging each criterion that changed on the account."""
    errors = {k: "unknown field" for k in set(values) - {*QUALIFICATION_KEYS, "note"}}
    errors |= {k: "true or false" for k in QUALIFICATION_KEYS if k in values and not isinstance(values[k], bool)}
    if len(str(values.get("note") or "")) > NOTE_MAX:
        errors["note"] = f"at most {NOTE_MAX} characters"
    if errors:
        raise InvalidInput(errors)
    sheet = account.qualification
    if sheet is None:
        sheet = Qualification(account_id=account.id, note="", **dict.fromkeys(QUALIFICATION_KEYS, False))
        db.session.add(sheet)
        account.qualification = sheet
    changed = False
    for key in QUALIFICATION_KEYS:
        if key in values and bool(getattr(sheet, key)) != values[key]:
            log_change("account", account.id, f"qualification.{key}", getattr(sheet, key), values[key], actor.id)
            setattr(sheet, key, values[key])
            changed = True
    if "note" in values and (values["note"] or "").strip() != (sheet.note or ""):
        log_change("account", account.id, "qualification.note", sheet.note, (values["note"] or "").strip(), actor.id)
        sheet.note = (values["note"] or "").strip()
        changed = True
    if changed:
        sheet.updated_by_id = actor.id
    db.session.flush()
    return changed


@dataclass(frozen=True)
class Candidate:
    """One column of the comparison: the account, its answers and its score out of seven."""

    account: Account
    answers: dict[str, bool]
    score: int
    assessed: bool


def compare(user: User, account_ids: list[int]) -> list[Candidate]:
    """Up to five accounts `user` may see, in the order chosen; one out of reach answers 404 like a missing one."""
    unique = list(dict.fromkeys(account_ids))
    if len(unique) > MAX_COMPARED:
        raise InvalidInput({"accounts": f"at most {MAX_COMPARED} accounts side by side"})
    accounts = [visible_account(user, i) for i in unique]
    sheets = {
        q.account_id: q for q in db.session.scalars(select(Qualification).where(Qualification.account_id.in_(unique)))
    }
    return [
        Candidate(a, answers(sheets.get(a.id)), sum(answers(sheets.get(a.id)).values()), a.id in sheets)
        for a in accounts
    ]


def comparable_accounts(user: User) -> list[tuple[int, str, int | None]]:
    """The accounts `user` may pick from: (id, name, score or None), the assessed ones first, best first."""
    rows = db.session.execute(
        select(Account.id, Account.name, Qualification)
        .outerjoin(Qualification, Qualification.account_id == Account.id)
        .where(accounts_visible_to(user))
        .order_by(Qualification.account_id.is_(None), Account.name, Account.id)
    )
    found = [(i, name, q.score if q is not None else None) for i, name, q in rows]
    return sorted(found, key=lambda r: (r[2] is None, -(r[2] or 0), r[1]))
