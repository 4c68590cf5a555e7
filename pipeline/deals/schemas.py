"""Deal API schemas: what clients send and what they get back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from pipeline.auth.api import api_locale
from pipeline.core.schemas import Id, MissingSchema, PageArgs, Text
from pipeline.deals.method import (
    ALL_STATES,
    ATTITUDE_KEYS,
    ATTITUDES,
    INFLUENCE_LEVEL_KEYS,
    INFLUENCE_LEVELS,
    INFLUENCE_ROLE_KEYS,
    INFLUENCE_ROLES,
    RELATIONSHIP_DEPTHS,
    STRATEGY_KEYS,
    Choice,
    stage,
)
from pipeline.deals.workflow import TRIGGERS, available_triggers


class DealQuery(PageArgs):
    stage = Text(validate=validate.OneOf(tuple(ALL_STATES)))
    owner_id = Id(strict=False)
    account_id = Id(strict=False)
    strategy = Text(validate=validate.OneOf(STRATEGY_KEYS))


class DealSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    account_id = fields.Integer()
    account_name = fields.Function(lambda d: d.account.name)
    owner_id = fields.Integer()
    owner_name = fields.Function(lambda d: d.owner.name)
    amount = fields.Decimal(as_string=True)
    currency = fields.String()
    expected_close_date = fields.Date(allow_none=True)
    stage = fields.String()
    stage_label = fields.Function(lambda d: stage(d.stage).label(api_locale()))
    stage_entered_at = fields.DateTime()
    strategy = fields.String(allow_none=True)
    strategy_rationale = fields.String()
    competitors = fields.String()
    next_step = fields.String()
    next_step_due = fields.Date(allow_none=True)
    lost_reason = fields.String(attribute="lost_reason_key", allow_none=True)
    lost_from_stage = fields.String(allow_none=True)
    won_on = fields.Date(allow_none=True)
    lost_on = fields.Date(allow_none=True)
    product_line = fields.String()
    channel = fields.String()
    gross_profit = fields.Decimal(
        as_string=True, allow_none=True, metadata={"description": "毛利; null when not known"}
    )
    version = fields.Integer(metadata={"description": "send it back with PATCH; a stale version answers 409"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DealPage(Schema):
    items = fields.List(fields.Nested(DealSchema))
    next_cursor = fields.Integer(allow_none=True)


class ChecklistItemSchema(Schema):
    key = fields.String(attribute="item_key")
    stage = fields.String()
    label = fields.Function(lambda i: i.template.label(api_locale()))
    required = fields.Function(lambda i: i.template.required)
    done = fields.Boolean()
    done_by_id = fields.Integer(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    note = fields.String()


class DealDetailSchema(DealSchema):
    checklist = fields.List(fields.Nested(ChecklistItemSchema), metadata={"description": "the current stage's"})
    available_triggers = fields.Function(lambda d: available_triggers(d.stage))
    missing = fields.List(
        fields.Nested(MissingSchema), metadata={"description": "what the next forward move still wants"}
    )


class _DealFields(Schema):
    title = Text(validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(metadata={"description": "a decimal string or number, at most two places"})
    currency = Text(validate=validate.Length(equal=3))
    expected_close_date = fields.Date(allow_none=True)
    strategy = Text(allow_none=True, validate=validate.OneOf(STRATEGY_KEYS))
    strategy_rationale = Text()
    competitors = Text()
    next_step = Text()
    next_step_due = fields.Date(allow_none=True)
    owner_id = Id()
    product_line = Text(validate=validate.Length(max=100), metadata={"description": "产品线, e.g. ERP"})
    channel = Text(validate=validate.Length(max=100), metadata={"description": "渠道, e.g. 直销 / 代理商 / 线上"})
    gross_profit = fields.Decimal(
        allow_none=True,
        metadata={"description": "毛利 as a decimal string or number, at most two places; null when not known"},
    )


class DealCreateSchema(_DealFields):
    account_id = Id(required=True)
    title = Text(required=True, validate=validate.Length(min=1, max=200))


class DealPatchSchema(_DealFields):
    version = fields.Integer(required=True, metadata={"description": "the version you read"})
    account_id = Id()
    stage = fields.Raw(load_only=True, metadata={"description": "refused: stages change only through transitions"})


class TransitionSchema(Schema):
    trigger = Text(required=True, validate=validate.OneOf(TRIGGERS))
    reason = Text(load_default="", validate=validate.Length(max=2000))
    lost_reason = Text(load_default=None, allow_none=True)
    override = fields.Boolean(load_default=False, metadata={"description": "leads and admins, with a reason"})
    version = fields.Integer(load_default=None, metadata={"description": "refuse the move if the deal moved on"})


class StageEventSchema(Schema):
    id = fields.Integer()
    deal_id = fields.Integer()
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String()
    trigger = fields.String()
    user_id = fields.Integer(allow_none=True)
    at = fields.DateTime()
    reason = fields.String()
    lost_reason = fields.String(attribute="lost_reason_key", allow_none=True)
    amount = fields.Decimal(as_string=True)
    override = fields.Boolean()
    overridden = fields.List(fields.String())


class TransitionResultSchema(Schema):
    deal = fields.Nested(DealDetailSchema)
    event = fields.Nested(StageEventSchema)


class ChecklistUpdateSchema(Schema):
    done = fields.Boolean(required=True)
    note = Text(load_default=None, validate=validate.Length(max=2000))


class ChecklistResultSchema(Schema):
    item = fields.Nested(ChecklistItemSchema)
    version = fields.Integer()


class FieldChangeSchema(Schema):
    field = fields.String()
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


class HistorySchema(Schema):
    events = fields.List(fields.Nested(StageEventSchema))
    changes = fields.List(fields.Nested(FieldChangeSchema))


class LostReasonSchema(Schema):
    key = fields.String()
    label = fields.Function(lambda r: r.label(api_locale()))
    label_zh = fields.String()
    label_en = fields.String()


# ---- Buying influences (客户参与者) ------------------------------------------------------------------------------


def _scale_label(scale: tuple[Choice, ...], key: object) -> str:
    return next((c.label(api_locale()) for c in scale if c.key == str(key)), str(key))


class InfluenceSchema(Schema):
    id = fields.Integer()
    deal_id = fields.Integer()
    contact_id = fields.Integer()
    name = fields.Function(lambda i: i.contact.name)
    title = fields.Function(lambda i: i.contact.title)
    role = fields.String(metadata={"description": "economic_buyer | user | technical | coach"})
    role_label = fields.Function(lambda i: _scale_label(INFLUENCE_ROLES, i.role))
    attitude = fields.String(metadata={"description": "supporter | neutral | opponent"})
    attitude_label = fields.Function(lambda i: _scale_label(ATTITUDES, i.attitude))
    influence = fields.String(metadata={"description": "high | medium | low"})
    influence_label = fields.Function(lambda i: _scale_label(INFLUENCE_LEVELS, i.influence))
    depth = fields.Integer(metadata={"description": "relationship depth, 1 (认识, know of) to 5 (相知, trusted)"})
    depth_label = fields.Function(lambda i: _scale_label(RELATIONSHIP_DEPTHS, i.depth))
    note = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InfluenceListSchema(Schema):
    items = fields.List(fields.Nested(InfluenceSchema))
    missing = fields.List(
        fields.Nested(MissingSchema), metadata={"description": "required roles nobody holds yet (the 报价 gate)"}
    )


class _InfluenceFields(Schema):
    attitude = Text(validate=validate.OneOf(ATTITUDE_KEYS))
    influence = Text(validate=validate.OneOf(INFLUENCE_LEVEL_KEYS))
    depth = fields.Integer(strict=True, validate=validate.Range(min=1, max=len(RELATIONSHIP_DEPTHS)))
    note = Text(validate=validate.Length(max=2000))


class InfluenceCreateSchema(_InfluenceFields):
    contact_id = Id(
        load_default=None, allow_none=True, metadata={"description": "a contact of the deal's account; or send name"}
    )
    name = Text(load_default="", validate=validate.Length(max=100), metadata={"description": "a new contact's name"})
    title = Text(load_default="", validate=validate.Length(max=100), metadata={"description": "a new contact's title"})
    role = Text(required=True, validate=validate.OneOf(INFLUENCE_ROLE_KEYS))


class InfluencePatchSchema(_InfluenceFields):
    role = Text(validate=validate.OneOf(INFLUENCE_ROLE_KEYS))
