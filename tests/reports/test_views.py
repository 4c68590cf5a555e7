"""The report pages on the hand-built week of conftest.py: the figures worked out by hand, as a lead reads them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from pipeline.core.models import utcnow
from pipeline.core.pages import today
from pipeline.deals import services
from pipeline.extensions import db
from pipeline.reports import weekly
from pipeline.reports.filters import last_full_week, preset_period
from tests.conftest import People, counting_statements
from tests.pages import plain, section, text

W10 = "from=2026-03-02&to=2026-03-08"  # ISO week 2026-W10 as a custom period


def row(html: str, element_id: str) -> str:
    """The words of one table row (or any element) by id."""
    return plain(section(html, element_id))


def cells(html: str, element_id: str) -> list[str]:
    """The cells of one table row by id, each as its words."""
    return [plain(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", section(html, element_id), re.S)]


def hrefs(html: str) -> list[str]:
    return [str(escape(h)).replace("&amp;", "&") for h in re.findall(r'href="([^"]*)"', html)]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url.replace("&amp;", "&")).query)


# ---- The funnel -------------------------------------------------------------------------------------------------


def test_the_funnel_shows_each_stages_pipeline_time_and_conversion(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get(f"/reports/funnel?{W10}"))
    # Where W10 ended: B and C in 考察 (100,000 + 60,000), weighted at 25%; F back in 成交.
    # 考察's conversion: B, A and C entered; A and B reached 报价: 3 → 2.
    assert cells(html, "stage-evaluate") == [
        "考察", "2", "¥160,000", "¥40,000", "2", "2.0", "2.0", "3", "2", "66.7%", "0",
    ]  # fmt: skip
    assert cells(html, "stage-qualify")[4:] == ["4", "1.1", "10.0", "2", "2", "100%", "0"]
    assert cells(html, "stage-propose")[7:] == ["1", "0", "0%", "1"]  # A, lost there
    assert cells(html, "stage-follow_up")[:4] == ["跟进", "2", "¥340,000", "¥340,000"]
    assert cells(html, "stage-open")[:4] == ["进行中金额", "3", "¥230,000", "¥92,500"]


def test_the_funnels_outcomes_give_the_win_rate_with_its_counts(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get(f"/reports/funnel?{W10}&lang=en"))
    assert row(html, "outcome-won") == "1 · ¥300,000"  # D
    assert row(html, "outcome-lost") == "1 · ¥80,000"  # A
    assert row(html, "outcome-win-rate") == "50% (1 / 2) small sample"
    assert row(html, "outcome-avg-won") == "¥300,000"
    assert row(html, "outcome-cycle") == "65.0"  # 1 January → 7 March
    assert row(html, "outcome-velocity") == "¥6,923.08 per day"  # 3 open × 50% × ¥300,000 ÷ 65


def test_a_decided_sample_of_ten_is_no_longer_small(story: Any, browser: Any, people: People) -> None:
    from tests.reports.conftest import MAR, local

    for i in range(10):
        deal = story.deal(people.rep, f"D{i}", local(MAR[1]))
        story.move(deal, "lose", local(MAR[3]), lost_reason="price")
    html = text(browser(people.admin).get(f"/reports/funnel?{W10}&lang=en"))
    assert row(html, "outcome-win-rate") == "0% (0 / 10)"


# ---- Week over week ---------------------------------------------------------------------------------------------


def test_the_weekly_report_compares_the_pipeline_and_counts_each_kind_for_both_weeks(
    week: Any, browser: Any, people: People
) -> None:
    html = text(browser(people.admin).get("/reports/weekly?week=2026-W10&lang=en"))
    assert "2026-W10 (2026-03-02 – 2026-03-08) · Whole company" in row(html, "report-scope")
    pipeline = section(html, "week-pipeline")
    evaluate = re.search(r"<tr>\s*<th scope=\"row\">Evaluate</th>(.*?)</tr>", pipeline, re.S)
    assert evaluate and plain(evaluate.group(1)).split() == [
        "2", "0", "+2", "¥160,000", "¥0", "+¥160,000", "¥40,000", "¥0", "+¥40,000",
    ]  # fmt: skip
    assert cells(html, "count-advanced") == ["Advanced", "5", "3", "+2"]  # W09: E's three advances
    assert cells(html, "count-created") == ["Created", "1", "1", "0"]
    assert cells(html, "count-reopened") == ["Reopened", "0", "0", "0"]
    assert "changes-reopened" not in html  # no list for a kind the week did not have


def test_each_change_says_from_what_to_what_who_when_and_links_to_the_deal(
    week: Any, browser: Any, people: People
) -> None:
    html = text(browser(people.admin).get("/reports/weekly?week=2026-W10"))
    lost = section(html, "changes-lost")
    assert f'<a href="/deals/{week["A"].id}">A</a>' in lost
    assert "报价 → 输单 竞争对手胜出 管理员 2026-03-06 10:00" in plain(lost)  # local time, the reason's label
    assert "B 2026-03-31 → 2026-04-30" in plain(section(html, "changes-close_date_slipped"))
    assert "C ¥50,000 → ¥60,000" in plain(section(html, "changes-amount_changed"))
    assert "B — → 出其不意" in plain(section(html, "changes-strategy_changed"))
    assert "A — → 确认 王芳 2026-03-02 07:00" in plain(section(html, "changes-created"))


def test_a_long_list_of_changes_says_how_many_more_there_are(
    week: Any, browser: Any, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(weekly, "ROWS_PER_KIND", 2)
    html = text(browser(people.admin).get("/reports/weekly?week=2026-W10&lang=en"))
    advanced = section(html, "changes-advanced")
    assert plain(advanced).count("→") == 2 and "and 3 more" in plain(advanced)


def test_the_weekly_report_defaults_to_the_last_full_week_against_the_one_before(
    app: Any, browser: Any, people: People
) -> None:
    html = text(browser(people.admin).get("/reports/weekly"))
    with app.test_request_context():
        last = last_full_week(today())
    assert f"{last.week_label()} ({last.first} – {last.last})" in row(html, "report-scope")
    assert f'value="{last.week_label()}"' in section(html, "report-filters")
    assert f'value="{last.previous_week().week_label()}"' in section(html, "report-filters")


def test_the_weekly_trend_ends_with_the_chosen_week(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get("/reports/weekly?week=2026-W10"))
    weeks = re.findall(r'<th scope="row">(\d{4}-W\d{2})</th>', section(html, "week-trend"))
    assert len(weeks) == 12 and weeks[-2:] == ["2026-W09", "2026-W10"]
    assert "2026-W10 3 ¥230,000 ¥92,500" in plain(section(html, "week-trend"))


# ---- By strategy, by rep, stalled, forecast ---------------------------------------------------------------------


def test_outcomes_per_strategy_and_lost_deals_by_stage_and_reason(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get(f"/reports/strategy?{W10}&lang=en"))
    assert cells(html, "strategy-none") == [
        "No strategy chosen", "1", "¥300,000", "1", "¥80,000", "50% (1 / 2) small sample", "¥300,000", "65.0",
    ]  # fmt: skip
    assert cells(html, "strategy-flanking")[5] == "— (0 / 0)"  # B is flanking, but undecided
    assert 'class="small-sample"' in section(html, "by-strategy")
    assert plain(section(html, "lost-reasons")).endswith("Propose Competitor won 1 ¥80,000")


def test_reps_side_by_side_sort_by_any_column_from_the_url(week: Any, browser: Any, people: People) -> None:
    client = browser(people.admin)
    html = text(client.get(f"/reports/reps?{W10}&sort=-won"))
    order = re.findall(r'<tr id="rep-(\d+)">', html)
    assert order[0] == str(people.outsider.id)  # D's owner won the only deal
    assert cells(html, f"rep-{people.rep_b.id}")[:9] == ["张伟", "0", "1", "0", "1", "0", "2", "¥130,000", "¥67,500"]
    by_lost = re.findall(r'<tr id="rep-(\d+)">', text(client.get(f"/reports/reps?{W10}&sort=-lost")))
    assert by_lost[0] == str(people.rep.id)
    by_name = re.findall(r'<tr id="rep-(\d+)">', text(client.get(f"/reports/reps?{W10}&sort=name")))
    assert by_name == sorted(by_name, key=lambda i: db.session.get(type(people.rep), int(i)).name)
    # The sorted column says so, and its heading links to the other direction, keeping the filters.
    won_header = re.search(r'<th scope="col" class="num" aria-sort="descending">\s*<a href="([^"]+)"', html)
    assert won_header and query(won_header.group(1)) == {
        "period": ["custom"], "from": ["2026-03-02"], "to": ["2026-03-08"], "sort": ["won"],
    }  # fmt: skip


def test_a_reps_name_opens_their_own_funnel_for_the_same_period(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.lead).get(f"/reports/reps?{W10}"))
    link = re.search(rf'<tr id="rep-{people.rep.id}">\s*<th scope="row"><a href="([^"]+)"', html)
    assert link and query(link.group(1)) == {
        "period": ["custom"], "from": ["2026-03-02"], "to": ["2026-03-08"], "rep": [str(people.rep.id)],
    }  # fmt: skip
    funnel = text(browser(people.lead).get(link.group(1).replace("&amp;", "&")))
    assert cells(funnel, "stage-evaluate")[1:3] == ["1", "¥100,000"]  # B only: C is 张伟's


def test_stalled_deals_list_the_oldest_first_with_owner_and_next_step(
    browser: Any, people: People, make_deal: Any
) -> None:
    old = make_deal(people.rep, title="老项目", next_step="回访张总", next_step_due=today() - timedelta(days=1))
    older = make_deal(people.rep_b, title="更老的项目")
    make_deal(people.rep, title="新项目")
    for deal, days in ((old, 20), (older, 40)):
        deal.stage_entered_at = utcnow() - timedelta(days=days)
    db.session.commit()
    html = text(browser(people.lead).get("/reports/stalled"))
    qualify = section(html, "stalled-qualify")
    assert re.findall(r'<a href="/deals/\d+">(.*?)</a>', qualify) == ["更老的项目", "老项目"]
    assert "王芳" in plain(qualify) and "回访张总" in plain(qualify) and "逾期" in plain(qualify)
    assert "新项目" not in html


def test_the_forecast_puts_open_deals_in_their_expected_month(browser: Any, people: People, make_deal: Any) -> None:
    month = today().replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    make_deal(people.rep, title="下月", amount=Decimal("100000"), expected_close_date=next_month)
    make_deal(people.rep, title="无日期", amount=Decimal("5000"))
    html = text(browser(people.rep).get("/reports/forecast"))
    assert cells(html, f"forecast-{next_month:%Y-%m}") == [f"{next_month:%Y-%m}", "1", "¥100,000", "¥10,000", ""]
    assert cells(html, "forecast-no_date")[1:3] == ["1", "¥5,000"]
    assert cells(html, "forecast-total") == ["进行中金额", "2", "¥105,000", "¥10,500", ""]


# ---- Filters in the URL -----------------------------------------------------------------------------------------


def test_the_filters_round_trip_through_the_url(week: Any, browser: Any, people: People) -> None:
    url = f"/reports/funnel?period=custom&{W10}&rep={people.rep_b.id}&strategy=frontal"
    html = text(browser(people.lead).get(url))
    form = section(html, "report-filters")
    assert '<option selected value="custom">' in form
    assert 'value="2026-03-02"' in form and 'value="2026-03-08"' in form
    assert f'<option selected value="{people.rep_b.id}">' in form and '<option selected value="frontal">' in form
    assert "张伟 · 正面出击" in row(html, "report-scope")
    links = {urlsplit(h).path: query(h) for h in hrefs(section(html, "main")) if h.startswith("/reports/")}
    expected = {"rep": [str(people.rep_b.id)], "strategy": ["frontal"]}
    period = {"period": ["custom"], "from": ["2026-03-02"], "to": ["2026-03-08"]}
    assert links["/reports/strategy"] == {**expected, **period}
    assert links["/reports/weekly"] == expected and links["/reports/stalled"] == expected  # they take no period


def test_a_preset_shows_the_dates_it_stands_for(app: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get("/reports/strategy?period=last_week&from=2020-01-01"))
    with app.test_request_context():
        last = preset_period("last_week", today())
    assert row(html, "report-scope").startswith(f"{last.first} – {last.last}")  # the preset wins over the dates
    assert f'value="{last.first}"' in section(html, "report-filters")


@pytest.mark.parametrize(
    ("url", "field", "message"),
    [
        ("/reports/funnel?from=2026-02-30&to=2026-03-08", "from", "Enter a date such as 2026-03-02."),
        ("/reports/funnel?period=custom&from=2026-03-02", "to", "A custom period needs both dates."),
        ("/reports/strategy?from=2026-03-09&to=2026-03-02", "to", "The last day must not be before the first."),
        ("/reports/reps?from=1899-12-31&to=2026-03-02", "from", "Enter a date from 2000-01-01 to 2099-12-31."),
        ("/reports/weekly?week=2026-W60", "week", "Enter an ISO week such as 2026-W47."),
        ("/reports/weekly?week=2026-W10&compare=last", "compare", "Enter an ISO week such as 2026-W47."),
        ("/reports/weekly?week=1999-W52", "week", "Enter a week from 2000 to 2099."),
        ("/reports/funnel?period=fortnight", "period", "Choose one of the periods offered."),
        ("/reports/reps?sort=shoe_size", "sort", "Sort by one of the table's columns."),
        ("/reports/stalled?strategy=bribery", "strategy", "Choose one of the five strategies."),
        ("/reports/forecast?rep=me", "rep", "Choose a rep from the list."),
    ],
)
def test_a_filter_that_cannot_be_read_is_named_on_the_page(
    browser: Any, people: People, url: str, field: str, message: str
) -> None:
    response = browser(people.admin).get(f"{url}&lang=en")
    assert response.status_code == 400
    html = text(response)
    assert message in unescape(plain(section(html, "report-filters")))
    if field != "sort":  # sort has no field of its own: the summary names it
        assert re.search(rf'<(?:input|select)[^>]*\baria-invalid="true"[^>]*\bid="{field}"', html), field
    assert "report-scope" not in html  # no figures for a report that was not asked for properly


def test_every_filter_field_has_a_label(browser: Any, people: People) -> None:
    for path in ("/reports/funnel", "/reports/weekly", "/reports/reps", "/reports/stalled"):
        form = section(text(browser(people.admin).get(path)), "report-filters")
        ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
        assert ids, path
        for element_id in ids:
            if f'id="{element_id}" name="sort" type="hidden"' in form:
                continue
            assert f'<label for="{element_id}">' in form, (path, element_id)


# ---- Who sees what ----------------------------------------------------------------------------------------------


def test_a_rep_sees_only_their_own_figures_and_no_one_elses(week: Any, browser: Any, people: People) -> None:
    client = browser(people.rep)
    html = text(client.get(f"/reports/reps?{W10}"))
    assert re.findall(r'<tr id="rep-(\d+)">', html) == [str(people.rep.id)]
    assert 'id="team"' not in html and 'id="rep"' not in html  # nothing to choose
    funnel = text(client.get(f"/reports/funnel?{W10}"))
    assert cells(funnel, "stage-evaluate")[1:3] == ["1", "¥100,000"]  # B; C is 张伟's
    assert row(funnel, "report-scope").endswith("王芳")
    for other in (f"rep={people.rep_b.id}", f"team={people.rep.team_id}", f"rep={people.outsider.id}"):
        for page in ("funnel", "weekly", "strategy", "reps", "stalled", "forecast"):
            assert client.get(f"/reports/{page}?{other}").status_code == 404, (page, other)


def test_a_lead_sees_their_team_or_one_of_its_reps_and_nothing_else(week: Any, browser: Any, people: People) -> None:
    client = browser(people.lead)
    html = text(client.get(f"/reports/reps?{W10}"))
    shown = set(re.findall(r'<tr id="rep-(\d+)">', html))
    assert shown == {str(people.lead.id), str(people.rep.id), str(people.rep_b.id)}
    assert 'id="team"' not in html  # a lead's reports are their team's
    options = re.findall(r'<option[^>]*value="(\d+)"', section(html, "report-filters"))
    assert set(options) == shown
    weekly_page = text(client.get("/reports/weekly?week=2026-W10"))
    assert "changes-won" in weekly_page and ">D</a>" not in weekly_page  # D is the other team's
    assert client.get(f"/reports/funnel?rep={people.rep_b.id}").status_code == 200
    assert client.get(f"/reports/funnel?rep={people.outsider.id}").status_code == 404
    assert client.get(f"/reports/funnel?team={people.outsider.team_id}").status_code == 404
    assert client.get("/reports/funnel?rep=999999").status_code == 404


def test_an_admin_may_look_at_any_team_or_rep(week: Any, browser: Any, people: People) -> None:
    client = browser(people.admin)
    other_team = text(client.get(f"/reports/funnel?{W10}&team={people.outsider.team_id}"))
    assert row(other_team, "outcome-won") == "1 · ¥300,000"  # D, 华南's
    assert row(other_team, "report-scope").endswith("华南")
    mismatch = client.get(f"/reports/funnel?team={people.outsider.team_id}&rep={people.rep.id}")
    assert mismatch.status_code == 404  # 王芳 is not in 华南


# ---- Languages, navigation, cost --------------------------------------------------------------------------------


def test_labels_follow_the_pages_language(week: Any, browser: Any, people: People) -> None:
    client = browser(people.admin)
    english = text(client.get(f"/reports/strategy?{W10}&lang=en"))
    assert "Propose Competitor won 1 ¥80,000" in plain(section(english, "lost-reasons"))
    assert "Flanking" in plain(section(english, "by-strategy"))
    chinese = text(client.get(f"/reports/strategy?{W10}&lang=zh"))
    assert "报价 竞争对手胜出 1 ¥80,000" in plain(section(chinese, "lost-reasons"))
    assert "出其不意" in plain(section(chinese, "by-strategy"))
    funnel = text(client.get(f"/reports/funnel?{W10}&lang=en"))
    assert cells(funnel, "stage-evaluate")[0] == "Evaluate" and "Conversion" in funnel


def test_every_page_links_to_the_reports(browser: Any, people: People) -> None:
    html = text(browser(people.rep).get("/board?lang=en"))
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert nav and '<a href="/reports/funnel">Reports</a>' in nav.group(0)


PAGES = ("funnel", "weekly", "strategy", "reps", "stalled", "forecast")


@pytest.mark.parametrize("page", PAGES)
def test_a_report_costs_the_same_number_of_queries_for_3_or_30_deals(
    app: Any, page: str, browser: Any, people: People, make_deal: Any, tick_stage: Any
) -> None:
    def busy(first: int, n: int) -> None:
        for i in range(first, first + n):
            owner = (people.rep, people.rep_b, people.lead)[i % 3]
            deal = make_deal(owner, title=f"项目{i}", amount=Decimal(1000 + i), strategy="frontal" if i % 2 else None)
            services.update_deal(owner, deal, {"amount": Decimal(2000 + i)}, None)
            if i % 3 == 0:
                tick_stage(owner, deal)
                services.move(owner, deal, "advance")
            elif i % 3 == 1:
                services.move(owner, deal, "lose", lost_reason="price")
            deal.stage_entered_at = utcnow() - timedelta(days=40)
            db.session.commit()

    with app.test_request_context():
        this_week = preset_period("this_week", today()).week_label()
    url = {"weekly": f"/reports/weekly?week={this_week}", "stalled": "/reports/stalled"}.get(page, f"/reports/{page}")
    client: FlaskClient = browser(people.lead)
    busy(0, 3)
    client.get(url)  # warm-up: first-request checks are not the page's cost
    with counting_statements() as few:
        small = text(client.get(url))
    busy(3, 27)
    with counting_statements() as many:
        large = text(client.get(url))
    assert len(many) == len(few), many
    assert small != large  # the thirty deals are in the report
    if page in ("weekly", "stalled"):
        assert "项目29" in large  # their rows are listed too


# ---- Charts, and their numbers in the tables beside them ---------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def chart(html: str, chart_id: str) -> ET.Element:
    """The chart with this id, parsed (so it is well-formed SVG)."""
    match = re.search(rf'<svg[^>]*\bid="{chart_id}".*?</svg>', html, re.S)
    assert match, f"no #{chart_id} chart on the page"
    return ET.fromstring(match.group(0))


def summary(svg: ET.Element) -> str:
    """What a chart says it shows (its accessible description)."""
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    return "".join(desc.itertext())


def test_the_funnels_charts_draw_the_numbers_of_its_table(week: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get(f"/reports/funnel?{W10}"))
    deals = summary(chart(html, "funnel-chart"))
    assert "考察: 2 · ¥160,000 → 66.7%" in deals and "跟进: 2 · ¥340,000" in deals
    assert cells(html, "stage-evaluate")[1:3] == ["2", "¥160,000"] and cells(html, "stage-evaluate")[9] == "66.7%"
    conversion = summary(chart(html, "conversion-chart"))
    assert "考察: 66.7% (2 / 3)" in conversion and "报价: 0% (0 / 1)" in conversion
    assert cells(html, "stage-evaluate")[7:9] == ["3", "2"]  # entered, reached next: the bar's counts


def test_win_rates_by_strategy_are_drawn_muted_when_the_sample_is_small(
    week: Any, browser: Any, people: People
) -> None:
    html = text(browser(people.admin).get(f"/reports/strategy?{W10}&lang=en"))
    svg = chart(html, "win-rate-chart")
    assert "No strategy chosen: 50% (1 / 2)" in summary(svg) and "Frontal: —" in summary(svg)
    bars = [r for r in svg.iter(f"{SVG}rect") if "chart-bar" in r.get("class", "").split()]
    assert len(bars) == 1 and "chart-bar-muted" in bars[0].get("class", "")  # 2 decided: a small sample
    assert cells(html, "strategy-none")[5].startswith("50% (1 / 2)")


def test_the_trend_and_the_forecast_are_drawn_beside_their_tables(
    week: Any, browser: Any, people: People, make_deal: Any
) -> None:
    client = browser(people.admin)
    weekly_page = text(client.get("/reports/weekly?week=2026-W10&lang=en"))
    assert "2026-W10 ¥230,000" in summary(chart(weekly_page, "trend-chart"))
    assert "2026-W10 3 ¥230,000 ¥92,500" in plain(section(weekly_page, "week-trend"))
    month = today().replace(day=1)
    make_deal(people.rep, title="本月", amount=Decimal("80000"), expected_close_date=month)
    forecast = text(client.get("/reports/forecast?lang=en"))
    assert f"{month:%Y-%m} ¥80,000" in summary(chart(forecast, "forecast-chart"))
    assert cells(forecast, f"forecast-{month:%Y-%m}")[1:3] == ["1", "¥80,000"]


def test_a_chart_with_nothing_to_draw_says_so(browser: Any, people: People) -> None:
    html = text(browser(people.rep).get("/reports/forecast?lang=en"))
    assert summary(chart(html, "forecast-chart")) == "Nothing to show for these months."
