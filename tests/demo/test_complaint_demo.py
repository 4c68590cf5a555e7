"""The demo's complaints and satisfaction: handled through the real steps, in several states, times in order."""

from __future__ import annotations

from collections import Counter

from flask import Flask
from sqlalchemy import select

from pipeline.care.complaints import workflow as wf
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.deals.models import Deal
from pipeline.demo.generate import generate
from pipeline.extensions import db
from tests.demo.test_generate import ANCHOR, SMALL


def test_complaints_in_several_states_with_ordered_times_and_surveys_after_wins(app: Flask) -> None:
    result = generate(SMALL, seed=3, anchor=ANCHOR)
    db.session.commit()
    complaints = db.session.scalars(select(Complaint)).all()
    assert len(complaints) == result.counts["complaints"] >= 4
    assert Counter(c.state for c in complaints)[wf.CLOSED] >= 1
    for c in complaints:
        moments = [c.received_at, c.understood_at, c.proposed_at, c.accepted_at, c.closed_at]
        known = [m for m in moments if m is not None]
        assert known == sorted(known) and max(known) <= ANCHOR
        assert c.deal.account_id == c.account_id
    surveys = db.session.scalars(select(SatisfactionSurvey)).all()
    assert len(surveys) == result.counts["satisfaction_surveys"] >= 1
    for s in surveys:
        deal = db.session.get(Deal, s.deal_id)
        assert deal is not None and deal.won_on is not None and s.answered_on >= deal.won_on
        assert 1 <= s.satisfaction <= 5
