"""`pipeline import deals`: another CRM's export with won and lost deals, kept as history the funnel counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline.deals.models import Deal, DealChecklistItem, StageEvent
from pipeline.extensions import db
from pipeline.reports.funnel import conversion, outcomes
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from tests.conftest import People, refused
from tests.imports.conftest import write_csv, write_xlsx

SALESFORCE = [
    [
        "Opportunity ID",
        "Opportunity Name",
        "Account Name",
        "Amount",
        "Stage",
        "Close Date",
        "Created Date",
        "Opportunity Owner",
        "Loss Reason",
    ],
    [
        "006A1",
        "ERP 升级",
        "上海华信科技有限公司",
        "¥1,200,000.00",
        "Closed Won",
        "2026-03-10",
        "2026-01-05",
        "rep@example.com",
        "",
    ],
    [
        "006A2",
        "CRM 项目",
        "北京远景咨询",
        "300000",
        "Closed Lost",
        "2026-03-20",
        "2026-02-01",
        "王芳",
        "Price not competitive",
    ],
    ["006A3", "数据中台", "上海华信科技有限公司", "80万", "Negotiation/Review", "2026-05-30", "2026-03-01", "", ""],
    [
        "006A4",
        "OA 系统",
        "深圳前海贸易",
        "50000",
        "Closed Lost",
        "2026-03-25",
        "2026-03-02",
        "rep@example.com",
        "预算被砍",
    ],
]
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def import_deals(runner: FlaskCliRunner, path: Path, *args: str):
    return runner.invoke(args=["import", "deals", str(path), "--owner", "rep@example.com", *args])


def test_won_and_lost_deals_count_in_the_funnel_on_day_one(
    runner: FlaskCliRunner, people: People, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "opportunities.csv", SALESFORCE)
    result = import_deals(runner, path)
    assert result.exit_code == 0, result.output
    assert "4 deals created" in result.output and "3 accounts created" in result.output
    db.session.rollback()
    deals = {d.import_ref: d for d in db.session.scalars(select(Deal))}
    won, lost, open_, other = deals["006A1"], deals["006A2"], deals["006A3"], deals["006A4"]
    assert (won.stage, won.won_on, won.amount) == ("follow_up", date(2026, 3, 10), Decimal("1200000.00"))
    assert (lost.stage, lost.lost_on, lost.lost_reason_key, lost.lost_from_stage) == (
        "lost",
        date(2026, 3, 20),
        "price",
        "qualify",
    )
    assert (other.lost_reason_key, open_.stage, open_.amount) == ("other", "close", Decimal("800000.00"))
    assert all(d.owner_id == people.rep.id for d in deals.values())
    assert won.account_id == open_.account_id  # one account for the same company
    events = db.session.scalars(select(StageEvent).where(StageEvent.deal_id == won.id).order_by(StageEvent.id))
    assert [(e.from_stage, e.to_stage, e.trigger) for e in events] == [
        (None, "close", "import"),
        ("close", "follow_up", "import"),
    ]
    lost_event = db.session.scalar(
        select(StageEvent).where(StageEvent.deal_id == other.id, StageEvent.to_stage == "lost")
    )
    assert lost_event.reason == "预算被砍"
    # an open deal has its stage's checklist, as if it had been moved there
    assert db.session.scalar(
        select(func.count()).select_from(DealChecklistItem).where(DealChecklistItem.deal_id == open_.id)
    )
    # the funnel for March, by hand: one win of ¥1,200,000, two losses of ¥350,000; 64 days from 1-05 to 3-10
    figures = outcomes(ReportScope(), MARCH)
    assert (figures.won, figures.won_amount, figures.lost, figures.lost_amount) == (
        1,
        Decimal("1200000.00"),
        2,
        Decimal("350000.00"),
    )
    assert round(figures.cycle_days) == 64
    rep_only = outcomes(ReportScope(owner_id=people.rep_b.id), MARCH)
    assert rep_only.decided == 0
    entered_close = {c.stage: c for c in conversion(ReportScope(), MARCH)}["close"]
    assert entered_close.entered == 1  # the open deal entered 成交 on 3-01 (the won one in January)


def test_the_same_export_twice_adds_nothing(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "deals.xlsx", SALESFORCE)
    assert import_deals(runner, path).exit_code == 0
    again = import_deals(runner, path)
    assert again.exit_code == 0, again.output
    assert "0 deals created, 4 already there" in again.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 4


def test_stage_map_and_bad_rows(runner: FlaskCliRunner, people: People, tmp_path: Path) -> None:
    rows = [
        ["Deal Name", "Organization", "Deal Value", "Deal Stage", "Won Time", "Owner"],
        ["A", "Acme", "100", "签约", "2026-03-03", ""],
        ["B", "Acme", "abc", "Mystery", "", "nobody@example.com"],
        ["C", "Acme", "100", "Won", "", ""],
    ]
    path = write_csv(tmp_path / "pipedrive.csv", rows)
    result = import_deals(runner, path)
    line = refused(result, "bad rows", "line 2", "line 3", "line 4")
    assert "nothing imported" in line
    assert "--stage-map" in result.stdout and "no such user" in result.stdout and "close date" in result.stdout
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 0
    fixed = [rows[0], rows[1], ["C", "Acme", "100", "Won", "2026-03-04", ""]]
    path = write_csv(tmp_path / "pipedrive.csv", fixed)
    result = import_deals(runner, path, "--stage-map", "签约=follow_up", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    result = import_deals(runner, path, "--stage-map", "签约=follow_up")
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert sorted(db.session.scalars(select(Deal.stage))) == ["follow_up", "follow_up"]
    refused(import_deals(runner, path, "--stage-map", "Won=champagne"), "stage-map", "champagne")
