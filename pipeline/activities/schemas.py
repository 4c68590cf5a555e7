"""Activity API schemas: a touch as clients send it and as they read it back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from pipeline.accounts.scales import CALL_RESULT_KEYS
from pipeline.activities.models import ACTIVITY_KINDS, kind_label
from pipeline.auth.api import api_locale
from pipeline.core.schemas import Id, PageArgs, Text


class ActivitySchema(Schema):
    id = fields.Integer(dump_only=True)
    deal_id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    kind = Text(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    kind_label = fields.Function(lambda a: kind_label(a.kind, api_locale()), dump_only=True)
    occurred_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "with its UTC offset; not after today in the team's time zone; default now"},
    )
    contact_id = Id(load_default=None, allow_none=True, metadata={"description": "a contact of the deal's account"})
    contact_name = fields.Function(lambda a: a.contact.name if a.contact else None, dump_only=True)
    user_id = fields.Integer(dump_only=True)
    user_name = fields.Function(lambda a: a.user.name, dump_only=True)
    call_result = Text(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(CALL_RESULT_KEYS),
        metadata={"description": "calls only: answered, no_answer, busy or declined"},
    )
    summary = Text(required=True, validate=validate.Length(min=1, max=4000))
    outcome = Text(load_default="", validate=validate.Length(max=4000))
    created_at = fields.DateTime(dump_only=True)


class ActivityPage(Schema):
    items = fields.List(fields.Nested(ActivitySchema), metadata={"description": "the latest logged first"})
    next_cursor = fields.Integer(allow_none=True)
    touches = fields.Integer(metadata={"description": "how many activities the deal has had in all"})
    latest_at = fields.DateTime(allow_none=True, metadata={"description": "when the latest touch happened"})


class ActivityQuery(PageArgs):
    pass
