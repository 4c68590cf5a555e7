"""The benchmark data generator writes histories the app itself could have written, the same for the same seed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import BigInteger, select, type_coerce

from bench.generate import DAY, OPEN, TABLES, Clock, Generator, Options, generate, read_reference
from pipeline.auth.models import Team, User
from pipeline.core.changelog import FieldChange
from pipeline.core.timeutil import local_date, team_zone
from pipeline.deals.models import Deal, LostReason, StageEvent
from pipeline.extensions import db

DEALS = 300
ANCHOR = date(2026, 11, 23)
# Where each trigger may take a deal from each stage (the workflow's machine, pipeline/deals/workflow.py).
MOVES: dict[tuple[str, str], str] = {
    ("qualify", "advance"): "evaluate",
    ("evaluate", "advance"): "propose",
    ("propose", "advance"): "close",
    ("close", "advance"): "follow_up",
    ("follow_up", "complete"): "done",
    ("evaluate", "revert"): "qualify",
    ("propose", "revert"): "evaluate",
    ("close", "revert"): "propose",
    ("follow_up", "revert"): "close",
    **{(stage, "lose"): "lost" for stage in OPEN},
}


def in_memory(deals: int, seed: int, **options: bool) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The rows the generator would write for these options, without writing them."""
    ids = {table: 1 for table in ("users", "teams", *TABLES)}
    generator = Generator(Options(deals, seed, ANCHOR, **options), read_reference(), Clock(team_zone(), ANCHOR), ids)
    generator.make_staff(None)
    return generator.rows()


@pytest.fixture
def summary(app: Flask) -> dict[str, Any]:
    return generate(Options(DEALS, seed=7, anchor=ANCHOR))


@pytest.fixture
def history(summary: dict[str, Any]) -> dict[int, list[StageEvent]]:
    by_deal: dict[int, list[StageEvent]] = defaultdict(list)
    for event in db.session.scalars(select(StageEvent).order_by(StageEvent.id)):
        by_deal[event.deal_id].append(event)
    return by_deal


@pytest.fixture
def deals(summary: dict[str, Any]) -> dict[int, Deal]:
    return {deal.id: deal for deal in db.session.scalars(select(Deal))}


def test_every_deal_is_where_its_history_left_it(deals: dict[int, Deal], history: dict[int, list[StageEvent]]) -> None:
    assert len(deals) == DEALS
    for deal in deals.values():
        rows = history[deal.id]
        assert rows[0].trigger == "create" and rows[0].from_stage is None and rows[0].to_stage == "qualify"
        assert rows[0].at == deal.created_at and rows[0].from_entered_at is None
        assert deal.stage == rows[-1].to_stage, deal.id
        assert deal.stage_entered_at == rows[-1].at, deal.id
        assert deal.version == len(rows) + len(
            db.session.scalars(select(FieldChange.id).where(FieldChange.entity_id == deal.id)).all()
        )


def test_history_chains_stage_to_stage_and_moment_to_moment(history: dict[int, list[StageEvent]]) -> None:
    for rows in history.values():
        for before, move in pairwise(rows):
            assert move.from_stage == before.to_stage
            assert move.from_entered_at == before.at
            assert move.at > before.at
            if move.trigger == "reopen":
                lost_from = before.from_stage  # reopened where it was lost from
                assert before.trigger == "lose" and move.to_stage == lost_from
            else:
                assert MOVES[(move.from_stage, move.trigger)] == move.to_stage, (move.from_stage, move.trigger)
            assert (move.lost_reason_key is not None) == (move.trigger == "lose")
            assert move.reason.strip() or move.trigger not in ("revert", "reopen")
            assert move.override is False or (move.reason and move.overridden)


def test_history_and_field_changes_are_numbered_in_time_order(summary: dict[str, Any]) -> None:
    for model in (StageEvent, FieldChange):
        moments = db.session.scalars(select(model.at).order_by(model.id)).all()
        assert moments == sorted(moments)


def test_only_leads_and_admins_reopen(history: dict[int, list[StageEvent]]) -> None:
    roles = {uid: role for uid, role in db.session.execute(select(User.id, User.role))}
    reopeners = {roles[e.user_id] for rows in history.values() for e in rows if e.trigger == "reopen"}
    assert reopeners and reopeners <= {"lead", "admin"}


