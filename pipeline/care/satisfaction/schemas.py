"""Satisfaction API schemas: a customer's answers (1–5) and the surveys list."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from pipeline.care.models import OCCASIONS
from pipeline.care.satisfaction.services import HIGHEST, LOWEST
from pipeline.core.schemas import Id, PageArgs, Text


def Score(**kwargs: object) -> fields.Integer:
    """A whole score from 1 to 5."""
    return fields.Integer(strict=True, validate=validate.Range(min=LOWEST, max=HIGHEST), **kwargs)  # type: ignore[arg-type]


class SurveyQuery(PageArgs):
    account_id = Id(strict=False)
    deal_id = Id(strict=False)


class SurveySchema(Schema):
    id = fields.Integer(dump_only=True)
    account_id = Id(required=True)
    deal_id = Id(load_default=None, allow_none=True, metadata={"description": "a deal of the same account"})
    contact_id = Id(load_default=None, allow_none=True, metadata={"description": "a contact at the same account"})
    user_id = fields.Integer(dump_only=True, metadata={"description": "the rep who asked"})
    occasion = Text(load_default="won", validate=validate.OneOf(OCCASIONS))
    answered_on = fields.Date(required=True)
    satisfaction = Score(required=True)
    reliability = Score(load_default=None, allow_none=True, metadata={"description": "信赖度"})
    assurance = Score(load_default=None, allow_none=True, metadata={"description": "保证度"})
    tangibles = Score(load_default=None, allow_none=True, metadata={"description": "可见度"})
    empathy = Score(load_default=None, allow_none=True, metadata={"description": "关怀度"})
    responsiveness = Score(load_default=None, allow_none=True, metadata={"description": "反应度"})
    comment = Text(load_default="", validate=validate.Length(max=4000))
    created_at = fields.DateTime(dump_only=True)


class SurveyPage(Schema):
    items = fields.List(fields.Nested(SurveySchema))
    next_cursor = fields.Integer(allow_none=True)
