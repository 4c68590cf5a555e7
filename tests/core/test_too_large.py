"""Bodies and uploads over MAX_CONTENT_LENGTH are refused with 413, clearly, and nothing is written."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pipeline import config
from pipeline.accounts.models import Account, Contact
from pipeline.extensions import db
from pipeline.imports import uploads

LIMIT = 4096


@pytest.fixture
def app_config() -> dict[str, Any]:
    """A small limit keeps the oversized bodies small."""
    return {"MAX_CONTENT_LENGTH": LIMIT}


def _count(model: Any) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_default_limit_is_16_mib(tmp_path: Path) -> None:
    assert config.defaults(tmp_path)["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_an_oversized_api_body_gets_413_in_json(client: FlaskClient, people: Any, token_for: Any) -> None:
    headers = token_for(people.rep)
    body = {"name": "上海华信科技有限公司", "industry": "制造", "region": "华东" * LIMIT}
    response = client.post("/api/v1/accounts", headers=headers, json=body)
    assert response.status_code == 413
    assert response.is_json and response.json["error"]
    assert _count(Account) == 0


def test_an_oversized_form_post_gets_a_413_page(browser: Any, people: Any) -> None:
    client = browser(people.rep)
    region = "华" * LIMIT
    data = {"name": "宁波港务集团", "kind": "b2b", "industry": "物流", "region": region, "owner_id": people.rep.id}
    response = client.post("/accounts/new", data=data)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "413" in page and ("过大" in page or "Too large" in page)
    assert _count(Account) == 0


def test_an_oversized_import_upload_gets_a_413_page_and_keeps_nothing(app: Flask, browser: Any, people: Any) -> None:
    client = browser(people.rep)
    csv = ("姓名,手机\n" + "张伟,13800138000\n" * LIMIT).encode()
    data = {"file": (io.BytesIO(csv), "contacts.csv")}
    response = client.post("/imports/contacts", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "413" in response.get_data(as_text=True)
    with app.test_request_context():
        assert list(uploads.folder().iterdir()) == []
    assert _count(Contact) == 0
