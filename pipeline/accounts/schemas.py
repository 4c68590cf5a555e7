"""Account and contact API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from pipeline.accounts.models import ACCOUNT_KINDS
from pipeline.core.schemas import Id, PageArgs, Text


class AccountQuery(PageArgs):
    q = Text(validate=validate.Length(min=1, max=100), metadata={"description": "part of the name"})
    owner_id = Id(strict=False)
    kind = Text(validate=validate.OneOf(ACCOUNT_KINDS))


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    title = Text(validate=validate.Length(max=100))
    mobile = Text(validate=validate.Length(max=40))
    phone = Text(validate=validate.Length(max=40))
    email = fields.Email(validate=validate.Length(max=254))
    birthday = fields.Date(allow_none=True)
    address = Text(validate=validate.Length(max=300))
    notes = Text()


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = Text(load_default="b2b", validate=validate.OneOf(ACCOUNT_KINDS))
    industry = Text(validate=validate.Length(max=100))
    region = Text(validate=validate.Length(max=100))
    owner_id = Id()
    owner_name = fields.Function(lambda a: a.owner.name, dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class AccountDetailSchema(AccountSchema):
    contacts = fields.List(fields.Nested(ContactSchema), dump_only=True)


class AccountPage(Schema):
    items = fields.List(fields.Nested(AccountSchema))
    next_cursor = fields.Integer(allow_none=True)
