"""The satisfaction pages: the deal page's prompt after a win, the form naming each wrong field, the trends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask.testing import FlaskClient

from pipeline.accounts.models import Account
from pipeline.auth.models import User
from pipeline.care.models import SatisfactionSurvey
from pipeline.care.satisfaction import services as satisfaction
from pipeline.core.pages import today
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People


def test_a_won_deal_prompts_for_satisfaction_and_the_answers_land_on_it(
    people: People, make_deal: Callable[..., Deal], browser: Callable[[User], FlaskClient]
) -> None:
    deal = make_deal(people.rep)
    deal.stage, deal.won_on = "follow_up", date(2026, 6, 1)
    db.session.commit()
    client = browser(people.rep)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'id="survey-due"' in page
    form = client.get(f"/satisfaction/new?deal_id={deal.id}&occasion=won")
    assert form.status_code == 200 and "信赖度" in form.get_data(as_text=True)
    saved = client.post(
        f"/satisfaction/new?account_id={deal.account_id}",
        data={
            "occasion": "won",
            "answered_on": today().isoformat(),
            "deal_id": str(deal.id),
            "satisfaction": "4",
            "reliability": "5",
            "responsiveness": "3",
            "comment": "交付准时，培训很到位",
        },
    )
    assert saved.status_code == 302 and saved.location.endswith(f"/deals/{deal.id}#satisfaction")
    survey = db.session.scalars(db.select(SatisfactionSurvey)).one()
    assert (survey.satisfaction, survey.reliability, survey.assurance, survey.user_id) == (4, 5, None, people.rep.id)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'id="survey-due"' not in page and "交付准时，培训很到位" in page


def test_the_form_names_each_score_out_of_range(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    account = make_account(people.rep)
    page = browser(people.rep).post(
        f"/satisfaction/new?account_id={account.id}",
        data={"occasion": "won", "answered_on": today().isoformat(), "satisfaction": "9", "empathy": "0"},
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="satisfaction-error"' in html and 'id="empathy-error"' in html and 'id="reliability-error"' not in html
    assert db.session.scalars(db.select(SatisfactionSurvey)).first() is None


def test_the_trends_page_shows_averages_with_counts_and_keeps_accounts_out_of_reach_out(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    mine, theirs = make_account(people.rep), make_account(people.outsider, "外队客户")
    for day, score in ((date(2026, 4, 2), 5), (date(2026, 4, 20), 2)):
        satisfaction.record_survey(people.rep, mine, answered_on=day, today=day, satisfaction=score, tangibles=score)
    db.session.commit()
    client = browser(people.rep)
    page = client.get("/reports/satisfaction?period=custom&from=2026-04-01&to=2026-06-30&by=quarter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="satisfaction-chart"' in html  # the line, drawn on the server
    row = html.split('id="trend-2026-Q2"')[1].split("</tr>")[0]
    assert "3.50 <small>(2)</small>" in row
    assert client.get(f"/reports/satisfaction?account={theirs.id}").status_code == 404
    assert client.get(f"/reports/satisfaction?rep={people.outsider.id}").status_code == 404
    assert client.get("/reports/satisfaction?by=decade").status_code == 400
