"""Week over week on the hand-built week 2026-W10 (see conftest.py): every change, counted and listed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pipeline.reports.figures import open_totals
from pipeline.reports.periods import iso_week
from pipeline.reports.scope import ReportScope
from pipeline.reports.snapshot import pipeline_at, pipelines_at
from pipeline.reports.trend import weekly_trend
from pipeline.reports.weekly import KINDS, week_over_week
from tests.reports.conftest import MAR, local

W10 = iso_week("2026-W10")
LATER = local(date(2026, 6, 1))


def test_each_kind_of_change_in_the_week_is_counted_in_local_time(week: Any) -> None:
    report = week_over_week(ReportScope(), W10, now=LATER)
    counts = {c.kind: c.count for c in report.changes}
    assert counts == {
        "created": 1,  # A on Monday 07:00 local (Sunday in UTC); C at Sunday 23:59 belongs to week 9
        "advanced": 5,  # A twice, B twice, C at Sunday 23:59 local
        "won": 2,  # D, and F (moved back the next day, but the win happened)
        "moved_back": 2,  # B, F
        "lost": 1,  # A
        "reopened": 0,
        "close_date_slipped": 1,  # B 31 March → 30 April; C's earlier date is not a slip
        "amount_changed": 1,  # C 50,000 → 60,000 (B's change came the week after)
        "strategy_changed": 1,  # B none → 出其不意
    }
    assert [c.kind for c in report.changes] == list(KINDS)


def test_the_compared_week_is_counted_beside_it(week: Any) -> None:
    report = week_over_week(ReportScope(), W10, now=LATER)
    before = {c.kind: c.compare_count for c in report.changes}
    # Week 9: C created (Sunday 23:59 local); E's three advances and its win, all on Sunday at noon.
    assert before["created"] == 1 and before["won"] == 1 and before["advanced"] == 3
    against_w11 = week_over_week(ReportScope(), W10, compare=iso_week("2026-W11"), now=LATER)
    later = {c.kind: c.compare_count for c in against_w11.changes}
    assert later["created"] == 1 and later["advanced"] == 2 and later["amount_changed"] == 1  # G; B, D; B


def test_changes_say_from_what_to_what_who_and_when_newest_first(week: Any, people: Any) -> None:
    report = week_over_week(ReportScope(), W10, now=LATER)
    by_kind = {c.kind: c for c in report.changes}
    lost = by_kind["lost"].rows[0]
    assert (lost.title, lost.from_value, lost.to_value, lost.note) == ("A", "propose", "lost", "competitor")
    assert (lost.user_name, lost.at) == (people.admin.name, local(MAR[6]))
    slipped = by_kind["close_date_slipped"].rows[0]
    assert (slipped.title, slipped.from_value, slipped.to_value) == ("B", "2026-03-31", "2026-04-30")
    amount = by_kind["amount_changed"].rows[0]
    assert (amount.from_value, amount.to_value) == ("50000.00", "60000.00")
    advanced = by_kind["advanced"].rows
    assert [(c.title, c.to_value) for c in advanced][:2] == [("C", "evaluate"), ("B", "evaluate")]
    assert [c.at for c in advanced] == sorted((c.at for c in advanced), reverse=True)
    strategy = by_kind["strategy_changed"].rows[0]
    assert (strategy.from_value, strategy.to_value) == (None, "flanking")


def test_the_pipeline_at_the_end_of_the_week_against_the_end_of_the_week_before(week: Any) -> None:
    report = week_over_week(ReportScope(), W10, now=LATER)
    now = {k: (t.count, t.amount) for k, t in report.now.items()}
    before = {k: (t.count, t.amount) for k, t in report.before.items()}
    assert now["evaluate"] == (2, Decimal("160000.00")) and now["close"] == (1, Decimal("70000.00"))
    # End of week 9 (Sunday 24:00 local): B and C in 确认 (C at 50,000), D and F in 成交, E won.
    assert before == {
        "qualify": (2, Decimal("150000.00")),
        "evaluate": (0, Decimal("0.00")),
        "propose": (0, Decimal("0.00")),
        "close": (2, Decimal("370000.00")),
        "follow_up": (1, Decimal("40000.00")),
    }


def test_a_week_still_running_compares_now(week: Any) -> None:
    mid_week = local(MAR[4], 12)
    report = week_over_week(ReportScope(), W10, now=mid_week)
    assert report.now["evaluate"].count == 1  # A since Tuesday; B moved back to 确认 Wednesday 10:00
    # 跟进 holds E only: F, won Tuesday, moved back Wednesday 10:00, and D is won only on Saturday.
    assert report.now["follow_up"].count == 1
    assert report.before["qualify"].count == 2  # the end of week 9 is in the past: B and C


def test_a_teams_report_leaves_the_other_teams_deals_out(week: Any, people: Any) -> None:
    report = week_over_week(ReportScope(team_id=people.rep.team_id), W10, now=LATER)
    counts = {c.kind: c.count for c in report.changes}
    assert counts["won"] == 1 and counts["advanced"] == 5  # D is in the other team
    assert all(row.title != "D" for c in report.changes for row in c.rows)


def test_the_trend_is_the_open_pipeline_as_each_week_ended(week: Any) -> None:
    points = weekly_trend(ReportScope(), weeks=3, now=local(MAR[11], 12))
    assert [p.week.week_label() for p in points] == ["2026-W09", "2026-W10", "2026-W11"]
    # End of W09: B, C in 确认, D, F in 成交; end of W10: B, C in 考察, F in 成交; Wednesday of W11: G not yet,
    # B in 报价 at 150,000, C in 考察, F in 成交.
    assert [p.open.count for p in points] == [4, 3, 3]
    assert points[-1].open.amount == Decimal("280000.00")


def test_several_moments_in_one_pass_equal_each_moment_on_its_own(week: Any, people: Any) -> None:
    moments = [local(MAR[d], h) for d in (1, 2, 4, 8, 9, 10, 12) for h in (0, 10, 23)] + [LATER]
    for scope in (ReportScope(), ReportScope(team_id=people.rep.team_id), ReportScope(strategy="flanking")):
        together = pipelines_at(scope, list(reversed(moments)))
        assert together == [pipeline_at(scope, m) for m in reversed(moments)]
        assert [p.open for p in weekly_trend(scope, weeks=3, now=local(MAR[11], 12))] == [
            open_totals(pipeline_at(scope, m)) for m in (W10.start(), W10.end(), local(MAR[11], 12))
        ]
