"""ISO weeks in the configured zone: Monday 00:00 to Sunday 24:00 local, wherever UTC's midnight falls."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.deals.models import Deal
from pipeline.reports.periods import iso_week
from tests.conftest import People
from tests.exports.conftest import (
    MADE_AT,
    W10,
    Story,
    deal_row,
    expected_deals,
    local,
    make_export,
    open_book,
    values,
    xlsx_bytes,
)

UTC_ZONE = ZoneInfo("UTC")


def changes(week: Any = W10, **kw: Any) -> list[tuple[Any, ...]]:
    return values(open_book(xlsx_bytes(make_export(week=week, **kw)))["本周变化"])


def test_monday_0030_local_belongs_to_the_new_week(week: dict[str, Deal]) -> None:
    d = week["D"]  # created at 00:30 on Monday 2 March in Shanghai: 16:30 on Sunday 1 March in UTC
    assert d.created_at == datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert (datetime(2026, 3, 2, 0, 30), "创建", d.id) in {row[:3] for row in changes()}
    assert d.id not in {row[2] for row in changes(iso_week("2026-W09"))}
    e = week["E"]  # back to 确认 at 00:30 on Monday 9 March local: week 11's, not week 10's
    assert ("退回", e.id) not in {row[1:3] for row in changes()}
    assert (datetime(2026, 3, 9, 0, 30), "退回", e.id) in {
        row[:3] for row in changes(iso_week("2026-W11"), made_at=local(date(2026, 3, 16)))
    }


def test_sunday_2359_local_belongs_to_its_week(week: dict[str, Deal]) -> None:
    e = week["E"]  # created 23:59 on Sunday 1 March local (week 9); into 考察 23:59 on Sunday 8 March (week 10)
    w10 = {row[:3] for row in changes()}
    assert (datetime(2026, 3, 8, 23, 59), "推进", e.id) in w10
    assert ("创建", e.id) not in {row[1:3] for row in changes()}
    w09 = {row[:3] for row in changes(iso_week("2026-W09"))}
    assert (datetime(2026, 3, 1, 23, 59), "创建", e.id) in w09
    # ... and E counts in 考察 at the end of week 10 (the summary's pipeline is taken at Monday 00:00 local).
    summary = {row[0]: row[1:] for row in values(open_book(xlsx_bytes(make_export()))["汇总"])}
    assert summary["考察"][:2] == (3, 2) and summary["确认"][:2] == (1, 2)


def test_the_week_before_has_its_own_outcomes_and_changes(week: dict[str, Deal]) -> None:
    book = open_book(xlsx_bytes(make_export(week=iso_week("2026-W09"))))
    rows = values(book["本周变化"])
    assert all(datetime(2026, 2, 23) <= row[0] < datetime(2026, 3, 2) for row in rows)
    kinds = {(row[1], row[2]) for row in rows}
    g, h = week["G"].id, week["H"].id
    assert {("输单", g), ("赢单", h), ("推进", h), ("创建", week["E"].id)} <= kinds
    summary = {row[0]: row[1:] for row in values(book["汇总"]) if row[0]}
    assert summary["本周赢单"][:6] == (1, 0, 1, 60000, 0, 60000)
    assert summary["本周输单"][:6] == (1, 0, 1, 10000, 0, 10000)


@pytest.mark.parametrize("app_config", [{"PIPELINE_TIMEZONE": "UTC"}])
def test_in_another_zone_the_week_boundary_moves(week: dict[str, Deal], people: People) -> None:
    """The same moments, read in UTC: W10 is 2 March 00:00 UTC to 9 March 00:00 UTC."""
    d, e = week["D"], week["E"]
    book = open_book(xlsx_bytes(make_export()))
    rows = values(book["本周变化"])
    found = {row[:3] for row in rows}
    assert (datetime(2026, 3, 8, 15, 59), "推进", e.id) in found  # 23:59 in Shanghai
    assert (datetime(2026, 3, 8, 16, 30), "退回", e.id) in found  # Monday 00:30 in Shanghai, still Sunday in UTC
    assert d.id not in {row[2] for row in rows if row[1] == "创建"}  # 16:30 UTC on Sunday 1 March: week 9
    assert all(datetime(2026, 3, 2) <= row[0] < datetime(2026, 3, 9) for row in rows)
    notes = {row[0]: row[1] for row in values(book["汇总"]) if row[0]}
    assert notes["周"] == "2026-W10 (2026-03-02 – 2026-03-08, UTC)"
    assert notes["导出时间"] == "2026-03-11 02:00 (UTC)"
    # At the end of the week in UTC, E is back in 确认; at its start D (16:30 UTC on the 1st) already exists.
    summary = {row[0]: row[1:] for row in values(book["汇总"]) if row[0]}
    assert summary["确认"][:6] == (2, 3, -1, 75000, 150000, -75000)  # D 55,000 + E; A 80,000 + D 50,000 + E
    assert summary["考察"][:2] == (2, 2)
    # Dates on the Deals sheet are UTC dates now: B entered 考察 on 8 February UTC, 31 days ago, so it is stalled.
    deals = values(book["商机"])
    assert deals == [deal_row(e) for e in expected_deals(date(2026, 3, 11), zone=UTC_ZONE)]
    b = {row[0]: row for row in deals}[week["B"].id]
    assert (b[6], b[7], b[19]) == (datetime(2026, 2, 8), 31, "是")
    assert [row[4] for row in values(book["停滞"])] == [row[0] for row in deals if row[19] == "是"]
    assert week["B"].id in {row[4] for row in values(book["停滞"])}


@pytest.mark.parametrize("app_config", [{"PIPELINE_TIMEZONE": "America/Los_Angeles"}])
def test_a_zone_behind_utc_moves_the_boundary_the_other_way(story: Story, people: People) -> None:
    la = ZoneInfo("America/Los_Angeles")
    # 23:30 on Sunday 8 March in Los Angeles (already Monday in UTC) is still week 10 there.
    late = story.deal("L", people.rep, local(date(2026, 3, 8), 23, 30, zone=la), "1000")
    early = story.deal("M", people.rep, local(date(2026, 3, 2), 0, 15, zone=la), "1000")
    before = story.deal("N", people.rep, local(date(2026, 3, 1), 23, 45, zone=la), "1000")
    assert late.created_at.astimezone(UTC).date() == date(2026, 3, 9)
    rows = changes(made_at=MADE_AT)
    assert [(row[0], row[2]) for row in rows] == [
        (datetime(2026, 3, 2, 0, 15), early.id),
        (datetime(2026, 3, 8, 23, 30), late.id),
    ]
    assert before.id in {row[2] for row in changes(iso_week("2026-W09"))}
