"""Reading what a page shows, shared by the page tests: its text, one element's inside, its words."""

from __future__ import annotations

import re
from typing import Any

from pipeline.deals.models import Deal
from pipeline.extensions import db


def text(response: Any) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def section(html: str, element_id: str) -> str:
    """The inside of the element with this id (failing the test when the page has none)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(2)


def plain(html: str) -> str:
    """The words of an HTML fragment, tags dropped and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def reload(deal: Deal) -> Deal:
    """The deal as the database has it now, not as this session remembers it."""
    db.session.expire_all()
    fresh = db.session.get(Deal, deal.id)
    assert fresh is not None
    return fresh
