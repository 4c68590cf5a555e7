"""API schemas every feature shares: errors and keyset pages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from pipeline.core.models import MAX_ID


class Text(fields.String):
    """A string with no NUL characters (no database stores them as text)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("contains a NUL character")
        return text


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """A row id: a whole number from 1 to 2**31 - 1 (strict in JSON bodies; query strings arrive as text)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class MissingSchema(Schema):
    kind = fields.String(metadata={"description": "checklist | field"})
    key = fields.String()
    label = fields.String(metadata={"description": "in the caller's language"})
    label_en = fields.String()


class ErrorSchema(Schema):
    """Every error answer: a sentence, plus the fields at fault or what a gate is missing."""

    error = fields.String(required=True)
    missing = fields.List(fields.Nested(MissingSchema))
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.String(), metadata={"description": "field → problem"}
    )


class PageArgs(Schema):
    """Keyset pagination: newest first; pass the previous page's next_cursor to get the next one."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = Id(strict=False, load_default=None)


def page(rows: list[Any], limit: int) -> dict[str, Any]:
    """Cut a page fetched with limit + 1 rows, and say where the next page starts."""
    more = len(rows) > limit
    items = rows[:limit]
    return {"items": items, "next_cursor": items[-1].id if more and items else None}
