"""Two `pipeline serve` instances on one PostgreSQL database and one Redis behave as one app.

What the load balancer in front may do, send each request of one person to either instance, is done here
on purpose: a session from one works on the other, a move through one is seen and enforced by the other,
and failed sign-ins, API calls and uploads count or wait in one place for both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pipeline import create_app
from pipeline.accounts.models import Account
from pipeline.auth.services import issue_token
from pipeline.deals import services as deal_services
from pipeline.extensions import db
from tests.conftest import PASSWORDS, PG_URL, REDIS_URL, People, fresh_database, redis_keys
from tests.deploy.servers import Answer, Browser, Server, api, serving

if not PG_URL:
    pytest.skip(
        "PostgreSQL only (set PIPELINE_TEST_DATABASE_URL): several instances share one database server; "
        "a SQLite file is one machine's database, not what instances behind a load balancer share",
        allow_module_level=True,
    )

ACCOUNT_LIMIT, API_LIMIT = 3, 6


@dataclass
class Seeded:
    """What the database was seeded with."""

    movable: int = 0  # a rep's deal whose 确认 checklist is done
    unready: int = 0  # one whose checklist is not
    tokens: dict[str, str] = field(default_factory=dict)  # a token per test: none spends another's rate limit
    rep_name: str = ""


@dataclass
class Cluster:
    """Two instances, A and B, on one database and one Redis."""

    a: Server
    b: Server
    data: Seeded


def deal_path(deal_id: int) -> str:
    return f"/api/v1/deals/{deal_id}"


def _seed(url: str, into: Seeded) -> None:
    """The cast, two deals and the tokens, written the way every test writes them; then the app let go."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed", "PIPELINE_PASSWORD_PROFILE": "CHEAPEST"})
    with app.app_context():
        people = People()
        account = Account(name="上海华信科技有限公司", owner_id=people.rep.id)
        db.session.add(account)
        db.session.flush()
        movable = deal_services.create_deal(people.rep, account, "ERP 系统升级项目")
        unready = deal_services.create_deal(people.rep, account, "数据中心扩容")
        for item in deal_services.checklist_for(movable.stage):
            deal_services.set_checklist_item(people.rep, movable, item.key, True)
        into.tokens = {name: issue_token(people.rep, name) for name in ("moves", "gate", "limit")}
        into.tokens["import"] = issue_token(people.lead, "import")
        db.session.commit()
        into.movable, into.unready, into.rep_name = movable.id, unready.id, people.rep.name
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def cluster(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("two-instances")
    with redis_keys() as prefix, fresh_database(template_db, folder) as url:
        shared = {
            "PIPELINE_DATABASE_URL": url,
            "PIPELINE_REDIS_URL": REDIS_URL,
            "PIPELINE_REDIS_KEY_PREFIX": prefix,
            "PIPELINE_SECRET_KEY": "the-same-secret-on-every-instance",
            "PIPELINE_UPLOAD_DIR": str(folder / "uploads"),  # the folder every instance mounts
            "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
            "PIPELINE_API_RATE_LIMIT": f"{API_LIMIT} per minute",
        }
        data = Seeded()
        with serving([shared, shared], folder, "--workers", "1", meanwhile=lambda: _seed(url, data)) as (a, b):
            yield Cluster(a, b, data)


def move(server: Server, deal_id: int, trigger: str, version: int, token: str) -> Answer:
    return api(server, "POST", f"{deal_path(deal_id)}/transitions", token, {"trigger": trigger, "version": version})


def board_column(page: str, deal_id: int) -> str:
    """The stage of the board column showing the deal's card."""
    for column in page.split('<section class="board-column')[1:]:
        if f'id="deal-{deal_id}"' in column:
            found = re.search(r'id="stage-(\w+)"', column)
            assert found
            return found.group(1)
    raise AssertionError(f"deal {deal_id} is on no column")


def test_a_session_from_one_instance_works_on_the_other(cluster: Cluster) -> None:
    browser = Browser()  # one cookie jar for both: one site behind one address
    assert browser.sign_in(cluster.a, "rep@example.com", PASSWORDS["rep@example.com"]).status == 302
    board = browser.get(f"{cluster.b.url}/board")
    assert board.status == 200 and cluster.data.rep_name in board.body
    # a form drawn by A is accepted by B: the CSRF token lives in the session both can read
    signed_out = browser.submit(f"{cluster.a.url}/board", f"{cluster.b.url}/logout", {})
    assert signed_out.status == 302
    assert browser.get(f"{cluster.a.url}/board").status == 302  # signed out on both


def test_a_move_through_one_is_seen_and_enforced_by_the_other(cluster: Cluster) -> None:
    token, deal = cluster.data.tokens["moves"], cluster.data.movable
    read = api(cluster.a, "GET", deal_path(deal), token).json
    moved = move(cluster.a, deal, "advance", read["version"], token)
    assert moved.status == 200 and moved.json["deal"]["stage"] == "evaluate"
    seen = api(cluster.b, "GET", deal_path(deal), token).json
    assert seen["stage"] == "evaluate" and seen["version"] > read["version"]
    browser = Browser()
    browser.sign_in(cluster.b, "rep@example.com", PASSWORDS["rep@example.com"])
    assert board_column(browser.get(f"{cluster.b.url}/board").body, deal) == "evaluate"
    stale = move(cluster.b, deal, "revert", read["version"], token)  # the version A's caller read first
    assert stale.status == 409 and f"you have version {read['version']}" in stale.json["error"]
    assert api(cluster.a, "GET", deal_path(deal), token).json["stage"] == "evaluate"


def test_the_gate_refuses_the_same_on_both(cluster: Cluster) -> None:
    token, deal = cluster.data.tokens["gate"], cluster.data.unready
    version = api(cluster.a, "GET", deal_path(deal), token).json["version"]
    refusals = [move(server, deal, "advance", version, token) for server in (cluster.a, cluster.b)]
    assert [r.status for r in refusals] == [409, 409]
    missing = [sorted(m["key"] for m in r.json["missing"]) for r in refusals]
    assert missing[0] and missing[0] == missing[1]


def test_failed_sign_ins_count_across_both(cluster: Cluster) -> None:
    email, password = "rep2@example.com", PASSWORDS["rep2@example.com"]
    for n in range(ACCOUNT_LIMIT):
        assert Browser().sign_in((cluster.a, cluster.b)[n % 2], email, "not-the-password").status == 422
    for server in (cluster.b, cluster.a):
        refused = Browser().sign_in(server, email, password)  # even the right password, on either
        assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_api_rate_limit_counts_across_both(cluster: Cluster) -> None:
    token = cluster.data.tokens["limit"]
    for n in range(API_LIMIT):
        assert api((cluster.a, cluster.b)[n % 2], "GET", "/api/v1/deals", token).status == 200
    for server in (cluster.a, cluster.b):
        refused = api(server, "GET", "/api/v1/deals", token)
        assert refused.status == 429 and "too many API calls" in refused.json["error"]
        assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_an_upload_to_one_is_previewed_and_imported_on_the_other(cluster: Cluster) -> None:
    browser = Browser()
    browser.sign_in(cluster.a, "lead@example.com", PASSWORDS["lead@example.com"])
    csv = "姓名,手机,公司\r\n周建国,13800138000,北京远景咨询\r\n".encode()
    kept = browser.upload(f"{cluster.a.url}/imports/contacts", f"{cluster.a.url}/imports/contacts", "team.csv", csv)
    assert kept.status == 302
    token = re.search(r"upload=([A-Za-z0-9_-]{32})", kept.headers["Location"]).group(1)  # type: ignore[union-attr]
    preview = browser.get(f"{cluster.b.url}/imports/contacts/preview?upload={token}")
    assert preview.status == 200
    columns = re.search(r'name="columns" type="hidden" value="([^"]*)"', preview.body).group(1)  # type: ignore[union-attr]
    page = f"{cluster.b.url}/imports/contacts/preview?upload={token}"
    done = browser.submit(page, f"{cluster.b.url}/imports/contacts/confirm", {"upload": token, "columns": columns})
    assert done.status == 302
    accounts = api(cluster.a, "GET", "/api/v1/accounts", cluster.data.tokens["import"]).json
    assert "北京远景咨询" in json.dumps(accounts, ensure_ascii=False)
