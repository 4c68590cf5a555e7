"""The kept company figures (reports/rollup) agree with the brute force however often, and when, they are refreshed.

The other report tests read the kept figures with nothing counted (every deal pending, laid over empty counts);
here deals are counted part-way through their histories, changed again, counted again, partly, so that every
way a counted share can change (a later move reaching the next stage, a loss, a reopened or reverted win, a
repricing, a reassignment) is taken out of the counts and put back exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pipeline.deals import services
from pipeline.extensions import db
from pipeline.reports import funnel as funnel_module
from pipeline.reports.periods import Period
from pipeline.reports.rollup import reads, store
from pipeline.reports.rollup.contribution import (
    BUCKET_FLOOR_SECONDS,
    NO_EARLIER_ENTRY,
    Counted,
    DealNow,
    Event,
    bucket_of,
    delta_of,
)
from pipeline.reports.rollup.models import (
    RollupDeal,
    RollupEntryCount,
    RollupLostCount,
    RollupStageTotal,
    RollupStay,
    RollupStayCount,
    RollupWonCount,
)
from pipeline.reports.scope import ReportScope
from tests.reports import bruteforce as bf
from tests.reports.test_against_bruteforce import (
    FIRST_DAY,
    ZONE,
    Cast,
    Differences,
    Plan,
    build,
    check_funnel,
    check_week,
    periods,
    plans,
)

COUNT_TABLES = (RollupStayCount, RollupEntryCount, RollupWonCount, RollupLostCount, RollupStageTotal)


def refresh_in_test(limit: int | None = None) -> store.Refreshed:
    """Refresh inside the test's transaction (each batch flushed, not committed), so the example can roll back."""
    return store.refresh(db.session, limit=limit, commit=db.session.flush)


