"""Account and contact API schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from pipeline.accounts.models import ACCOUNT_KINDS
from pipeline.accounts.profile import FREQUENCY_KEYS, NO_PURCHASE
from pipeline.accounts.scales import CHURN_REASON_KEYS, QUALIFICATION_KEYS, RELATIONSHIP_KEYS
from pipeline.core.schemas import Id, PageArgs, Text


class TagNames(fields.List):
    """Tags as their names: read from Tag rows, written as a list of names (new ones are created)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text(validate=validate.Length(max=200)), validate=validate.Length(max=100), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[str] | None:
        return None if value is None else [getattr(t, "name", t) for t in value]


class AccountQuery(PageArgs):
    q = Text(validate=validate.Length(min=1, max=100), metadata={"description": "part of the name"})
    owner_id = Id(strict=False)
    kind = Text(validate=validate.OneOf(ACCOUNT_KINDS))
    tag = Text(validate=validate.Length(min=1, max=100), metadata={"description": "accounts carrying this tag"})
    churned = fields.Boolean(metadata={"description": "true: only the accounts marked lost; false: only current"})


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
    notes = Text(metadata={"description": "Markdown"})
    tags = TagNames(metadata={"description": "groups and tags, by name; a new name makes a new tag"})


class ContactPatchSchema(ContactSchema):
    """Any of a contact's fields; the others stay as they are."""

    name = Text(validate=validate.Length(min=1, max=100))


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = Text(load_default="b2b", validate=validate.OneOf(ACCOUNT_KINDS))
    industry = Text(validate=validate.Length(max=100))
    region = Text(validate=validate.Length(max=100))
    owner_id = Id()
    owner_name = fields.Function(lambda a: a.owner.name, dump_only=True)
    relationship_level = Text(validate=validate.OneOf(RELATIONSHIP_KEYS), metadata={"description": "关系水平"})
    notes = Text(metadata={"description": "Markdown"})
    tags = TagNames(metadata={"description": "groups and tags, by name; a new name makes a new tag"})
    churned_on = fields.Date(dump_only=True, metadata={"description": "marked lost (流失) on; null: a customer"})
    churn_reason_key = fields.String(dump_only=True)
    churn_note = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class AccountPatchSchema(AccountSchema):
    """Any of an account's fields; the others stay as they are."""

    name = Text(validate=validate.Length(min=1, max=200))
    kind = Text(validate=validate.OneOf(ACCOUNT_KINDS))


class AdviceSchema(Schema):
    level = fields.String(metadata={"description": "the advised relationship level"})
    customers = fields.Integer(metadata={"description": "the owner's current (not lost) accounts"})
    customer_load = fields.String(metadata={"description": "few | some | many"})
    margin = fields.Decimal(
        places=4, as_string=True, allow_none=True, metadata={"description": "null: no margin entered"}
    )
    margin_band = fields.String(allow_none=True, metadata={"description": "low | medium | high"})


class AccountDetailSchema(AccountSchema):
    contacts = fields.List(fields.Nested(ContactSchema), dump_only=True)
    purchase_frequency = fields.String(
        dump_only=True,
        metadata={"description": f"{' | '.join(FREQUENCY_KEYS)} | {NO_PURCHASE}, from won deals in 12 months"},
    )
    won_last_12_months = fields.Integer(dump_only=True)
    advised_relationship = fields.Nested(AdviceSchema, dump_only=True)


class AccountPage(Schema):
    items = fields.List(fields.Nested(AccountSchema))
    next_cursor = fields.Integer(allow_none=True)


class ChurnSchema(Schema):
    reason = Text(required=True, validate=validate.OneOf(CHURN_REASON_KEYS))
    churned_on = fields.Date(required=True)
    note = Text(load_default="", validate=validate.Length(max=2000))


class QualificationSchema(Schema):
    """The 潜力客户工作表: each criterion true (1 point) or false, the score out of seven."""

    account_id = fields.Integer(dump_only=True)
    score = fields.Integer(dump_only=True)
    assessed = fields.Boolean(dump_only=True, metadata={"description": "false: never filled in"})
    growth = fields.Boolean(metadata={"description": "客户的自身成长性: 好 (true) / 差"})
    business_plan = fields.Boolean(metadata={"description": "客户的业务规划: 高 (true) / 低"})
    funding = fields.Boolean(metadata={"description": "资金潜力: 高 (true) / 低"})
    opportunities = fields.Boolean(metadata={"description": "商机: 多 (true) / 少"})
    solution_fit = fields.Boolean(metadata={"description": "解决方案适合度: 好 (true) / 差"})
    our_competitiveness = fields.Boolean(metadata={"description": "我们的竞争力: 强 (true) / 弱"})
    relationship = fields.Boolean(metadata={"description": "客户关系: 强 (true) / 弱"})
    note = Text(validate=validate.Length(max=2000))


assert set(QUALIFICATION_KEYS) <= set(QualificationSchema._declared_fields)
