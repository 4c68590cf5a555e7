"""Disagreements between pipeline/reports and the brute force's reading of docs/reports.md, one minimal history each.

Each test here FAILS against the service as merged (main at ef2bdeb) until the service or the doc is changed;
the hypothesis test accepts either reading so that it keeps guarding everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.deals import services
from pipeline.extensions import db
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipeline_at
from tests.reports import bruteforce as bf

ZONE = ZoneInfo("Asia/Shanghai")


def test_half_a_cent_of_weighted_amount_rounds_up(people: Any, make_account: Any, tick_stage: Any) -> None:
    """¥1,234.50 in 考察 weighs 25% × 1,234.50 = ¥308.625: ¥308.63 rounded half up as money is elsewhere.

    docs/reports.md says only "rounded to the cent once per stage"; Money (core/models.py) reads cents half up, and
    so do SQL ROUND and the usual 四舍五入. The service rounds half to even (Decimal's default) and shows ¥308.62.
    """
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    deal = services.create_deal(people.rep, make_account(people.rep), "门禁系统", amount="1234.50", at=at)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=at)
    db.session.commit()

    expected = bf.pipeline_at(bf.load(db.session, ZONE), bf.Who(), at)["evaluate"]
    assert (expected.count, expected.amount, expected.weighted) == (1, Decimal("1234.50"), Decimal("308.63"))
    evaluate = pipeline_at(ReportScope(), at)["evaluate"]
    assert (evaluate.count, evaluate.amount, evaluate.weighted) == (1, Decimal("1234.50"), Decimal("308.63"))
