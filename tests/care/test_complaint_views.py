"""The complaint pages as people use them: take one down, step it through, be refused, and never see another team's."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from pipeline.accounts.models import Account, Contact
from pipeline.auth.models import User
from pipeline.care.complaints import workflow as wf
from pipeline.care.models import Complaint
from pipeline.deals.models import Deal
from pipeline.extensions import db
from tests.conftest import People


def test_a_complaint_is_taken_down_from_the_deal_page_and_shown_on_the_deal_and_account(
    people: People, make_deal: Callable[..., Deal], browser: Callable[[User], FlaskClient]
) -> None:
    deal = make_deal(people.rep)
    contact = Contact(account_id=deal.account_id, name="周建国")
    db.session.add(contact)
    db.session.commit()
    client = browser(people.rep)
    deal_page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f"/complaints/new?deal_id={deal.id}" in deal_page
    form = client.get(f"/complaints/new?deal_id={deal.id}")
    assert form.status_code == 200 and f'<option selected value="{deal.id}">' in form.get_data(as_text=True)
    created = client.post(
        f"/complaints/new?account_id={deal.account_id}",
        data={"title": "安装拖延两周", "severity": "high", "deal_id": str(deal.id), "contact_id": str(contact.id)},
    )
    assert created.status_code == 302
    complaint = db.session.scalars(db.select(Complaint)).one()
    assert (complaint.deal_id, complaint.contact_id, complaint.owner_id) == (deal.id, contact.id, people.rep.id)
    assert "安装拖延两周" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "安装拖延两周" in client.get(f"/accounts/{deal.account_id}").get_data(as_text=True)


def test_a_new_complaint_without_a_title_says_so(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    account = make_account(people.rep)
    page = browser(people.rep).post(
        f"/complaints/new?account_id={account.id}", data={"title": "", "severity": "normal"}
    )
    assert page.status_code == 422
    assert 'id="title-error"' in page.get_data(as_text=True)
    assert db.session.scalars(db.select(Complaint)).first() is None


def test_the_steps_on_the_page_from_received_to_closed(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    complaint = make_complaint(people.rep)
    client = browser(people.rep)
    page = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert f"/complaints/{complaint.id}/steps/understand" in page and "/steps/propose" not in page
    for name, data in (
        ("understand", {"understand-core_issue": "客户真正在意的是上线日期"}),
        ("propose", {"propose-solution": "派两名工程师驻场，周五前完成"}),
        ("reject", {"reject-reason": "周五太晚，客户周三要演示"}),
        ("propose", {"propose-solution": "周二前完成，周三陪同演示"}),
        ("accept", {}),
        ("close", {"close-closing_note": "总经理亲自致歉，承诺以后提前确认排期"}),
    ):
        db.session.refresh(complaint)
        answer = client.post(
            f"/complaints/{complaint.id}/steps/{name}", data={f"{name}-version": complaint.version, **data}
        )
        assert answer.status_code == 302, (name, answer.get_data(as_text=True)[:500])
    db.session.refresh(complaint)
    assert complaint.state == wf.CLOSED and complaint.solution == "周二前完成，周三陪同演示"
    page = client.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "周五太晚，客户周三要演示" in page  # the rejection's reason stays in the history
    assert "派两名工程师驻场，周五前完成" in page  # and the rejected solution with it
    assert "/steps/" not in page


def test_a_step_without_its_text_is_refused_naming_it(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    complaint = make_complaint(people.rep)
    answer = browser(people.rep).post(
        f"/complaints/{complaint.id}/steps/understand",
        data={"understand-version": complaint.version, "understand-core_issue": "  "},
    )
    assert answer.status_code == 409
    missing = answer.get_data(as_text=True).split('id="missing"')[1].split("</ul>")[0]
    assert "核心事项" in missing
    db.session.refresh(complaint)
    assert complaint.state == wf.RECEIVED
    english = browser(people.rep).post(
        f"/complaints/{complaint.id}/steps/understand?lang=en",
        data={"understand-version": complaint.version, "understand-core_issue": ""},
    )
    assert "Core issue" in english.get_data(as_text=True).split('id="missing"')[1].split("</ul>")[0]


def test_a_stale_step_answers_409_and_changes_nothing(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    complaint = make_complaint(people.rep)
    seen = complaint.version
    client = browser(people.rep)
    first = client.post(
        f"/complaints/{complaint.id}/steps/understand",
        data={"understand-version": seen, "understand-core_issue": "交货延迟"},
    )
    assert first.status_code == 302
    again = client.post(
        f"/complaints/{complaint.id}/steps/understand",
        data={"understand-version": seen, "understand-core_issue": "别的说法"},
    )
    assert again.status_code == 409
    db.session.refresh(complaint)
    assert complaint.core_issue == "交货延迟"


def test_another_teams_complaint_is_404_to_see_and_to_step(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    theirs = make_complaint(people.outsider, title="外队的投诉")
    client = browser(people.rep)
    assert client.get(f"/complaints/{theirs.id}").status_code == 404
    step = client.post(
        f"/complaints/{theirs.id}/steps/understand",
        data={"understand-version": theirs.version, "understand-core_issue": "x"},
    )
    assert step.status_code == 404
    assert "外队的投诉" not in client.get("/complaints").get_data(as_text=True)
    db.session.refresh(theirs)
    assert theirs.state == wf.RECEIVED


def test_the_list_puts_open_first_and_filters_by_state(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    make_complaint(people.rep, title="已关闭的投诉", steps={"understand": 1, "propose": 2, "accept": 3, "close": 4})
    make_complaint(people.rep, title="刚收到的投诉")
    client = browser(people.rep)
    html = client.get("/complaints").get_data(as_text=True)
    assert html.index("刚收到的投诉") < html.index("已关闭的投诉")
    only_closed = client.get("/complaints?state=closed").get_data(as_text=True)
    assert "已关闭的投诉" in only_closed and "刚收到的投诉" not in only_closed
    assert client.get("/complaints?state=nonsense").status_code == 400


def test_a_lead_gives_a_complaint_to_a_teammate(
    people: People, make_complaint: Callable[..., Complaint], browser: Callable[[User], FlaskClient]
) -> None:
    complaint = make_complaint(people.rep)
    client = browser(people.lead)
    answer = client.post(
        f"/complaints/{complaint.id}/owner", data={"version": complaint.version, "owner_id": str(people.rep_b.id)}
    )
    assert answer.status_code == 302
    db.session.refresh(complaint)
    assert complaint.owner_id == people.rep_b.id
    outside = client.post(
        f"/complaints/{complaint.id}/owner", data={"version": complaint.version, "owner_id": str(people.outsider.id)}
    )
    assert outside.status_code == 422  # not among the choices a lead is offered


def test_the_moment_typed_is_the_teams_local_time_and_an_account_out_of_reach_is_404(
    people: People, make_account: Callable[..., Account], browser: Callable[[User], FlaskClient]
) -> None:
    client = browser(people.rep)
    mine, theirs = make_account(people.rep), make_account(people.outsider, "外队客户")
    answer = client.post(
        f"/complaints/new?account_id={mine.id}",
        data={"title": "电话投诉", "severity": "normal", "received_at": "2026-03-02T09:30"},
    )
    assert answer.status_code == 302
    complaint = db.session.scalars(db.select(Complaint)).one()
    assert complaint.received_at.isoformat() == "2026-03-02T01:30:00+00:00"  # 09:30 in Shanghai
    stolen = client.post(f"/complaints/new?account_id={theirs.id}", data={"title": "x", "severity": "normal"})
    assert stolen.status_code == 404
    assert "外队客户" not in client.get("/complaints/new").get_data(as_text=True)
