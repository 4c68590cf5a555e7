"""The weekly export on the web: the page, the download as each role, and who exported what."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pipeline.core.audit import AuditEvent
from pipeline.core.pages import today
from pipeline.deals.models import Deal
from pipeline.exports import services
from pipeline.exports.services import EXPORT_ACTION
from pipeline.extensions import db
from pipeline.reports.filters import last_full_week
from tests.conftest import People
from tests.exports.conftest import csv_rows, ids, sheet_ids, workbook
from tests.pages import plain, section, text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


EXPORTS = AuditEvent.action == EXPORT_ACTION


def logged() -> list[AuditEvent]:
    """The exports logged (sign-ins and refusals are in the audit log too: tests/security/test_v16_audit.py)."""
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(EXPORTS).order_by(AuditEvent.id)))


# ---- The download, as each role ---------------------------------------------------------------------------------


def test_a_rep_downloads_a_workbook_of_their_own_deals(board: dict[str, Deal], browser: Any, people: People) -> None:
    response = browser(people.rep).get("/exports/weekly/download?week=2026-W10")
    book = workbook(response)
    assert response.mimetype == XLSX
    assert book.sheetnames == ["汇总", "商机", "本周变化", "停滞"]
    assert sheet_ids(book) == ids(board, "rep", "rep_plain")  # not the lost one, nobody else's
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "pipeline-2026-W10-王芳.xlsx"
    assert response.content_length == len(response.data)


def test_a_lead_downloads_their_team_or_one_of_its_reps(board: dict[str, Deal], browser: Any, people: People) -> None:
    client = browser(people.lead)
    team = sheet_ids(workbook(client.get("/exports/weekly/download")))
    assert team == ids(board, "rep", "rep_plain", "rep_b", "lead")
    same_team = sheet_ids(workbook(client.get(f"/exports/weekly/download?team={people.lead.team_id}")))
    assert same_team == team
    one_rep = sheet_ids(workbook(client.get(f"/exports/weekly/download?rep={people.rep_b.id}")))
    assert one_rep == ids(board, "rep_b")
    frontal = sheet_ids(workbook(client.get("/exports/weekly/download?strategy=frontal")))
    assert frontal == ids(board, "rep", "rep_b")


def test_an_admin_downloads_the_whole_company_or_any_team(board: dict[str, Deal], browser: Any, people: People) -> None:
    client = browser(people.admin)
    assert sheet_ids(workbook(client.get("/exports/weekly/download"))) == ids(board, *board)
    other_team = client.get(f"/exports/weekly/download?team={people.outsider.team_id}")
    assert sheet_ids(workbook(other_team)) == ids(board, "outsider")
    assert "%E5%8D%8E%E5%8D%97" in other_team.headers["Content-Disposition"]  # 华南, in the file's name


@pytest.mark.parametrize(
    ("viewer", "args"),
    [
        ("rep", "rep={rep_b}"),
        ("rep", "team={team}"),
        ("lead", "team={other_team}"),
        ("lead", "rep={outsider}"),
        ("other_lead", "rep={rep}"),
        ("admin", "rep=999999"),
    ],
)
def test_deals_out_of_reach_are_404_and_nothing_is_logged(
    board: dict[str, Deal], browser: Any, people: People, viewer: str, args: str
) -> None:
    url = "/exports/weekly/download?" + args.format(
        rep=people.rep.id,
        rep_b=people.rep_b.id,
        outsider=people.outsider.id,
        team=people.rep.team_id,
        other_team=people.outsider.team_id,
    )
    response = browser(getattr(people, viewer)).get(url)
    assert response.status_code == 404
    assert "陈静的项目" not in text(response) and "张伟的项目" not in text(response)
    assert logged() == []


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ("week=2026-W60", "week", "Enter an ISO week such as 2026-W47."),
        ("week=1999-W52", "week", "Enter a week from 2000 to 2099."),
        ("format=pdf", "format", "Choose xlsx or csv."),
        ("lang=fr", "lang", "Choose the language of the file: zh, en."),
        ("rep=me", "rep", "Choose a rep from the list."),
        ("strategy=bribery", "strategy", "Choose one of the five strategies."),
    ],
)
def test_an_argument_that_cannot_be_read_is_a_400_naming_it(
    board: dict[str, Deal], browser: Any, people: People, args: str, field: str, message: str
) -> None:
    client = browser(people.admin)
    client.post("/lang", data={"lang": "en"})
    response = client.get(f"/exports/weekly/download?{args}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = text(response)
    assert message in plain(section(html, "export-form"))
    assert re.search(rf'<(?:input|select)[^>]*\baria-invalid="true"[^>]*\bid="{field}"', html), field
    assert logged() == []


def test_a_wrong_field_is_named_even_for_deals_out_of_reach(
    board: dict[str, Deal], browser: Any, people: People
) -> None:
    response = browser(people.rep).get(f"/exports/weekly/download?rep={people.rep_b.id}&format=pdf")
    assert response.status_code == 400 and 'id="format"' in text(response)


def test_the_csv_is_the_deals_with_a_bom_and_crlf_line_ends(
    board: dict[str, Deal], browser: Any, people: People
) -> None:
    response = browser(people.lead).get("/exports/weekly/download?format=csv&week=2026-W10")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "pipeline-2026-W10-" in response.headers["Content-Disposition"]
    assert unquote(response.headers["Content-Disposition"]).endswith("华东.csv")
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n") == 5  # a header and four deals
    rows = csv_rows(response)
    assert rows[0][0] == "商机编号"  # headers in the page's language
    assert {int(row[0]) for row in rows[1:]} == ids(board, "rep", "rep_plain", "rep_b", "lead")


def test_an_english_file_has_english_sheets_whatever_the_pages_language(
    board: dict[str, Deal], browser: Any, people: People
) -> None:
    client = browser(people.rep)
    client.post("/lang", data={"lang": "zh"})
    book = workbook(client.get("/exports/weekly/download?lang=en"))
    assert book.sheetnames == ["Summary", "Deals", "Changes this week", "Stalled"]
    assert book["Deals"]["A1"].value == "Deal ID"
    assert sheet_ids(book, "Deals") == ids(board, "rep", "rep_plain")


def test_the_file_language_defaults_to_the_pages(board: dict[str, Deal], browser: Any, people: People) -> None:
    client = browser(people.rep)
    client.post("/lang", data={"lang": "en"})
    assert workbook(client.get("/exports/weekly/download")).sheetnames[1] == "Deals"
    client.post("/lang", data={"lang": "zh"})
    assert workbook(client.get("/exports/weekly/download")).sheetnames[1] == "商机"


def test_each_download_is_logged_with_who_how_and_what(board: dict[str, Deal], browser: Any, people: People) -> None:
    browser(people.lead).get(f"/exports/weekly/download?week=2026-W10&rep={people.rep_b.id}&format=csv&lang=en")
    [event] = logged()
    assert (event.action, event.user_id, event.actor, event.via) == (
        "export.weekly",
        people.lead.id,
        people.lead.email,
        "web",
    )
    details = event.details
    assert (details["week"], details["owner_id"], details["team_id"], details["format"]) == (
        "2026-W10",
        people.rep_b.id,
        None,
        "csv",
    )
    assert details["rows"] == {"Deals": 1} and details["scope"] == "张伟" and details["lang"] == "en"
    assert details["file"] == "pipeline-2026-W10-张伟.csv"


def test_the_default_week_is_the_last_full_week(app: Any, board: dict[str, Deal], browser: Any, people: People) -> None:
    browser(people.rep).get("/exports/weekly/download")
    with app.test_request_context():
        assert logged()[0].details["week"] == last_full_week(today()).week_label()


def test_a_failed_export_sends_nothing_logs_nothing_and_leaves_no_file(
    board: dict[str, Deal], browser: Any, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    real = services.tempfile.TemporaryFile

    def temporary_file(*args: Any, **kwargs: Any) -> Any:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    def half_written(export: Any, fmt: str, out: Any, progress: Any = None) -> dict[str, int]:
        out.write(b"PK\x03\x04 half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(services.tempfile, "TemporaryFile", temporary_file)
    monkeypatch.setattr(services, "write_export", half_written)
    response = browser(people.rep).get("/exports/weekly/download")
    assert response.status_code == 500
    assert b"half a workbook" not in response.data and "Content-Disposition" not in response.headers
    assert len(opened) == 1 and opened[0].closed
    assert logged() == []


# ---- The page ---------------------------------------------------------------------------------------------------


def test_the_page_offers_the_last_full_week_and_every_field_has_a_label(app: Any, browser: Any, people: People) -> None:
    html = text(browser(people.admin).get("/exports/weekly?lang=en"))
    form = section(html, "export-form")
    with app.test_request_context():
        last = last_full_week(today())
    assert f'value="{last.week_label()}"' in form
    assert 'action="/exports/weekly/download"' in html and 'method="get"' in html
    ids_ = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
    assert set(ids_) == {"week", "team", "rep", "strategy", "format", "lang"}
    for element_id in ids_:
        assert f'<label for="{element_id}">' in form, element_id
    assert re.search(r'<button type="submit">\s*Download\s*</button>', form)
    assert '<option selected value="en">' in form  # the file's language: the page's
    assert '<option selected value="xlsx">' in form


def test_a_rep_chooses_no_team_or_rep_and_a_lead_only_their_teams_reps(browser: Any, people: People) -> None:
    rep_form = section(text(browser(people.rep).get("/exports/weekly")), "export-form")
    assert 'id="team"' not in rep_form and 'id="rep"' not in rep_form
    lead_form = section(text(browser(people.lead).get("/exports/weekly")), "export-form")
    assert 'id="team"' not in lead_form
    options = set(re.findall(r'<option[^>]*value="(\d+)"', section(lead_form, "rep")))
    assert options == {str(people.lead.id), str(people.rep.id), str(people.rep_b.id)}


def test_the_page_shows_what_its_url_asks_for_and_404s_out_of_reach(browser: Any, people: People) -> None:
    client = browser(people.lead)
    form = section(text(client.get(f"/exports/weekly?week=2026-W10&rep={people.rep.id}&format=csv")), "export-form")
    assert 'value="2026-W10"' in form and f'<option selected value="{people.rep.id}">' in form
    assert '<option selected value="csv">' in form
    assert client.get(f"/exports/weekly?rep={people.outsider.id}").status_code == 404
    assert client.get("/exports/weekly?week=W10").status_code == 400


def test_the_navigation_links_to_the_export(browser: Any, people: People) -> None:
    html = text(browser(people.rep).get("/board?lang=en"))
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert nav and '<a href="/reports/funnel">Reports</a>\n    <a href="/exports/weekly">Export</a>' in nav.group(0)


def test_the_weekly_report_downloads_the_week_and_deals_it_shows(
    board: dict[str, Deal], browser: Any, people: People
) -> None:
    client = browser(people.lead)
    html = text(client.get(f"/reports/weekly?week=2026-W10&compare=2026-W08&rep={people.rep.id}&strategy=frontal"))
    link = re.search(r'<a href="([^"]+)" id="download-week">', html)
    assert link, "no download link on the weekly report"
    url = unescape(link.group(1))
    assert urlsplit(url).path == "/exports/weekly/download"
    assert parse_qs(urlsplit(url).query) == {"week": ["2026-W10"], "rep": [str(people.rep.id)], "strategy": ["frontal"]}
    assert sheet_ids(workbook(client.get(url))) == ids(board, "rep")
    assert logged()[0].details["week"] == "2026-W10"


# ---- Who exported what ------------------------------------------------------------------------------------------


def recent(html: str) -> list[list[str]]:
    body = section(html, "recent-exports")
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    return [[plain(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


@pytest.fixture
def exported(
    board: dict[str, Deal], browser: Any, people: People, runner: FlaskCliRunner, tmp_path: Path, token_for: Any
) -> None:
    """Exports by 王芳 (web), 陈静 (web, CSV), 李经理 (API) and a command, in that order."""
    assert browser(people.rep).get("/exports/weekly/download?week=2026-W09").status_code == 200
    assert browser(people.outsider).get("/exports/weekly/download?week=2026-W10&format=csv").status_code == 200
    api = browser(people.lead).get("/api/v1/exports/weekly?week=2026-W11", headers=token_for(people.lead))
    assert api.status_code == 200
    result = runner.invoke(args=["export", "weekly", "--week", "2026-W12", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_a_lead_sees_their_teams_exports_only(exported: None, browser: Any, people: People) -> None:
    rows = recent(text(browser(people.lead).get("/exports/weekly?lang=en")))
    assert [(r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
        ("李经理", "API", "2026-W11", "华东", "xlsx", "4"),
        ("王芳", "Web", "2026-W09", "王芳", "xlsx", "2"),
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[0][0])  # local time, to the minute


def test_an_admin_sees_every_export_the_commands_too(exported: None, browser: Any, people: People) -> None:
    rows = recent(text(browser(people.admin).get("/exports/weekly?lang=en")))
    assert [(r[2], r[3]) for r in rows] == [
        ("Command line", "2026-W12"),
        ("API", "2026-W11"),
        ("Web", "2026-W10"),
        ("Web", "2026-W09"),
    ]
    assert rows[0][1].startswith("cli:") and rows[0][6] == "5"  # every deal on the board
    assert rows[1][5] == "xlsx" and rows[2][5] == "csv" and rows[2][6] == "1"


def test_a_rep_sees_their_own_exports(exported: None, browser: Any, people: People) -> None:
    assert [r[3] for r in recent(text(browser(people.rep).get("/exports/weekly")))] == ["2026-W09"]
    html = text(browser(people.rep_b).get("/exports/weekly?lang=en"))
    assert 'id="recent-exports"' not in html and "No exports yet." in html


def test_the_list_shows_the_latest_twenty(board: dict[str, Deal], browser: Any, people: People) -> None:
    client = browser(people.rep)
    for week in range(1, 23):
        assert client.get(f"/exports/weekly/download?format=csv&week=2026-W{week:02d}").status_code == 200
    assert db.session.scalar(select(func.count()).where(EXPORTS)) == 22
    weeks = [r[3] for r in recent(text(client.get("/exports/weekly")))]
    assert weeks == [f"2026-W{week:02d}" for week in range(22, 2, -1)]


def test_a_download_is_committed_with_the_request(board: dict[str, Deal], browser: Any, people: People) -> None:
    assert browser(people.rep).get("/exports/weekly/download").status_code == 200
    db.session.rollback()  # what the request only flushed would be gone now
    assert db.session.scalar(select(func.count()).where(EXPORTS)) == 1
