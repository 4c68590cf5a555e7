"""What the security tests share: the app's routes walked from its URL map, a fingerprint of every table, and a
signed-in browser that sends CSRF tokens as a real one does.

The route walk reuses the access matrix's argument table (tests/test_access_matrix.py), so a route added later is
walked here too, and one whose arguments nobody can fill fails there first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule

from pipeline.extensions import db
from tests.conftest import PASSWORDS, People, ServerLikeClient
from tests.test_access_matrix import ARGUMENTS, Records, _records, _url, _with_file_args

UNWALKED = {"static", "care.calendar_feed"}  # a file of ours; the feed is opened by its own secret (tests/care)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Columns a read may touch on purpose: when an API token was last used (coarse, tests/auth: a 5-minute resolution).
READ_MAY_TOUCH = {("api_tokens", "last_used_at")}
# The kept report figures (pipeline/reports/rollup) are a derived cache a report page may fold pending deals into
# while it reads: the rollup_* tables and the deal's mark of what was counted. No user-visible record changes.
DERIVED_CACHE_PREFIX, DERIVED_CACHE_COLUMNS = "rollup_", {("deals", "rollup_version")}
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def routes(app: Flask, methods: tuple[str, ...] = ("GET", *WRITE_METHODS)) -> Iterator[tuple[Rule, str]]:
    """Every route and method of the app, in a stable order, but the files and the calendar feed."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in UNWALKED:
            continue
        for method in sorted(set(rule.methods or ()) & set(methods)):
            yield rule, method


def url_for_rule(app: Flask, rule: Rule, records: Records) -> str:
    """The rule's URL filled from `records` (the matrix's table), with the file routes answering CSV."""
    return _with_file_args(_url(app, rule, records))


def fingerprint(skip_tables: frozenset[str] = frozenset(), skip_columns: set[tuple[str, str]] | None = None) -> dict:
    """Each table's row count and a digest of every row, to tell whether anything at all was written."""
    skip_columns = READ_MAY_TOUCH if skip_columns is None else skip_columns
    db.session.rollback()
    db.session.expire_all()
    state: dict[str, tuple[int, str]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in skip_tables:
            continue
        columns = [c for c in table.columns if (table.name, c.name) not in skip_columns]
        rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
        state[table.name] = (len(rows), digest)
    db.session.rollback()
    return state


def source_fingerprint() -> dict:
    """The fingerprint of every record a user could see change: all but the audit log and the report cache."""
    cache = frozenset(t.name for t in db.metadata.sorted_tables if t.name.startswith(DERIVED_CACHE_PREFIX))
    return fingerprint(cache | {"audit_events"}, READ_MAY_TOUCH | DERIVED_CACHE_COLUMNS)


def changed(before: dict, after: dict) -> list[str]:
    """The tables whose rows differ between two fingerprints."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page hands this browser, read from the page as a browser would."""
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str | None = None) -> Any:
    """Sign in through the form with the token the sign-in page gave (works with CSRF checked or not)."""
    data = {"email": email, "password": password or PASSWORDS[email], "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def new_browser(app: Flask) -> FlaskClient:
    """A browser of its own, each request starting with an empty `g` as under a server."""
    app.test_client_class = ServerLikeClient
    return app.test_client()


@pytest.fixture
def world(app: Flask, people: People) -> dict[str, Records]:
    """Named records of three owners in two teams (the matrix's own), so pages have something to show."""
    return {
        "rep": _records(people.rep, "本人"),
        "rep_b": _records(people.rep_b, "同队"),
        "outsider": _records(people.outsider, "外队"),
    }


@pytest.fixture
def signed_in(app: Flask, people: People) -> Callable[..., FlaskClient]:
    """A fresh browser signed in as `user` through the sign-in form."""

    def make(user: Any) -> FlaskClient:
        client = new_browser(app)
        assert sign_in(client, user.email).status_code == 302
        return client

    return make


__all__ = [
    "ARGUMENTS",
    "Records",
    "changed",
    "csrf_token",
    "fingerprint",
    "new_browser",
    "routes",
    "sign_in",
    "source_fingerprint",
    "url_for_rule",
]
