"""The demo shows customer care: relationship levels, birthdays coming up, calls with results at telling hours."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.care.birthdays import upcoming_birthdays
from pipeline.care.calls import contact_call_times
from pipeline.demo.generate import DemoScale, generate
from pipeline.extensions import db

SMALL = DemoScale(teams=2, reps=4, accounts=30, deals=80)
ANCHOR = datetime(2026, 12, 20, 16, 0, tzinfo=UTC)  # 21 December local: the birthday window crosses the year end


def test_the_demo_has_levels_birthdays_and_call_results(app: Flask) -> None:
    result = generate(SMALL, seed=5, anchor=ANCHOR)
    db.session.commit()
    levels = Counter(db.session.scalars(select(Account.relationship_level)))
    assert len(levels) >= 3, levels
    calls = db.session.execute(select(Activity.call_result, Activity.occurred_at).where(Activity.kind == "call")).all()
    assert calls and all(r is not None for r, _at in calls)
    assert {r for r, _at in calls} >= {"answered", "no_answer"}
    assert all(at.replace(tzinfo=UTC) < ANCHOR for _r, at in calls)  # still logged once they happened
    contact_ids = list(db.session.scalars(select(Contact.id)))
    assert any(t.best is not None for t in contact_call_times(contact_ids).values())
    assert upcoming_birthdays(result.admin, ANCHOR.date()), "no birthday in the demo's next two weeks"
