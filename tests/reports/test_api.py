"""The report API on the hand-built week of conftest.py: the same arguments and figures as the pages, as JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.auth.models import User
from pipeline.core.models import utcnow
from pipeline.extensions import db
from tests.conftest import People
from tests.pages import plain, section, text

W10 = "from=2026-03-02&to=2026-03-08"
REPORTS = ("funnel", "weekly", "strategy", "reps", "stalled", "forecast")
Get = Callable[..., Any]


@pytest.fixture
def get(client: FlaskClient, token_for: Callable[[User], dict[str, str]]) -> Get:
    """GET a report as `user`; returns the response."""

    def call(user: User, path: str) -> Any:
        return client.get(f"/api/v1/reports/{path}", headers=token_for(user))

    return call


def test_the_funnel_gives_each_stages_figures_money_as_strings_and_rates_as_decimals(
    week: Any, get: Get, people: People
) -> None:
    body = get(people.admin, f"funnel?{W10}").json
    assert body["period"] == {"first": "2026-03-02", "last": "2026-03-08"}
    stages = {s["stage"]: s for s in body["stages"]}
    evaluate = stages["evaluate"]
    assert (evaluate["count"], evaluate["amount"], evaluate["weighted"]) == (2, "160000.00", "40000.00")
    assert evaluate["conversion"] == {"entered": 3, "reached_next": 2, "lost_here": 0, "rate": "0.6667"}
    assert stages["propose"]["conversion"]["lost_here"] == 1 and stages["follow_up"]["conversion"] is None
    assert (stages["qualify"]["stays"], stages["qualify"]["days_median"]) == (4, pytest.approx(1.125))
    assert body["outcomes"] == {
        "won": 1,
        "won_amount": "300000.00",
        "lost": 1,
        "lost_amount": "80000.00",
        "decided": 2,
        "win_rate": "0.5000",
        "small_sample": True,
        "avg_won": "300000.00",
        "cycle_days": pytest.approx(65.0),
    }
    assert body["open"] == {"count": 3, "amount": "230000.00", "weighted": "92500.00"}
    assert body["velocity"] == "6923.08"
    assert body["scope"] == {"team_id": None, "rep_id": None, "strategy": None}


def test_the_api_and_the_page_show_the_same_figures(week: Any, get: Get, browser: Any, people: People) -> None:
    args = f"{W10}&rep={people.rep.id}"
    body = get(people.lead, f"funnel?{args}").json
    page = text(browser(people.lead).get(f"/reports/funnel?{args}"))
    for stage in body["stages"]:
        shown = plain(section(page, f"stage-{stage['stage']}")).split()
        assert shown[1] == str(stage["count"]), stage["stage"]
        assert Decimal(shown[2].lstrip("¥").replace(",", "")) == Decimal(stage["amount"]), stage["stage"]
    assert plain(section(page, "outcome-win-rate")).startswith("0% (0 / 1)")  # 王芳 lost A
    assert (body["outcomes"]["win_rate"], body["outcomes"]["decided"]) == ("0.0000", 1)


def test_the_weekly_report_counts_and_lists_each_kind_of_change(week: Any, get: Get, people: People) -> None:
    body = get(people.admin, "weekly?week=2026-W10").json
    assert (body["week"]["week"], body["compare"]["week"]) == ("2026-W10", "2026-W09")
    counts = {c["kind"]: (c["count"], c["compare_count"]) for c in body["changes"]}
    assert counts["advanced"] == (5, 3) and counts["won"] == (2, 1) and counts["reopened"] == (0, 0)
    lost = next(c for c in body["changes"] if c["kind"] == "lost")["rows"][0]
    assert (lost["deal_id"], lost["from_value"], lost["to_value"], lost["note"]) == (
        week["A"].id,
        "propose",
        "lost",
        "competitor",
    )
    assert lost["user_name"] == people.admin.name and lost["at"] == "2026-03-06T02:00:00+00:00"
    evaluate = next(s for s in body["stages"] if s["stage"] == "evaluate")
    assert (evaluate["now"]["count"], evaluate["before"]["count"], evaluate["change"]["count"]) == (2, 0, 2)
    assert body["open"]["change"] == {"count": -1, "amount": "-290000.00", "weighted": "-200000.00"}
    assert [p["week"]["week"] for p in body["trend"]][-2:] == ["2026-W09", "2026-W10"]
    assert body["trend"][-1]["open"] == body["open"]["now"]
    against = get(people.admin, "weekly?week=2026-W10&compare=2026-W11").json
    assert against["compare"]["week"] == "2026-W11"


def test_outcomes_by_strategy_and_lost_reasons_in_the_callers_language(week: Any, get: Get, people: People) -> None:
    people.admin.locale = "en"
    db.session.commit()
    body = get(people.admin, f"strategy?{W10}").json
    assert [s["strategy"] for s in body["strategies"]] == [
        "frontal", "flanking", "divide_and_conquer", "develop_for_future", "fortify_to_defend", None,
    ]  # fmt: skip
    none = body["strategies"][-1]
    assert (none["strategy_label"], none["outcomes"]["win_rate"], none["outcomes"]["decided"]) == (None, "0.5000", 2)
    assert body["strategies"][1]["strategy_label"] == "Flanking"
    assert body["lost"] == [
        {
            "stage": "propose",
            "stage_label": "Propose",
            "reason": "competitor",
            "reason_label": "Competitor won",
            "count": 1,
            "amount": "80000.00",
        }
    ]


def test_reps_side_by_side_sorted_as_asked(week: Any, get: Get, people: People) -> None:
    body = get(people.admin, f"reps?{W10}&sort=-won").json
    assert body["sort"] == "-won" and body["reps"][0]["rep_id"] == people.outsider.id
    zhang = next(r for r in body["reps"] if r["rep_id"] == people.rep_b.id)
    assert zhang["open"] == {"count": 2, "amount": "130000.00", "weighted": "67500.00"}
    assert [s["stage"] for s in zhang["stages"]] == ["qualify", "evaluate", "propose", "close", "follow_up"]
    by_lost = get(people.admin, f"reps?{W10}&sort=-lost").json["reps"]
    assert by_lost[0]["rep_id"] == people.rep.id
    ascending = [r["name"] for r in get(people.admin, f"reps?{W10}&sort=name").json["reps"]]
    assert ascending == sorted(ascending)


def test_stalled_deals_and_the_forecast(get: Get, people: People, make_deal: Any) -> None:
    deal = make_deal(people.rep, title="老项目", amount=Decimal("5000"))
    deal.stage_entered_at = utcnow() - timedelta(days=20)
    db.session.commit()
    stalled = get(people.rep, "stalled").json
    qualify = stalled["stages"][0]
    assert (qualify["stage"], qualify["threshold"], qualify["count"], qualify["more"]) == ("qualify", 14, 1, 0)
    assert (qualify["deals"][0]["title"], qualify["deals"][0]["days"]) == ("老项目", 20)
    forecast = get(people.rep, "forecast").json
    undated = next(r for r in forecast["rows"] if r["key"] == "no_date")
    assert (undated["count"], undated["amount"], undated["won"]) == (1, "5000.00", None)
    assert forecast["open_amount"] == "5000.00" and forecast["as_of"] == stalled["as_of"]


def test_a_rep_gets_their_own_figures_and_404_for_anyone_elses(week: Any, get: Get, people: People) -> None:
    mine = get(people.rep, f"funnel?{W10}").json
    assert mine["scope"]["rep_id"] == people.rep.id
    assert next(s for s in mine["stages"] if s["stage"] == "evaluate")["count"] == 1  # B only
    assert [r["rep_id"] for r in get(people.rep, f"reps?{W10}").json["reps"]] == [people.rep.id]
    for report in REPORTS:
        for other in (f"rep={people.rep_b.id}", f"team={people.rep.team_id}", f"rep={people.outsider.id}"):
            response = get(people.rep, f"{report}?{other}")
            assert response.status_code == 404 and "error" in response.json, (report, other)


def test_a_lead_gets_their_team_or_one_of_its_reps(week: Any, get: Get, people: People) -> None:
    team = get(people.lead, f"funnel?{W10}").json
    assert team["scope"]["team_id"] == people.lead.team_id
    assert team["outcomes"]["won"] == 0  # D is 华南's
    assert get(people.lead, f"funnel?rep={people.rep_b.id}").json["scope"]["rep_id"] == people.rep_b.id
    assert get(people.lead, f"funnel?rep={people.outsider.id}").status_code == 404
    assert get(people.lead, f"weekly?team={people.outsider.team_id}").status_code == 404
    assert get(people.admin, f"funnel?{W10}&team={people.outsider.team_id}").json["outcomes"]["won"] == 1


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ("funnel?from=2026-02-30&to=2026-03-08", "from"),
        ("funnel?from=2026-03-02", "to"),
        ("strategy?period=custom&from=2026-03-09&to=2026-03-02", "to"),
        ("reps?period=fortnight", "period"),
        ("weekly?week=2026-W60", "week"),
        ("weekly?week=9999-W52", "week"),  # its Sunday is past the last date Python knows
        ("weekly?compare=W10", "compare"),
        ("reps?sort=shoe_size", "sort"),
        ("stalled?strategy=bribery", "strategy"),
        ("forecast?team=one", "team"),
        ("funnel?rep=-3", "rep"),
    ],
)
def test_an_argument_that_cannot_be_read_is_a_400_naming_it(get: Get, people: People, args: str, field: str) -> None:
    response = get(people.admin, args)
    assert response.status_code == 400
    assert response.json["error"] == f"invalid input: {field}" and field in response.json["fields"]
    assert re.match(r"[A-Z][a-z ]+", response.json["fields"][field])  # a sentence in English, as all API errors


def test_the_reports_are_documented_with_their_arguments(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]
    for report, wanted in [
        ("funnel", {"period", "from", "to", "team", "rep", "strategy"}),
        ("weekly", {"week", "compare", "team", "rep", "strategy"}),
        ("reps", {"period", "from", "to", "team", "rep", "strategy", "sort"}),
        ("stalled", {"team", "rep", "strategy"}),
    ]:
        get = paths[f"/api/v1/reports/{report}"]["get"]
        assert {p["name"] for p in get["parameters"]} == wanted, report
        assert {"200", "400", "404"} <= set(get["responses"]), report


def test_reports_need_a_token(client: FlaskClient) -> None:
    for report in REPORTS:
        assert client.get(f"/api/v1/reports/{report}").status_code == 401


report_args = st.dictionaries(
    st.sampled_from(["period", "from", "to", "week", "compare", "team", "rep", "strategy", "sort"]),
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(["custom", "last_week", "2026-W10", "2026-03-02", "9999-12-31", "0001-W01", "1", "-won"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(report=st.sampled_from(REPORTS), args=report_args)
def test_no_query_causes_a_server_error(
    app: Flask, people: People, token_for: Callable[[User], dict[str, str]], report: str, args: dict[str, str]
) -> None:
    headers = app.extensions.setdefault("fuzz_headers", token_for(people.lead))
    response = app.test_client().get(f"/api/v1/reports/{report}", headers=headers, query_string=args)
    assert response.status_code in (200, 400, 404, 422), (report, args, response.get_data(as_text=True)[:300])
    assert response.status_code == 200 or "error" in response.json