def test_won_and_lost_dates_are_the_local_dates_of_the_last_win_and_loss(
    deals: dict[int, Deal], history: dict[int, list[StageEvent]]
) -> None:
    for deal in deals.values():
        rows = history[deal.id]
        wins = [e for e in rows if e.from_stage == "close" and e.to_stage == "follow_up"]
        losses = [e for e in rows if e.trigger == "lose"]
        if deal.stage in ("follow_up", "done"):
            assert deal.won_on == local_date(wins[-1].at)
        else:
            assert deal.won_on is None
        if deal.stage == "lost":
            assert deal.lost_on == local_date(losses[-1].at)
            assert deal.lost_reason_key == losses[-1].lost_reason_key
            assert deal.lost_from_stage == losses[-1].from_stage
        else:
            assert deal.lost_on is deal.lost_reason_key is deal.lost_from_stage is None


def test_field_changes_chain_to_the_deals_current_values(
    deals: dict[int, Deal], history: dict[int, list[StageEvent]]
) -> None:
    chains: dict[tuple[int, str], list[FieldChange]] = defaultdict(list)
    for change in db.session.scalars(select(FieldChange).order_by(FieldChange.id)):
        assert change.entity == "deal"
        chains[(change.entity_id, change.field)].append(change)
    assert {field for _, field in chains} == {"amount", "expected_close_date", "strategy"}
    current = {
        "amount": lambda d: f"{d.amount:.2f}",
        "expected_close_date": lambda d: d.expected_close_date and d.expected_close_date.isoformat(),
        "strategy": lambda d: d.strategy,
    }
    for (deal_id, field), changes in chains.items():
        deal = deals[deal_id]
        for before, change in pairwise(changes):
            assert change.old_value == before.new_value
        assert all(c.old_value != c.new_value for c in changes)
        assert changes[-1].new_value == current[field](deal)
        assert all(deal.created_at < c.at <= deal.updated_at for c in changes)
        assert all(c.user_id == deal.owner_id for c in changes)
        for c in changes:  # the stage the deal's history had reached then (migration 0005's definition)
            assert c.stage == [e for e in history[deal_id] if e.at <= c.at][-1].to_stage
    # Each history row carries the deal's amount at that moment (docs/reports.md, "amount at T").
    for deal in deals.values():
        amounts = chains.get((deal.id, "amount"), [])
        for event in history[deal.id]:
            done = [c for c in amounts if c.at <= event.at]
            later = [c for c in amounts if c.at > event.at]
            expected = done[-1].new_value if done else later[0].old_value if later else f"{deal.amount:.2f}"
            assert f"{event.amount:.2f}" == expected


def test_the_database_holds_exactly_the_generated_rows(summary: dict[str, Any]) -> None:
    expected = defaultdict(list)
    for table, row in in_memory(DEALS, seed=7):
        expected[table].append(row)
    columns = {
        "deals": ("id", "account_id", "owner_id", "title", "amount_cents", "stage", "strategy", "version"),
        "stage_events": ("id", "deal_id", "from_stage", "to_stage", "trigger", "user_id", "lost_reason_key"),
        "field_changes": ("id", "entity_id", "field", "old_value", "new_value", "user_id", "stage"),
        "accounts": ("id", "name", "kind", "owner_id"),
    }
    for table, names in columns.items():
        sql_table = db.metadata.tables[table]
        query = select(
            *(type_coerce(sql_table.c[n], BigInteger) if n == "amount_cents" else sql_table.c[n] for n in names)
        ).order_by(sql_table.c.id)
        stored = [tuple(r) for r in db.session.execute(query).all()]
        positions = [TABLES[table].index(n) for n in names]
        assert stored == [tuple(row[i] for i in positions) for row in expected[table]], table
        assert summary["rows"][table] == len(stored)


def test_same_seed_same_rows_other_seed_other_rows(app: Flask) -> None:
    first = list(in_memory(200, seed=3))
    assert first == list(in_memory(200, seed=3))
    assert first != list(in_memory(200, seed=4))


