"""Column types and database invariants: exact money, aware UTC moments, won/lost checks on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from pipeline.core.models import Money, UTCDateTime
from pipeline.deals.models import Deal
from pipeline.extensions import db


def reload(deal_id: int) -> Deal:
    db.session.expire_all()
    found = db.session.get(Deal, deal_id)
    assert found is not None
    return found


@pytest.mark.parametrize("amount", ["0.01", "0.10", "19.99", "99999999999.99"])
def test_money_round_trips_exactly(people: Any, make_deal: Any, amount: str) -> None:
    deal = make_deal(people.rep, amount=Decimal(amount))
    stored = reload(deal.id).amount
    assert isinstance(stored, Decimal)
    assert stored == Decimal(amount) and str(stored) == amount


def test_money_refuses_a_third_decimal_place(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep, amount=Decimal("5.00"))
    deal.amount = Decimal("5.001")
    with pytest.raises(StatementError, match="more than two decimal places"):
        db.session.flush()
    db.session.rollback()
    assert reload(deal.id).amount == Decimal("5.00")


def test_money_never_goes_through_a_float(app: Any) -> None:
    money = Money()
    assert money.process_bind_param(Decimal("0.30"), db.engine.dialect) == 30
    assert money.process_bind_param("99999999999.99", db.engine.dialect) == 9999999999999
    with pytest.raises(ValueError, match="more than two decimal places"):
        money.process_bind_param(0.1 + 0.2, db.engine.dialect)  # the float's binary expansion is not 0.30


def test_sum_over_money_is_exact(people: Any, make_deal: Any) -> None:
    amounts = ["0.10", "0.20", "0.10", "99999999999.99", "0.01", "33.33", "33.33", "33.34"]
    for i, amount in enumerate(amounts):
        make_deal(people.rep, title=f"项目 {i}", amount=Decimal(amount))
    total = db.session.scalar(select(func.sum(Deal.amount)))
    assert isinstance(total, Decimal)
    assert total == Decimal("100000000100.40")
    assert total == sum((Decimal(a) for a in amounts), Decimal(0))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 31, 17, 0, tzinfo=UTC),
        datetime(2026, 4, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 3, 31, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_moments_are_stored_in_utc_and_come_back_aware(people: Any, make_deal: Any, moment: datetime) -> None:
    deal = make_deal(people.rep)
    deal.stage_entered_at = moment
    db.session.commit()
    stored = reload(deal.id).stage_entered_at
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    raw = db.session.scalar(text("SELECT stage_entered_at FROM deals WHERE id = :id"), {"id": deal.id})
    as_naive = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
    assert as_naive == moment.astimezone(UTC).replace(tzinfo=None)  # what other tools reading the table see


def test_a_naive_moment_is_refused(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    deal.stage_entered_at = datetime(2026, 3, 31, 17, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), db.engine.dialect)


# Deals the won/lost check constraints must refuse: (stage, won_on, lost_on, lost_reason_key, lost_from_stage).
BROKEN = {
    "won stage without won_on": ("follow_up", None, None, None, None),
    "done without won_on": ("done", None, None, None, None),
    "open stage with won_on": ("close", date(2026, 4, 1), None, None, None),
    "lost without a date": ("lost", None, None, "price", "propose"),
    "lost without a reason": ("lost", None, date(2026, 4, 1), None, "propose"),
    "lost without its origin": ("lost", None, date(2026, 4, 1), "price", None),
    "open stage with a lost date": ("qualify", None, date(2026, 4, 1), None, None),
    "open stage with a lost reason": ("evaluate", None, None, "price", None),
    "lost and won at once": ("lost", date(2026, 4, 1), date(2026, 4, 1), "price", "close"),
    "unknown stage": ("negotiating", None, None, None, None),
}


@pytest.mark.parametrize("values", list(BROKEN.values()), ids=list(BROKEN))
def test_the_database_refuses_a_deal_that_breaks_won_lost_rules(
    people: Any, make_account: Any, values: tuple[Any, ...]
) -> None:
    stage, won_on, lost_on, lost_reason_key, lost_from_stage = values
    account = make_account(people.rep)
    db.session.commit()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            Deal(
                account_id=account.id,
                owner_id=people.rep.id,
                title="违规数据",
                stage=stage,
                won_on=won_on,
                lost_on=lost_on,
                lost_reason_key=lost_reason_key,
                lost_from_stage=lost_from_stage,
            )
        )
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 0


@pytest.mark.parametrize(
    "values",
    [
        ("follow_up", date(2026, 4, 1), None, None, None),
        ("done", date(2026, 4, 1), None, None, None),
        ("lost", None, date(2026, 4, 1), "price", "close"),
        ("qualify", None, None, None, None),
    ],
)
def test_the_database_accepts_consistent_deals(people: Any, make_account: Any, values: tuple[Any, ...]) -> None:
    stage, won_on, lost_on, lost_reason_key, lost_from_stage = values
    account = make_account(people.rep)
    deal = Deal(
        account_id=account.id,
        owner_id=people.rep.id,
        title="合规数据",
        stage=stage,
        won_on=won_on,
        lost_on=lost_on,
        lost_reason_key=lost_reason_key,
        lost_from_stage=lost_from_stage,
    )
    db.session.add(deal)
    db.session.commit()
    assert reload(deal.id).stage == stage


def test_an_existing_deal_cannot_be_updated_into_an_inconsistent_state(people: Any, make_deal: Any) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE deals SET stage = 'follow_up' WHERE id = :id"), {"id": deal.id})
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE deals SET amount_cents = -1 WHERE id = :id"), {"id": deal.id})
    assert (reload(deal.id).stage, reload(deal.id).amount) == ("qualify", Decimal("0.00"))


def test_a_nul_character_is_refused_naming_the_field_whoever_writes_it(people: Any, make_deal: Any) -> None:
    from pipeline.core.errors import InvalidInput
    from pipeline.deals import services

    deal = make_deal(people.rep, title="干净的标题")
    with pytest.raises(InvalidInput) as refused:
        services.update_deal(people.rep, deal, {"next_step": "打电话\x00给张总"}, deal.version)
    assert refused.value.fields == {"next_step": "contains a NUL character"}
    db.session.rollback()
    with pytest.raises(InvalidInput, match="reason"):
        services.move(people.rep, reload(deal.id), "lose", reason="a\x00b", lost_reason="price")
    db.session.rollback()
    assert reload(deal.id).stage == "qualify" and reload(deal.id).next_step == ""
