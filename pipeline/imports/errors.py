"""The refusal of a real run: bad rows mean nothing is imported, and the message names them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _

from pipeline.core.errors import DomainError

NAMED_IN_MESSAGE = 20


class BadRows(DomainError):
    """Rows that cannot be imported; `rows` holds each one's line and reasons."""

    status = 422

    def __init__(self, rows: Sequence[Any]) -> None:
        named = "; ".join(_("line %(n)s", n=r.line) + ": " + ", ".join(r.reasons) for r in rows[:NAMED_IN_MESSAGE])
        more = _(" … and %(n)s more", n=len(rows) - NAMED_IN_MESSAGE) if len(rows) > NAMED_IN_MESSAGE else ""
        super().__init__(_("%(n)s bad rows, nothing imported: %(rows)s", n=len(rows), rows=named) + more)
        self.rows = list(rows)

    def to_dict(self) -> dict[str, object]:
        return {"error": self.message, "rows": [{"line": r.line, "reasons": list(r.reasons)} for r in self.rows]}