def test_the_mix_is_roughly_a_real_pipelines(app: Flask) -> None:
    """Over 20,000 deals: the shares the benchmark's figures rest on (bench/README.md)."""
    deals = 20_000
    stages: Counter[str] = Counter()
    triggers: Counter[str] = Counter()
    lost_from: Counter[str] = Counter()
    reasons: set[str] = set()
    created: list[str] = []
    counts: Counter[str] = Counter()
    for table, row in in_memory(deals, seed=1):
        counts[table] += 1
        if table == "deals":
            stages[row[TABLES["deals"].index("stage")]] += 1
            created.append(row[TABLES["deals"].index("created_at")])
        elif table == "stage_events":
            trigger = row[TABLES["stage_events"].index("trigger")]
            triggers[trigger] += 1
            if trigger == "lose":
                lost_from[row[TABLES["stage_events"].index("from_stage")]] += 1
                reasons.add(row[TABLES["stage_events"].index("lost_reason_key")])
    share = {stage: n / deals for stage, n in stages.items()}
    assert 0.22 <= sum(share.get(s, 0) for s in OPEN) <= 0.33
    assert 0.30 <= share["follow_up"] + share["done"] <= 0.42
    assert 0.30 <= share["lost"] <= 0.42
    assert 4.2 <= counts["stage_events"] / deals <= 5.5
    assert 1.0 <= counts["field_changes"] / deals <= 1.6
    assert 0.05 <= triggers["revert"] / (counts["stage_events"] - deals) <= 0.11  # of moves
    assert 0.02 <= triggers["reopen"] / deals <= 0.045
    assert set(lost_from) == set(OPEN)
    all_reasons = set(db.session.scalars(select(LostReason.key).where(LostReason.active.is_(True))))
    assert len(reasons) >= 6 and reasons <= all_reasons
    # Three years of deals, more of them recent: the last year has more than the first.
    first = datetime.fromisoformat(created[0]).date()
    assert (ANCHOR - first).days > 3 * 365 - 10
    years = Counter((ANCHOR - datetime.fromisoformat(c).date()).days // 365 for c in created)
    assert years[0] > years[1] > years[2]


def test_staff_have_teams_with_leads(summary: dict[str, Any]) -> None:
    teams = db.session.scalars(select(Team)).all()
    assert len(teams) >= 2 and all(t.lead is not None and t.lead.role == "lead" for t in teams)
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles["admin"] == 1 and roles["lead"] == len(teams) and roles["rep"] >= 4
    owners = set(db.session.scalars(select(Deal.owner_id).distinct()))
    assert {u.role for u in db.session.scalars(select(User).where(User.id.in_(owners)))} == {"rep"}


def test_moves_happen_in_office_hours_before_the_anchors_evening(history: dict[int, list[StageEvent]]) -> None:
    zone = team_zone()
    now = Clock(zone, ANCHOR).now
    for rows in history.values():
        for event in rows:
            local = event.at.astimezone(zone)
            assert 9 <= local.hour < 19 and event.at.timestamp() < now
    assert now % DAY == (18 - 8) * 3600  # 18:00 in Shanghai


def test_board_only_ends_every_story_on_the_board(app: Flask) -> None:
    """--board-only (the export benchmark's data): no deal lost or completed, the rest of each story kept."""
    summary = generate(Options(DEALS, seed=7, anchor=ANCHOR, checklists=True, board_only=True))
    stages = Counter(db.session.scalars(select(Deal.stage)))
    assert set(stages) <= {*OPEN, "follow_up"} and stages["follow_up"] > 0 and sum(stages.values()) == DEALS
    triggers = Counter(db.session.scalars(select(StageEvent.trigger)))
    assert triggers["lose"] == triggers["complete"] == triggers["reopen"] == 0 and triggers["revert"] > 0
    for deal in db.session.scalars(select(Deal)):
        assert deal.lost_on is None and (deal.won_on is not None) == (deal.stage == "follow_up")
    assert summary["rows"]["deal_checklist_items"] > 5 * DEALS  # every deal is on the board, so has its checklist


def test_activities_fall_in_board_stays_and_change_nothing_else(app: Flask) -> None:
    plain = [row for row in in_memory(DEALS, seed=7) if row[0] != "activities"]
    rows = list(in_memory(DEALS, seed=7, activities=True))
    assert [row for row in rows if row[0] != "activities"] == plain  # their own random stream
    deals = {row[0]: row for table, row in rows if table == "deals"}
    created = {deal_id: row[TABLES["deals"].index("created_at")] for deal_id, row in deals.items()}
    touches = [row for table, row in rows if table == "activities"]
    assert len(touches) > 3 * DEALS
    now = datetime.fromtimestamp(Clock(team_zone(), ANCHOR).now, UTC).strftime("%Y-%m-%d %H:%M:%S")
    kinds: Counter[str] = Counter()
    for row in touches:
        named = dict(zip(TABLES["activities"], row, strict=True))
        deal = deals[named["deal_id"]]
        assert named["account_id"] == deal[TABLES["deals"].index("account_id")]
        assert named["user_id"] == deal[TABLES["deals"].index("owner_id")]
        assert created[named["deal_id"]] <= named["occurred_at"] < now and named["summary"]
        kinds[named["kind"]] += 1
    assert set(kinds) == {"call", "visit", "email", "meeting", "note"} and kinds["call"] == max(kinds.values())
