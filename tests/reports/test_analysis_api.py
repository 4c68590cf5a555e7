"""The customer analyses' API: the pages' figures as JSON, scoped the same way."""

from __future__ import annotations

from tests.reports.test_churn import base  # noqa: F401
from tests.reports.test_concentration import quarter  # noqa: F401
from tests.reports.test_customer_sales import sales  # noqa: F401
from tests.reports.test_portfolio import book  # noqa: F401

Q1 = "from=2026-01-01&to=2026-03-31"
H1 = "from=2026-01-01&to=2026-06-30"


def get(client, token_for, user, path):
    return client.get(path, headers=token_for(user))


def test_value(client, token_for, people, book):  # noqa: F811
    body = get(client, token_for, people.rep, f"/api/v1/reports/value?{H1}").json
    assert body["period"] == {"first": "2026-01-01", "last": "2026-06-30"}
    assert body["previous"] == {"first": "2025-07-04", "last": "2025-12-31"}
    assert body["buyers"] == 4 and body["revenue"] == "1000000.00"
    assert body["deciles"][0] == {
        "decile": 1, "accounts": 1, "revenue": "600000.00", "share": "0.6000", "cumulative_share": "0.6000",
    }  # fmt: skip
    assert {q["key"]: q["accounts"] for q in body["quadrants"]} == {
        "star": 1, "cash_cow": 0, "question_mark": 1, "dog": 3,
    }  # fmt: skip
    assert body["quadrants"][0]["label"] == "明星"
    assert [t["tier"] for t in body["rules"]["tiers"]] == ["superstar", "rising", "fading", "ordinary"]
    assert "华南" not in str(body)


def test_concentration_scoped_to_the_lead(client, token_for, people, quarter):  # noqa: F811
    body = get(client, token_for, people.lead, f"/api/v1/reports/concentration?{Q1}").json
    assert body["accounts"] == 7 and body["top_revenue_share"] == "0.7143"
    assert [c["name"] for c in body["costly"]] == ["K3", "K7", "K4"]
    assert body["costly"][0]["figures"]["net"] == "-1000.00"
    assert {c["name"]: c["contacted_often"] for c in body["self_check"]} == {"王芳": 2, "张伟": 0}
    assert body["rules"]["rule_sets"][0] == {
        "key": "value_costs",
        "values": {"top_pct": 20, "cost_per_activity": 300, "cost_per_complaint": 2000, "default_margin_pct": 30},
    }
    outside = get(client, token_for, people.lead, f"/api/v1/reports/concentration?{Q1}&rep={people.outsider.id}")
    assert outside.status_code == 404


def test_customers(client, token_for, people, sales):  # noqa: F811
    body = get(client, token_for, people.rep, f"/api/v1/reports/customers?{Q1}").json
    assert body["total"]["margin"] == "0.3500" and body["total"]["deals_without_profit"] == 2
    assert body["product_line"][0]["key"] == "ERP" and body["product_line"][0]["profit"]["revenue"] == "150000.00"
    assert body["loyalty"]["repeat_buyers"] == 2 and body["loyalty"]["repeat_rate"] == "0.6667"
    # a deal strategy does not pick customers: the same figures with one asked for
    frontal = get(client, token_for, people.rep, f"/api/v1/reports/customers?{Q1}&strategy=frontal").json
    assert frontal["total"] == body["total"]


def test_churn_and_rules(client, token_for, people, base):  # noqa: F811
    body = get(client, token_for, people.rep, f"/api/v1/reports/churn?{H1}").json
    assert body["churned"] == 3 and {"key": "price", "count": 1} in body["reasons"]
    assert body["by"]["kind"][0] == {"key": "b2b", "accounts": 5, "churned": 2, "rate": "0.4000"}
    assert [f["name"] for f in body["flagged"]] == ["H5"] and body["flagged"][0]["days_silent"] == 366
    rules = get(client, token_for, people.rep, "/api/v1/analysis-rules").json
    assert {"key": "churn", "values": {"flag_after_days": 365}} in rules["rule_sets"]
    bad = get(client, token_for, people.rep, "/api/v1/reports/churn?period=next_year")
    assert bad.status_code == 400 and "period" in bad.json["fields"]
