"""Seed 002's customer analyses against a hand-computed quarter: by product line, channel, region; loyalty; profit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pipeline.extensions import db
from pipeline.reports.customer_sales import customer_sales
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope
from tests.reports.customers import won

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def sales(people, make_account):
    c1 = make_account(people.rep, name="C1", region="华东")
    c2 = make_account(people.rep, name="C2", region="华南")
    c3 = make_account(people.rep, name="C3", region="华东")
    won(c1, "100000", date(2026, 1, 5), product_line="ERP", channel="直销", gross_profit=Decimal("40000"))
    won(c1, "50000", date(2026, 1, 25), product_line="ERP", channel="代理商")
    won(c1, "30000", date(2026, 3, 6), product_line="CRM", channel="直销", gross_profit=Decimal("15000"))
    won(c2, "20000", date(2026, 2, 1), product_line="硬件", channel="线上", gross_profit=Decimal("2000"))
    won(c2, "10000", date(2026, 2, 11), product_line="硬件", channel="线上", gross_profit=Decimal("-1000"))
    won(c3, "40000", date(2026, 3, 1))
    won(c3, "99999", date(2025, 12, 31), product_line="ERP")
    won(make_account(people.outsider, name="华南客户", region="华南"), "500000", date(2026, 2, 1), product_line="ERP")
    db.session.commit()


def rows(found, dimension):
    return [(r.key, r.profit.deals, r.accounts, r.profit.revenue, r.share) for r in found.by[dimension]]


def test_sales_three_ways(people, sales):
    found = customer_sales(ReportScope(owner_id=people.rep.id), Q1)
    assert rows(found, "product_line") == [
        ("ERP", 2, 1, Decimal("150000.00"), Decimal("0.6")),
        ("", 1, 1, Decimal("40000.00"), Decimal("0.16")),  # not entered
        ("CRM", 1, 1, Decimal("30000.00"), Decimal("0.12")),
        ("硬件", 2, 1, Decimal("30000.00"), Decimal("0.12")),
    ]
    assert [(k, revenue) for k, _d, _a, revenue, _s in rows(found, "channel")] == [
        ("直销", Decimal("130000.00")),
        ("代理商", Decimal("50000.00")),
        ("", Decimal("40000.00")),
        ("线上", Decimal("30000.00")),
    ]
    assert [(k, accounts, revenue) for k, _d, accounts, revenue, _s in rows(found, "region")] == [
        ("华东", 2, Decimal("220000.00")),
        ("华南", 1, Decimal("30000.00")),
    ]


def test_profit_where_margins_are_entered(people, sales):
    found = customer_sales(ReportScope(owner_id=people.rep.id), Q1)
    total = found.total
    assert (total.deals, total.revenue, total.gross_profit) == (6, Decimal("250000.00"), Decimal("56000.00"))
    assert (total.revenue_with_profit, total.deals_without_profit) == (Decimal("160000.00"), 2)
    assert total.margin == Decimal("0.35")  # 56,000 / 160,000
    hardware = next(r for r in found.by["product_line"] if r.key == "硬件").profit
    assert hardware.gross_profit == Decimal("1000.00") and round(hardware.margin, 4) == Decimal("0.0333")


def test_loyalty_repeat_purchase(people, sales):
    loyalty = customer_sales(ReportScope(owner_id=people.rep.id), Q1).loyalty
    # C1 bought three times (gaps 20 and 40 days), C2 twice (10 days), C3 once
    assert (loyalty.buyers, loyalty.repeat_buyers) == (3, 2)
    assert round(loyalty.repeat_rate, 4) == Decimal("0.6667")
    assert loyalty.average_days_between == pytest.approx(70 / 3)


def test_the_whole_company_counts_the_other_team(people, sales):
    found = customer_sales(ReportScope(), Q1)
    assert found.total.revenue == Decimal("750000.00") and rows(found, "product_line")[0][3] == Decimal("650000.00")
