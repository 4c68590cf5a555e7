"""The brute force itself, on small histories worked out by hand from docs/reports.md: a check on the checker."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.deals import services
from pipeline.extensions import db
from tests.reports import bruteforce as bf

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


def local(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZONE).astimezone(UTC)


def week(number: int) -> bf.Span:
    return bf.iso_week(2026, number, ZONE)


def test_nearest_rank_takes_the_ceiling_of_p_times_n_exactly() -> None:
    assert bf.nearest_rank([], Fraction(1, 2)) is None
    assert bf.nearest_rank(map(Fraction, [4, 1, 3, 2]), Fraction(1, 2)) == 2
    assert bf.nearest_rank(map(Fraction, [4, 1, 3, 2]), Fraction(9, 10)) == 4
    assert bf.nearest_rank(map(Fraction, range(1, 71)), Fraction(9, 10)) == 63  # 0.9 × 70 in floats is 63.000…01


def test_a_deal_lost_at_monday_midnight(people: Any, make_account: Any, tick_stage: Any) -> None:
    """Created Monday 00:00, advanced Wednesday noon, re-priced Friday, lost the next Monday 00:00 (local)."""
    created, advanced = local(date(2026, 1, 5)), local(date(2026, 1, 7), 12)
    repriced, lost = local(date(2026, 1, 9), 9), local(date(2026, 1, 12))
    assert lost == datetime(2026, 1, 11, 16, 0, tzinfo=UTC)  # Sunday 16:00 UTC
    deal = services.create_deal(people.rep, make_account(people.rep), "MES", amount="1000.00", at=created)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=advanced)
    services.update_deal(people.rep, deal, {"amount": "3000.00"}, None, at=repriced)
    services.move(people.rep, deal, "lose", lost_reason="price", at=lost)
    db.session.commit()
    world = bf.load(db.session, ZONE)
    everyone = bf.Who()

    def evaluate_at(moment: datetime) -> tuple[int, Decimal, Decimal]:
        t = bf.pipeline_at(world, everyone, moment)["evaluate"]
        return t.count, t.amount, t.weighted

    assert bf.pipeline_at(world, everyone, created - timedelta(seconds=1))["qualify"].count == 0
    assert bf.pipeline_at(world, everyone, created)["qualify"].count == 1  # created at or before T
    assert evaluate_at(local(date(2026, 1, 8))) == (1, Decimal("1000.00"), Decimal("250.00"))  # the old amount
    assert evaluate_at(lost - timedelta(seconds=1)) == (1, Decimal("3000.00"), Decimal("750.00"))
    assert evaluate_at(lost) == (0, Decimal("0"), Decimal("0"))  # the row at exactly T counts

    # Lost on Monday 12 January local, so in W03, not W02, although it is still Sunday in UTC.
    assert bf.outcomes(world, everyone, week(2)).lost == 0
    w3 = bf.outcomes(world, everyone, week(3))
    assert (w3.lost, w3.lost_amount, w3.win_rate, w3.avg_won, w3.cycle_days) == (1, Decimal("3000.00"), 0, None, None)
    assert bf.lost_by_reason(world, everyone, week(3)) == {("evaluate", "price"): (1, Decimal("3000.00"))}

    assert bf.stays(world, everyone, week(2), "qualify") == bf.Stays(1, Fraction(5, 2), Fraction(5, 2))
    assert bf.stays(world, everyone, week(2), "evaluate") == bf.Stays(0, None, None)
    assert bf.stays(world, everyone, week(3), "evaluate") == bf.Stays(1, Fraction(9, 2), Fraction(9, 2))

    steps = {s.stage: s for s in bf.conversion(world, everyone, week(2))}
    assert steps["qualify"] == bf.Step("qualify", 1, 1, 0, Fraction(1))
    assert steps["evaluate"] == bf.Step("evaluate", 1, 0, 1, Fraction(0))
    assert steps["propose"] == bf.Step("propose", 0, 0, 0, None)
    assert bf.conversion(world, everyone, week(3))[1].entered == 0  # entered 考察 in W02, not W03

    w2 = bf.week_over_week(world, everyone, week(2), None, NOW)
    w3v = bf.week_over_week(world, everyone, week(3), None, NOW)
    assert w2.counts["created"] == (1, 0) and w2.counts["advanced"] == (1, 0) and w2.counts["amount_changed"] == (1, 0)
    assert w3v.counts["lost"] == (1, 0) and w3v.counts["created"] == (0, 1)
    assert w3v.now["evaluate"].count == 0 and w3v.before["evaluate"].count == 0  # end of W02 is the moment it was lost
    assert w2.now["evaluate"].count == 0
    # W02 starts at the very moment the deal was created: "at or before T", so it is in the pipeline before W02
    # and among the deals created in W02 too.
    assert w2.before["qualify"].count == 1
    (row,) = w3v.rows["lost"]
    assert (row.from_value, row.to_value, row.user_name) == ("evaluate", "lost", people.rep.name)


def test_weighted_is_rounded_once_per_stage_total(people: Any, make_account: Any) -> None:
    for n in range(2):
        services.create_deal(people.rep, make_account(people.rep, name=f"客户{n}"), "小单", amount="0.05", at=NOW)
    db.session.commit()
    qualify = bf.pipeline_at(bf.load(db.session, ZONE), bf.Who(), NOW)["qualify"]
    # 0.10 × 10% = 0.01; rounding each 0.005 first would give 0.02 (half up) or 0.00 (half even).
    assert (qualify.count, qualify.amount, qualify.weighted) == (2, Decimal("0.10"), Decimal("0.01"))


def test_won_means_in_follow_up_now_and_the_cycle_ends_at_the_last_signing(
    people: Any, make_account: Any, tick_stage: Any, identify_influences: Any, ready_fields: dict[str, Any]
) -> None:
    start = local(date(2026, 2, 2), 10)
    deal = services.create_deal(people.rep, make_account(people.rep), "CRM", at=start, **ready_fields)
    for days in (1, 2, 3):  # to 考察, 报价, 成交
        tick_stage(people.rep, deal)
        services.move(people.rep, deal, "advance", at=start + timedelta(days=days))
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=start + timedelta(days=4))  # won on Friday 6 Feb
    services.move(people.rep, deal, "revert", reason="合同退回", at=start + timedelta(days=5))
    db.session.commit()
    world = bf.load(db.session, ZONE)
    assert bf.outcomes(world, bf.Who(), week(6)).won == 0  # moved back out of 跟进: not won

    services.move(people.rep, deal, "advance", at=start + timedelta(days=10))  # signed again, Thursday 12 Feb
    db.session.commit()
    world = bf.load(db.session, ZONE)
    assert bf.outcomes(world, bf.Who(), week(6)).won == 0
    w7 = bf.outcomes(world, bf.Who(), week(7))
    assert (w7.won, w7.won_amount, w7.win_rate, w7.avg_won, w7.cycle_days) == (
        1,
        Decimal("120000.00"),
        1,
        Fraction(120000),
        Fraction(10),
    )
    assert bf.velocity(0, w7) == 0
    assert bf.velocity(3, w7) == 36000  # 3 × 1 × 120000 ÷ 10
    moves = bf.happenings(world, bf.Who(), week(6))
    assert [len(moves[k]) for k in ("advanced", "won", "moved_back")] == [3, 1, 1]
    assert len(bf.happenings(world, bf.Who(), week(7))["won"]) == 1
    assert bf.stays(world, bf.Who(), week(6), "follow_up") == bf.Stays(1, Fraction(1), Fraction(1))


def test_only_a_later_close_date_is_a_slip(people: Any, make_account: Any) -> None:
    start = local(date(2026, 2, 9), 9)
    deal = services.create_deal(people.rep, make_account(people.rep), "ERP", at=start)
    for n, value in enumerate((date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 15), None, date(2026, 5, 1)), 1):
        services.update_deal(people.rep, deal, {"expected_close_date": value}, None, at=start + timedelta(hours=n))
    services.update_deal(people.rep, deal, {"strategy": "flanking"}, None, at=start + timedelta(hours=7))
    services.update_deal(people.rep, deal, {"strategy": None}, None, at=start + timedelta(hours=8))
    db.session.commit()
    found = bf.happenings(bf.load(db.session, ZONE), bf.Who(), week(7))
    assert [(h.from_value, h.to_value) for h in found["close_date_slipped"]] == [("2026-03-01", "2026-04-01")]
    assert [(h.from_value, h.to_value) for h in found["strategy_changed"]] == [(None, "flanking"), ("flanking", None)]
    assert found["amount_changed"] == []


def test_scope_follows_the_current_owner(people: Any, make_account: Any) -> None:
    deal = services.create_deal(people.rep, make_account(people.rep), "OA", amount="500.00", at=NOW)
    services.update_deal(people.admin, deal, {"owner_id": people.outsider.id}, None, at=NOW)
    db.session.commit()
    world = bf.load(db.session, ZONE)
    east, south = bf.Who(team_id=people.rep.team_id), bf.Who(team_id=people.outsider.team_id)
    assert bf.pipeline_at(world, east, NOW)["qualify"].count == 0
    assert bf.pipeline_at(world, south, NOW)["qualify"].count == 1
    assert bf.pipeline_at(world, bf.Who(owner_id=people.outsider.id), NOW)["qualify"].amount == Decimal("500.00")
    assert bf.pipeline_at(world, bf.Who(strategy="frontal"), NOW)["qualify"].count == 0
