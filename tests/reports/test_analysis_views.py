"""The customer analyses' pages on the hand-built data of the computation tests, as a lead, a rep and an admin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pipeline.extensions import db
from pipeline.reports.concentration import COST_RULES
from pipeline.reports.value import TIER_RULES
from tests.conftest import counting_statements
from tests.pages import plain, section, text
from tests.reports.customers import complain, touch, won
from tests.reports.test_churn import base  # noqa: F401  (the churn half year)
from tests.reports.test_concentration import quarter  # noqa: F401  (the 80/20 quarter)
from tests.reports.test_customer_sales import sales  # noqa: F401
from tests.reports.test_portfolio import book  # noqa: F401
from tests.reports.test_views import cells

Q1 = "from=2026-01-01&to=2026-03-31"
H1 = "from=2026-01-01&to=2026-06-30"


def test_the_value_page_shows_deciles_tiers_and_quadrants(browser, people, book):  # noqa: F811
    html = text(browser(people.rep).get(f"/reports/value?{H1}"))
    assert cells(html, "decile-1") == ["1", "1", "¥600,000", "60%", "60%"]
    assert cells(html, "decile-3") == ["3", "1", "¥200,000", "20%", "80%"]
    assert cells(html, "quadrant-star")[1:] == ["1", "¥600,000", "60%"]
    assert cells(html, "quadrant-dog")[1:] == ["3", "¥250,000", "25%"]
    p1 = next(a for a in book.values() if a.name == "P1")
    assert cells(html, f"account-{p1.id}")[2:7] == ["¥600,000", "¥400,000", "+50%", "60%", "明星"]
    assert "华南" not in html  # the other team's account
    assert "<svg" in section(html, "portfolio-chart") or 'id="portfolio-chart"' in html
    assert "天王巨星" in plain(section(html, "tiers"))


def test_the_value_page_shows_the_rules_in_force(browser, people, book):  # noqa: F811
    TIER_RULES.save({"fading_drop_pct": 35}, people.admin.id)
    db.session.commit()
    html = text(browser(people.rep).get(f"/reports/value?{H1}"))
    rules = plain(section(html, "rules"))
    assert "35" in rules and "12" in rules
    assert "35%" in cells(html, "tier-fading")[1]  # the tier's rule in words, beside its row


def test_the_80_20_page_for_the_lead(browser, people, quarter):  # noqa: F811
    html = text(browser(people.lead).get(f"/reports/concentration?{Q1}"))
    assert plain(section(html, "top-revenue-share")) == "71.4%"
    assert plain(section(html, "top-profit-share")) == "92.9%"
    assert cells(html, "group-costly")[1:] == ["3", "42.9%", "¥80,000", "¥3,000", "¥20,900", "-¥2,900"]
    costly = plain(section(html, "costly"))
    assert costly.index("K3") < costly.index("K7") < costly.index("K4")
    assert cells(html, f"self-check-{people.rep.id}")[1:] == ["6", "2", "33.3%", "¥880,000", "¥250,000", "28.4%"]
    assert "K8" not in html


def test_a_rep_sees_only_their_own_80_20(browser, people, quarter):  # noqa: F811
    html = text(browser(people.rep).get(f"/reports/concentration?{Q1}"))
    assert plain(section(html, "top-revenue-share")) == "79.5%"
    assert f"self-check-{people.rep_b.id}" not in html and "K6" not in html
    assert browser(people.rep).get(f"/reports/concentration?{Q1}&rep={people.rep_b.id}").status_code == 404


def test_the_customer_sales_page(browser, people, sales):  # noqa: F811
    html = text(browser(people.rep).get(f"/reports/customers?{Q1}"))
    facts = plain(section(html, "profit-facts"))
    assert "¥250,000" in facts and "¥56,000" in facts and "35%" in facts
    assert "66.7%" in plain(section(html, "loyalty-facts")) and "23.3" in plain(section(html, "loyalty-facts"))
    erp = plain(section(html, "by-product_line"))
    assert "ERP 2 1 ¥150,000 60% ¥40,000 40% 1" in erp
    assert "华南客户" not in html and "¥500,000" not in html


def test_the_churn_page(browser, people, base):  # noqa: F811
    html = text(browser(people.rep).get(f"/reports/churn?{H1}"))
    assert plain(section(html, "churned-count")) == "3"
    assert cells(html, "reason-price") == ["价格", "1"]
    assert "商业" in plain(section(html, "churn-by-kind")) or "B2B" in plain(section(html, "churn-by-kind"))
    assert cells(html, "tenure-2_3y")[1:] == ["1"]
    flagged = plain(section(html, "flagged"))
    assert "H5" in flagged and "2025-06-29" in flagged and "366" in flagged and "¥100,000" in flagged
    assert '"churn-reasons"' in html and '"churn-months"' in html


def test_everyone_sees_the_rules_and_only_an_admin_changes_them(browser, people, app):
    app.config["WTF_CSRF_ENABLED"] = False
    rep = browser(people.rep)
    page = text(rep.get("/analysis-rules"))
    assert 'action="/analysis-rules"' not in page and "365" in page
    assert rep.post("/analysis-rules", data={"churn-flag_after_days": "30"}).status_code == 403
    admin = browser(people.admin)
    form = text(admin.get("/analysis-rules"))
    assert 'name="value_costs-cost_per_activity"' in form
    sent = {
        "value_tiers-window_months": "12", "value_tiers-superstar_deciles": "1", "value_tiers-rising_growth_pct": "50",
        "value_tiers-rising_max_decile": "5", "value_tiers-fading_drop_pct": "50", "portfolio-growth_pct": "10",
        "portfolio-share_of_average_pct": "100", "value_costs-top_pct": "20", "value_costs-cost_per_activity": "150",
        "value_costs-cost_per_complaint": "2000", "value_costs-default_margin_pct": "30",
        "big_customer_check-min_activities": "4", "big_customer_check-days": "90", "churn-flag_after_days": "180",
    }  # fmt: skip
    assert admin.post("/analysis-rules", data=sent).status_code == 302
    assert COST_RULES.current()["cost_per_activity"] == 150
    bad = admin.post("/analysis-rules", data={**sent, "churn-flag_after_days": "5", "value_costs-top_pct": "20"})
    assert bad.status_code == 422
    assert "churn-flag_after_days-error" in text(bad) and "30" in plain(
        section(text(bad), "churn-flag_after_days-error")
    )
    assert COST_RULES.current()["cost_per_activity"] == Decimal(150)


def test_the_pages_ask_the_same_number_of_queries_for_five_accounts_or_fifty(browser, people, make_account):
    def add(n):
        for i in range(n):
            account = make_account(people.rep, name=f"客户{i}", region="华东")
            won(account, "10000", date(2026, 2, 1 + i % 20), product_line="ERP", gross_profit=Decimal("1000"))
            won(account, "5000", date(2025, 3, 1))
            touch(account, date(2026, 3, 1), 2)
            complain(account, date(2026, 3, 2))
            if i % 3 == 0:
                account.churned_on, account.churn_reason_key = date(2026, 4, 1), "price"
        db.session.commit()

    client = browser(people.lead)
    pages = [f"/reports/{name}?{H1}" for name in ("value", "concentration", "customers", "churn")]

    def counts():
        out = []
        for page in pages:
            with counting_statements() as statements:
                assert client.get(page).status_code == 200
            out.append(len(statements))
        return out

    add(5)
    few = counts()
    add(45)
    assert counts() == few