def counts_now() -> dict[str, set[tuple[Any, ...]]]:
    """Every count table's rows that hold something, as comparable sets."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    for model in COUNT_TABLES:
        columns = list(model.__table__.columns)
        numbers = [c for c in columns if not c.primary_key]
        rows = db.session.execute(select(*columns)).all()
        out[model.__tablename__] = {tuple(r) for r in rows if any(r[len(columns) - len(numbers) :])}
    stays = db.session.execute(select(RollupStay.event_id, RollupStay.bucket, RollupStay.seconds)).all()
    out["rollup_stays"] = {tuple(r) for r in stays}
    return out


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    deals=st.lists(plans, min_size=1, max_size=6),
    first_limit=st.one_of(st.none(), st.integers(0, 6)),
    second_limit=st.one_of(st.none(), st.integers(0, 6)),
    spans=st.lists(periods, min_size=1, max_size=3),
    week=st.integers(2, 10),
)
def test_kept_figures_match_the_brute_force_when_counted_part_way(
    people: Any,
    make_account: Any,
    deals: list[Plan],
    first_limit: int | None,
    second_limit: int | None,
    spans: list[tuple[int, int]],
    week: int,
) -> None:
    cast = Cast(people)
    try:
        build(cast, make_account, deals, between=lambda: refresh_in_test(first_limit))
        db.session.flush()
        refresh_in_test(second_limit)  # some deals counted as they stand, some counted stale, some never
        world, everyone, d = bf.load(db.session, ZONE), bf.Who(), Differences()
        for start, length in spans:
            first = FIRST_DAY + timedelta(days=start)
            span = bf.Span(first, first + timedelta(days=length), ZONE)
            check_funnel(d, "[company]", ReportScope(), everyone, span, world)
        check_week(d, "[company]", ReportScope(), everyone, week, None, world)
        assert not d.found, "\n".join(d.found)

        refresh_in_test()  # everything counted: the tables hold what counting every deal from nothing gives
        counted = counts_now()
        assert store.pending_count(db.session, 100) == 0
        store.rebuild(db.session, commit=db.session.flush)
        refresh_in_test()
        assert counts_now() == counted
    finally:
        db.session.rollback()


def test_a_deal_counted_then_moved_on_is_counted_once_per_stage(
    people: Any, make_account: Any, tick_stage: Any, ready_fields: dict[str, Any]
) -> None:
    """Counted in 确认, then advanced and lost from 考察: the entries, the move on and the loss are counted once."""
    at = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    deal = services.create_deal(people.rep, make_account(people.rep), "数据中台", at=at, **ready_fields)
    db.session.commit()
    assert store.refresh(db.session).deals == 1
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=at + timedelta(days=2))
    services.move(people.rep, deal, "lose", lost_reason="price", reason="价格", at=at + timedelta(days=9))
    db.session.commit()
    period = Period(date(2026, 2, 1), date(2026, 2, 28))
    for moment in ("pending", "counted"):
        steps = {
            c.stage: (c.entered, c.reached_next, c.lost_here) for c in funnel_module.conversion(ReportScope(), period)
        }
        assert steps["qualify"] == (1, 1, 0), moment
        assert steps["evaluate"] == (1, 0, 1), moment
        result = funnel_module.outcomes(ReportScope(), period)
        assert (result.won, result.lost, result.lost_amount) == (0, 1, Decimal("120000.00")), moment
        stays = funnel_module.stays(ReportScope(), period)
        assert stays["qualify"] == (1, 2.0, 2.0) and stays["evaluate"] == (1, 7.0, 7.0), moment
        store.refresh(db.session)
    assert db.session.scalar(select(func.count()).select_from(RollupStay)) == 2
    share = db.session.get(RollupDeal, deal.id)
    assert share is not None and (share.stage, share.lost_day) == (None, date(2026, 2, 11))


def test_buckets_sort_as_lengths_do() -> None:
    lengths = [0.0, 1.0, 59.999, 60.0, 61.0, 3600.0, 86_400.0, 86_400.5, 30 * 86_400.0, 3650 * 86_400.0]
    buckets = [bucket_of(s) for s in lengths]
    assert buckets == sorted(buckets)
    assert bucket_of(BUCKET_FLOOR_SECONDS - 0.001) == 0 < bucket_of(BUCKET_FLOOR_SECONDS)
    assert bucket_of(86_400.0) != bucket_of(2 * 86_400.0)


def test_a_share_counts_only_the_first_entry_a_period_holds() -> None:
    """确认 entered on 2 Feb, moved back into it on 5 Feb: the second entry names the first as its previous one."""
    t = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    events = [
        Event(1, None, "qualify", t, None),
        Event(2, "qualify", "evaluate", t + timedelta(days=1), t),
        Event(3, "evaluate", "qualify", t + timedelta(days=3), t + timedelta(days=1)),
    ]
    deal = DealNow(7, "qualify", 100, None, None, t)
    delta = delta_of([(deal, events, None)], ZONE)
    assert delta.entry_counts[(date(2026, 2, 2), "qualify", NO_EARLIER_ENTRY)] == [1, 1, 0]
    assert delta.entry_counts[(date(2026, 2, 5), "qualify", date(2026, 2, 2))] == [1, 0, 0]
    assert delta.entry_counts[(date(2026, 2, 3), "evaluate", NO_EARLIER_ENTRY)] == [1, 0, 0]
    assert dict(delta.stage_totals) == {"qualify": [1, 100]}
    # Counted up to the first row, the move on to 考察 later is a flip of an entry already counted.
    again = delta_of([(deal, events, Counted(event_id=1, stage="qualify", cents=100))], ZONE)
    assert again.entry_counts[(date(2026, 2, 2), "qualify", NO_EARLIER_ENTRY)] == [0, 1, 0]
    assert dict(again.stage_totals) == {}  # where it stands has not changed since it was counted


def test_another_time_zone_turns_the_counts_off_until_refreshed(app: Flask, people: Any, make_deal: Any) -> None:
    make_deal(people.rep)
    store.refresh(db.session)
    assert reads.read_kept(db.session, lambda kept: kept.stage_totals())["qualify"] == (1, 0)
    app.config["PIPELINE_TIMEZONE"] = "America/Los_Angeles"
    assert reads.read_kept(db.session, lambda kept: kept.stage_totals()) is None  # live SQL serves meanwhile
    done = store.refresh(db.session)
    assert done.rebuilt and done.deals == 1
    assert store.counted_zone(db.session) == "America/Los_Angeles"
    assert reads.read_kept(db.session, lambda kept: kept.stage_totals())["qualify"] == (1, 0)


def test_many_pending_deals_are_counted_first_on_a_page_and_never_inside_a_command(
    app: Flask, people: Any, make_deal: Any, monkeypatch: Any
) -> None:
    for n in range(4):
        make_deal(people.rep, title=f"项目{n}")
    monkeypatch.setattr(reads, "OVERLAY_CAP", 2)
    assert reads.read_kept(db.session, lambda kept: kept.stage_totals()) is None  # no request: live, no writing
    assert store.pending_count(db.session, 10) == 4
    with app.test_request_context("/reports/funnel"):
        assert reads.read_kept(db.session, lambda kept: kept.stage_totals())["qualify"] == (4, 0)
    assert store.pending_count(db.session, 10) == 0


def test_the_refresh_command_counts_the_pending_deals(runner: Any, people: Any, make_deal: Any) -> None:
    make_deal(people.rep)
    make_deal(people.rep, title="第二个项目")
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    assert "2 of 2 pending deals counted" in result.output
    assert store.pending_count(db.session, 10) == 0
    again = runner.invoke(args=["reports", "refresh", "--rebuild"])
    assert again.exit_code == 0 and "2 of 2 pending deals counted" in again.output


def test_a_reentry_counts_only_when_the_period_starts_after_the_first_entry(
    people: Any, make_account: Any, tick_stage: Any
) -> None:
    """Into 确认 on 2 Feb, on to 考察 on 3 Feb, back into 确认 on 5 Feb: a period from 2 Feb counts the deal's
    entry to 确认 once (and it moved on); one from 3 Feb counts the re-entry only (which has not)."""
    at = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
    deal = services.create_deal(people.rep, make_account(people.rep), "智慧园区", at=at)
    tick_stage(people.rep, deal)
    services.move(people.rep, deal, "advance", at=at + timedelta(days=1))
    services.move(people.rep, deal, "revert", reason="客户预算推迟", at=at + timedelta(days=3))
    db.session.commit()
    for state in ("pending", "counted"):
        for first, expected in ((date(2026, 2, 2), (1, 1)), (date(2026, 2, 3), (1, 0)), (date(2026, 2, 6), (0, 0))):
            steps = funnel_module.conversion(ReportScope(), Period(first, date(2026, 2, 10)))
            qualify = next(c for c in steps if c.stage == "qualify")
            assert (qualify.entered, qualify.reached_next) == expected, (state, first)
        store.refresh(db.session)
