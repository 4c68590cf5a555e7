"""The upload page: the preview (counts, columns, first rows, bad rows), the confirmation, and who may use an upload."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pipeline import create_app
from pipeline.accounts.models import Contact
from pipeline.auth.models import User
from pipeline.core.audit import AuditEvent
from pipeline.extensions import db
from pipeline.imports import uploads
from tests.conftest import People
from tests.imports.conftest import HEADER, contacts_by_name, write_csv

ROWS = [
    HEADER,
    ["张伟", "+86 138-0013-8000", "上海华信科技有限公司", "zw@huaxin.cn", "采购经理", "重要客户"],
    ["李娜", "139 1234 5678", "北京远景咨询", "", "", ""],
    ["张伟", "13800138000", "", "", "", "朋友"],
]


def upload(client: FlaskClient, path: Path, **extra: str) -> Any:
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **extra}
    return client.post("/imports/contacts", data=data, content_type="multipart/form-data")


def token_of(response: Any) -> str:
    found = re.search(r"upload=([A-Za-z0-9_-]{32})", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def cell(body: str, ident: str) -> str:
    found = re.search(rf'id="{ident}">([^<]*)<', body)
    assert found, ident
    return found.group(1).strip()


def contact_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Contact))


def test_upload_preview_and_confirm(browser: Callable[[User], FlaskClient], people: People, tmp_path: Path) -> None:
    client = browser(people.rep)
    page = client.get("/accounts").get_data(as_text=True)
    assert 'href="/imports/contacts"' in page
    form = client.get("/imports/contacts").get_data(as_text=True)
    assert '<label for="file">' in form and 'enctype="multipart/form-data"' in form
    assert '<label for="file">' in client.get("/imports/contacts/preview").get_data(as_text=True)  # nothing kept yet
    response = upload(client, write_csv(tmp_path / "通讯录.csv", ROWS, encoding="gb18030"))
    assert response.status_code == 302
    token = token_of(response)
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert [cell(body, f"count-{k}") for k in ("create", "merge", "skip", "bad", "accounts", "people")] == [
        "2",
        "1",
        "0",
        "0",
        "2",
        "0",
    ]
    assert "gb18030" in body and "张伟" in body and "+8613800138000" in body
    assert '<option selected value="1">手机</option>' in body  # the mobile column, recognised
    assert contact_count() == 0  # nothing changed yet
    confirm = re.search(r'name="columns" type="hidden" value="([^"]*)"', body).group(1)
    done = client.post("/imports/contacts/confirm", data={"upload": token, "encoding": "", "columns": confirm})
    assert done.status_code == 302 and done.headers["Location"].endswith("/accounts")
    landing = client.get("/accounts").get_data(as_text=True)
    assert "已导入 通讯录.csv：新建 2，合并 1，跳过 0。" in landing
    found = contacts_by_name()
    assert found["张伟"].account.owner_id == people.rep.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import_contacts"))
    assert event.via == "web" and event.user_id == people.rep.id
    # the kept file is gone: the token answers 404 now
    assert client.get(f"/imports/contacts/preview?upload={token}").status_code == 404


def test_changing_the_columns_changes_the_preview(
    browser: Callable[[User], FlaskClient], people: People, tmp_path: Path
) -> None:
    client = browser(people.rep)
    rows = [["Who", "Number", "Firm"], ["Ann", "13800138000", "Acme"], ["Bob", "13800138001", "Acme"]]
    token = token_of(upload(client, write_csv(tmp_path / "x.csv", rows)))
    body = client.get(f"/imports/contacts/preview?upload={token}").get_data(as_text=True)
    assert cell(body, "count-bad") == "2"  # no column recognised as the name: every row lacks one
    assert "Import 2 rows" not in body and "导入 2 行" not in body
    chosen = f"/imports/contacts/preview?upload={token}&col_name=0&col_mobile=1&col_company=2"
    body = client.get(chosen).get_data(as_text=True)
    assert cell(body, "count-bad") == "0" and cell(body, "count-create") == "2" and cell(body, "count-accounts") == "1"
    client.post("/imports/contacts/confirm", data={"upload": token, "columns": "name=0,mobile=1,company=2"})
    assert contacts_by_name()["Ann"].account.name == "Acme"


def test_bad_rows_are_listed_and_the_confirmation_refuses(
    browser: Callable[[User], FlaskClient], people: People, tmp_path: Path
) -> None:
    client = browser(people.rep)
    rows = [*ROWS[:2], ["", "12345", "", "", "", ""], ROWS[2]]
    token = token_of(upload(client, write_csv(tmp_path / "x.csv", rows)))
    body = client.get(f"/imports/contacts/preview?upload={token}").get_data(as_text=True)
    assert cell(body, "count-bad") == "1"
    assert re.search(r'<td class="num">3</td><td>[^<]*12345', body)
    assert 'action="/imports/contacts/confirm"' not in body
    confirm = "/imports/contacts/confirm?lang=en"
    refused = client.post(confirm, data={"upload": token, "columns": "name=0,mobile=1"})
    assert refused.status_code == 422 and "line 3" in refused.get_data(as_text=True)
    assert contact_count() == 0


def test_another_users_upload_is_404(
    app: Flask, browser: Callable[[User], FlaskClient], people: People, tmp_path: Path
) -> None:
    token = token_of(upload(browser(people.rep), write_csv(tmp_path / "x.csv", ROWS)))
    other = app.test_client()
    other.post("/login", data={"email": "lead@example.com", "password": "lead-pass-1"})
    assert other.get(f"/imports/contacts/preview?upload={token}").status_code == 404
    assert other.post("/imports/contacts/confirm", data={"upload": token, "columns": "name=0"}).status_code == 404
    assert contact_count() == 0


def test_unknown_kinds_of_files_are_refused_naming_the_field(
    browser: Callable[[User], FlaskClient], people: People, tmp_path: Path
) -> None:
    client = browser(people.rep)
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    response = client.post(
        "/imports/contacts?lang=en",
        data={"file": (io.BytesIO(b"\xff\xd8\xff"), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "A CSV, Excel (.xlsx) or vCard (.vcf) file" in response.get_data(
        as_text=True
    )
    assert client.post("/imports/contacts", data={}).status_code == 422


def test_old_uploads_are_swept(app: Flask, people: People) -> None:
    kept = uploads.keep(people.rep, io.BytesIO(b"a,b\n"), "x.csv")
    assert uploads.sweep(now=kept.path.stat().st_mtime + uploads.KEEP_SECONDS + 1) == 2
    assert not kept.path.exists()


class TestLimits:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAX_CONTENT_LENGTH": 10_000, "WTF_CSRF_ENABLED": True, "BABEL_DEFAULT_LOCALE": "en"}

    def test_too_large_a_file_is_413_and_csrf_is_checked(
        self, client: FlaskClient, people: People, tmp_path: Path
    ) -> None:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1", "csrf_token": token})
        path = write_csv(tmp_path / "x.csv", [*ROWS, *[["某人", "13800138000", "", "", "", ""]] * 2000])
        assert upload(client, path).status_code == 413
        small = write_csv(tmp_path / "y.csv", ROWS)
        assert upload(client, small).status_code == 400  # no CSRF token
        form = client.get("/imports/contacts").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        assert upload(client, small, csrf_token=token).status_code == 302


class TestSeveralInstances:
    """A load balancer may send the upload to one instance and the preview and confirmation to another."""

    @pytest.fixture
    def other_instance(self, app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[[str], Flask]]:
        """A second app on the same database with its own instance folder, as on another machine."""
        made: list[Flask] = []

        def make(upload_dir: str) -> Flask:
            other = create_app({**app.config, "PIPELINE_UPLOAD_DIR": upload_dir})
            other.instance_path = str(tmp_path / f"instance-{len(made) + 2}")
            made.append(other)
            return other

        yield make
        for other in made:
            with other.app_context():
                db.engine.dispose()

    def signed_in_elsewhere(self, other: Flask, client: FlaskClient) -> FlaskClient:
        """The same browser (its session cookie) talking to the other instance."""
        there = other.test_client()
        cookie = client.get_cookie("session")
        assert cookie is not None
        there.set_cookie("session", cookie.value)
        return there

    def test_with_a_shared_upload_dir_another_instance_previews_and_imports(
        self,
        app: Flask,
        browser: Callable[[User], FlaskClient],
        people: People,
        tmp_path: Path,
        other_instance: Callable[[str], Flask],
    ) -> None:
        shared = str(tmp_path / "shared-uploads")
        app.config["PIPELINE_UPLOAD_DIR"] = shared
        here = browser(people.rep)
        token = token_of(upload(here, write_csv(tmp_path / "通讯录.csv", ROWS)))
        assert any(Path(shared).iterdir()) and not (Path(app.instance_path) / "imports").exists()
        there = self.signed_in_elsewhere(other_instance(shared), here)
        body = there.get(f"/imports/contacts/preview?upload={token}").get_data(as_text=True)
        assert cell(body, "count-create") == "2"
        columns = re.search(r'name="columns" type="hidden" value="([^"]*)"', body).group(1)
        done = there.post("/imports/contacts/confirm", data={"upload": token, "columns": columns})
        assert done.status_code == 302 and contact_count() == 2  # 张伟 twice: created once, merged once
        assert not any(Path(shared).iterdir())  # confirmed on one instance, gone for all

    def test_without_one_the_other_instance_cannot_find_the_upload(
        self,
        browser: Callable[[User], FlaskClient],
        people: People,
        tmp_path: Path,
        other_instance: Callable[[str], Flask],
    ) -> None:
        here = browser(people.rep)
        token = token_of(upload(here, write_csv(tmp_path / "x.csv", ROWS)))
        there = self.signed_in_elsewhere(other_instance(""), here)
        assert there.get(f"/imports/contacts/preview?upload={token}").status_code == 404
