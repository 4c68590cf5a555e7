"""Disagreements the brute force found between pipeline/reports and docs/reports.md, one minimal history each.

Each failed against the service when found and was fixed in the service (and the doc made explicit); they stay
as regression tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.deals import services
from pipeline.extensions import db
from pipeline.reports.funnel import funnel
from pipeline.reports.periods import Period
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


def test_velocity_uses_the_average_won_size_before_it_is_rounded(people: Any, make_account: Any) -> None:
    """Three ¥0.05, ¥0.25 and ¥0.01 deals won within an hour, five ¥1 deals open: 5 × 1 × (0.31 ÷ 3) ÷ (1/24) = 12.40.

    The doc defines velocity from "average won size = won amount ÷ won"; the service multiplies the average
    already rounded to the cent (¥0.10), and shows ¥12.00 a day. Small here; with a short cycle and many open
    deals the cents of the average are multiplied by open count × win rate ÷ cycle.
    """
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    for n, amount in enumerate(("0.05", "0.25", "0.01")):
        deal = services.create_deal(
            people.rep, make_account(people.rep, name=f"小客户{n}"), f"试用{n}", amount=amount, at=start
        )
        for k in range(1, 5):  # 考察, 报价, 成交, 跟进 a quarter of an hour apart, gates waived by the admin
            services.move(
                people.admin, deal, "advance", override=True, reason="试点", at=start + timedelta(minutes=15 * k)
            )
    for n in range(5):
        services.create_deal(
            people.rep, make_account(people.rep, name=f"新客户{n}"), f"新项目{n}", amount="1.00", at=start
        )
    db.session.commit()
    week, now = Period(date(2026, 3, 2), date(2026, 3, 8)), datetime(2026, 3, 4, 3, 0, tzinfo=UTC)

    expected = bf.funnel(bf.load(db.session, ZONE), bf.Who(), bf.Span(week.first, week.last, ZONE), now)
    assert expected.velocity == Decimal("12.40")
    got = funnel(ReportScope(), week, now=now)
    assert (got.open_count, got.outcomes.won, got.outcomes.lost) == (5, 3, 0)
    assert got.velocity == Decimal("12.40")


def test_a_repricing_at_the_moment_of_a_move_is_undone_in_the_stage_it_was_made_in(
    people: Any, make_account: Any
) -> None:
    """Priced ¥100, then at 11:00 re-priced to ¥5,000 and advanced to 考察 at the same moment (a back-dated entry).

    A second before, the doc's pipeline has the deal in 确认 at ¥100 (the old value of the first amount change
    after T). Since 6e63302 the service shows 确认 1 deal ¥5,000 and 考察 0 deals ¥−4,900: the repricing is undone
    in 考察 although the deal was in 确认 when it was made. With a second between the two, both agree.
    """
    created, repriced = datetime(2026, 3, 2, 2, 0, tzinfo=UTC), datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    deal = services.create_deal(people.rep, make_account(people.rep), "网络改造", amount="100.00", at=created)
    services.update_deal(people.rep, deal, {"amount": "5000.00"}, None, at=repriced)
    services.move(people.lead, deal, "advance", override=True, reason="客户已确认预算", at=repriced)
    db.session.commit()
    before = repriced - timedelta(seconds=1)

    expected = bf.pipeline_at(bf.load(db.session, ZONE), bf.Who(), before)
    assert [(s, t.count, t.amount) for s, t in expected.items() if t.count] == [("qualify", 1, Decimal("100.00"))]
    got = pipeline_at(ReportScope(), before)
    assert [(s, t.count, t.amount) for s, t in got.items() if t.count or t.amount] == [
        ("qualify", 1, Decimal("100.00"))
    ]
