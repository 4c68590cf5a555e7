"""Every HTML form a signed-in admin or rep can reach takes generated input without a 500.

The forms are collected by crawling the pages each user sees (so a new form is fuzzed without a list to keep),
then each is sent generated values for its fields; a refusal must point at a field it names.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pipeline.extensions import db

EXAMPLES_PER_FORM = 6
MAX_PAGES = 120
SKIPPED_ACTIONS = ("/logout",)  # signing out would end the crawl, not test input handling


class Forms(HTMLParser):
    """The forms and same-site links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.links: list[str] = []
        self._form: dict[str, Any] | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": {}}
            self._form["files"] = set()
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button") and a.get("name"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if kind in ("submit", "button"):  # a named button sends its value, as the language switch's do
                kind = "hidden"
            if kind == "file":
                self._form["files"].add(a["name"])  # not sent: the importers' own tests fuzz file contents
            if kind in ("image", "reset", "file"):
                return
            field = {"kind": kind, "value": a.get("value", ""), "options": []}
            self._form["fields"].setdefault(a["name"], field)
            if tag == "select":
                self._select = self._form["fields"][a["name"]]
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def crawl(client: FlaskClient, start: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every form on the pages reachable from `start`, keyed by (method, action path)."""
    seen: set[str] = set()
    todo = list(start)
    forms: dict[tuple[str, str], dict[str, Any]] = {}
    while todo and len(seen) < MAX_PAGES:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        parser = Forms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = urlsplit(urljoin(path, form["action"] or path)).path
            if action.endswith(SKIPPED_ACTIONS) or not action.startswith("/"):
                continue
            forms.setdefault((form["method"], action), form)
        for href in parser.links:
            url = urlsplit(urljoin(path, href))
            if url.netloc or not url.path.startswith("/") or url.path.startswith(("/api", "/static", "/logout")):
                continue
            if re.search(r"\.(csv|xlsx|ics|vcf|json)$|/export|/download|/feed", url.path):
                continue
            link = url.path + (f"?{url.query}" if url.query else "")
            if link not in seen and len(todo) < 4 * MAX_PAGES:
                todo.append(link)
    return forms


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


def value_for(field: dict[str, Any]) -> st.SearchStrategy[str]:
    """Values a user (or someone past the browser) could send for this field."""
    kind = field["kind"]
    wild = text | st.integers(-(2**70), 2**70).map(str)
    if kind in ("select",) and field["options"]:
        return st.sampled_from(field["options"]) | wild
    if kind == "hidden":
        return st.just(field["value"]) | wild
    if kind == "date":
        return st.dates().map(str) | wild
    if kind == "number":
        return st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str) | wild
    if kind in ("checkbox", "radio"):
        return st.sampled_from([field["value"] or "y", ""]) | wild
    return wild


def fuzz(client: FlaskClient, forms: dict[tuple[str, str], dict[str, Any]]) -> int:
    """Send generated values to each form; a 500 fails, a refusal must name a field it was sent."""
    return sum(fuzz_form(client, method, action, form) for (method, action), form in sorted(forms.items()))


def fuzz_form(client: FlaskClient, method: str, action: str, form: dict[str, Any]) -> int:
    """Send one form generated values; return how many submissions were made."""
    sent = 0
    values = st.fixed_dictionaries({name: value_for(f) for name, f in form["fields"].items()})

    @seed(8)
    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=values)
    def run(data: dict[str, str]) -> None:
        nonlocal sent
        sent += 1
        send = client.post if method == "post" else client.get
        response = send(action, data=data) if method == "post" else send(action, query_string=data)
        body = response.get_data(as_text=True)
        assert response.status_code < 500, f"{method} {action} {data!r}: {response.status_code}"
        if response.status_code == 422 and response.mimetype == "text/html":
            summary = "".join(re.findall(r'<ul class="errors">(.*?)</ul>', body, re.S))
            named = set(re.findall(r'id="([\w-]+)-error"', body)) | set(re.findall(r'href="#([\w-]+)"', summary))
            shown = re.findall(r".{0,160}error.{0,160}", body)
            assert (
                named & (set(data) | form["files"])
                or 'class="flash' in body
                or re.search(r'id="refusal"|<p class="message">.', body)
            ), f"{method} {action} {data!r}: names no field: {shown}"
        db.session.rollback()

    run()
    return sent


def test_every_form_an_admin_or_rep_sees_takes_generated_input(
    browser: Any, people: Any, make_deal: Any, make_account: Any
) -> None:
    make_deal(people.rep, account=make_account(people.rep))
    make_deal(people.rep_b)
    db.session.commit()
    total = 0
    found: set[tuple[str, str]] = set()
    for user in (people.rep, people.admin):
        client = browser(user)
        forms = crawl(client, ["/"])
        found |= set(forms)
        total += fuzz(client, forms)
    print(f"form fuzz: {total} submissions over {len(found)} forms")
    assert len(found) >= 10
