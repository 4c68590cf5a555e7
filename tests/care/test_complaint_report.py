"""The complaints report against hand-computed answers: open per step, nearest-rank medians and 90th percentiles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient

from pipeline.auth.models import User
from pipeline.care.complaints import workflow as wf
from pipeline.care.complaints.report import complaint_report
from pipeline.care.models import Complaint
from pipeline.reports.periods import Period
from pipeline.reports.scope import ReportScope, scope_for
from tests.care.conftest import T0
from tests.conftest import People

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
CLOSE_AT = {"understand": 0.1, "propose": 0.2, "accept": 0.3}


@pytest.fixture
def march(people: People, make_complaint: Callable[..., Complaint]) -> dict[str, list[Complaint]]:
    """王芳: responses after 1, 2, 3, 4 and 10 hours, three of them closed after 5, 24 and 48 hours.
    张伟: responses after 0.5 and 6 hours, one still waiting. 陈静 (the other team): one. Plus one in February.
    """

    def handled(owner: User, day: int, response: float, resolution: float | None = None) -> Complaint:
        steps = {"understand": response}
        if resolution is not None:
            steps |= {"propose": response + 0.1, "accept": response + 0.2, "close": resolution}
        return make_complaint(owner, received=T0 + timedelta(days=day), steps=steps)

    return {
        "rep": [
            handled(people.rep, 0, 1, 24),
            handled(people.rep, 1, 2, 5),
            handled(people.rep, 2, 3),
            handled(people.rep, 3, 4, 48),
            handled(people.rep, 4, 10),
        ],
        "rep_b": [
            handled(people.rep_b, 5, 0.5),
            handled(people.rep_b, 6, 6),
            make_complaint(people.rep_b, received=T0 + timedelta(days=7)),
        ],
        "outsider": [handled(people.outsider, 1, 100, 200)],
        "february": [handled(people.rep, -10, 50, 60)],
    }


def test_the_teams_times_per_rep_and_overall(people: People, march: dict[str, list[Complaint]]) -> None:
    report = complaint_report(scope_for(people.lead), MARCH, now=T0 + timedelta(days=20))
    by_name = {r.name: r for r in report.reps}
    wang, zhang = by_name["王芳"], by_name["张伟"]
    assert (wang.received, wang.response.count, wang.resolution.count) == (5, 5, 3)
    assert wang.response.median == pytest.approx(3) and wang.response.p90 == pytest.approx(10)  # ranks 3 and 5 of 5
    assert wang.resolution.median == pytest.approx(24) and wang.resolution.p90 == pytest.approx(48)  # ranks 2, 3 of 3
    assert (zhang.received, zhang.response.count, zhang.resolution.count) == (3, 2, 0)
    assert zhang.response.median == pytest.approx(0.5) and zhang.response.p90 == pytest.approx(6)  # ranks 1 and 2 of 2
    assert zhang.resolution.median is None
    overall = report.overall  # responses 0.5 1 2 3 4 6 10: ranks ⌈3.5⌉ = 4 and ⌈6.3⌉ = 7
    assert (overall.received, overall.response.count) == (8, 7)
    assert overall.response.median == pytest.approx(3) and overall.response.p90 == pytest.approx(10)
    assert "陈静" not in by_name


def test_open_complaints_per_step_and_the_longest_waiting(people: People, march: dict[str, list[Complaint]]) -> None:
    report = complaint_report(scope_for(people.lead), MARCH, now=T0 + timedelta(days=20))
    assert report.open_by_state == {wf.RECEIVED: 1, wf.UNDERSTOOD: 4, wf.PROPOSED: 0, wf.ACCEPTED: 0}
    assert report.open_total == 5
    assert report.closed_in_period == 3  # 王芳's three; the February one closed 60 hours later, still in February
    oldest = [o.complaint.id for o in report.oldest_open]
    assert oldest == [
        march["rep"][2].id,
        march["rep"][4].id,
        march["rep_b"][0].id,
        march["rep_b"][1].id,
        march["rep_b"][2].id,
    ]
    assert report.oldest_open[0].waiting_hours == pytest.approx(18 * 24)


def test_a_reps_report_is_their_own(people: People, march: dict[str, list[Complaint]]) -> None:
    report = complaint_report(ReportScope(owner_id=people.rep_b.id), MARCH, now=T0)
    assert [r.name for r in report.reps] == ["张伟"]
    assert report.open_by_state[wf.RECEIVED] == 1 and report.open_total == 3


def test_the_report_page_shows_the_figures_and_refuses_a_rep_out_of_reach(
    people: People, march: dict[str, list[Complaint]], browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.lead)
    page = client.get("/reports/complaints?period=custom&from=2026-03-01&to=2026-03-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = html.split(f'id="times-rep-{people.rep.id}"')[1].split("</tr>")[0]
    assert ">5<" in row and ">3.0<" in row and ">10.0<" in row and ">24.0<" in row and ">48.0<" in row
    assert 'id="open-understood">4<' in html
    assert client.get(f"/reports/complaints?rep={people.outsider.id}").status_code == 404
    assert client.get("/reports/complaints?period=someday").status_code == 400
