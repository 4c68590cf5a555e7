"""Complaint API schemas: what clients send and what they get back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from pipeline.accounts.scales import COMPLAINT_STATE_KEYS
from pipeline.auth.api import api_locale
from pipeline.care.complaints import workflow as workflow
from pipeline.care.models import SEVERITIES
from pipeline.core.schemas import Id, PageArgs, Text


class ComplaintQuery(PageArgs):
    state = Text(validate=validate.OneOf(COMPLAINT_STATE_KEYS))
    owner_id = Id(strict=False)
    account_id = Id(strict=False)
    deal_id = Id(strict=False)


class ComplaintSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    account_name = fields.Function(lambda c: c.account.name)
    deal_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    owner_id = fields.Integer()
    owner_name = fields.Function(lambda c: c.owner.name)
    title = fields.String()
    description = fields.String()
    severity = fields.String(metadata={"description": " | ".join(SEVERITIES)})
    state = fields.String(metadata={"description": " → ".join(COMPLAINT_STATE_KEYS)})
    state_label = fields.Function(lambda c: workflow.state_label(c.state, api_locale()))
    core_issue = fields.String()
    solution = fields.String()
    closing_note = fields.String()
    received_at = fields.DateTime()
    understood_at = fields.DateTime(allow_none=True, metadata={"description": "the first response"})
    proposed_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True, metadata={"description": "the resolution"})
    response_seconds = fields.Function(lambda c: workflow.response_seconds(c), allow_none=True)
    resolution_seconds = fields.Function(lambda c: workflow.resolution_seconds(c), allow_none=True)
    available_steps = fields.Function(lambda c: workflow.available_steps(c.state))
    version = fields.Integer(metadata={"description": "send it back with a step; a stale version answers 409"})


class ComplaintPage(Schema):
    items = fields.List(fields.Nested(ComplaintSchema))
    next_cursor = fields.Integer(allow_none=True)


class ComplaintCreateSchema(Schema):
    account_id = Id(required=True)
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    description = Text(load_default="", validate=validate.Length(max=4000))
    severity = Text(load_default="normal", validate=validate.OneOf(SEVERITIES))
    deal_id = Id(load_default=None, allow_none=True, metadata={"description": "a deal of the same account"})
    contact_id = Id(load_default=None, allow_none=True, metadata={"description": "a contact at the same account"})
    owner_id = Id(load_default=None, allow_none=True, metadata={"description": "default: the account's owner"})
    received_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})


class StepSchema(Schema):
    step = Text(required=True, validate=validate.OneOf(workflow.STEPS))
    core_issue = Text(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    solution = Text(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    closing_note = Text(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    reason = Text(load_default="", validate=validate.Length(max=4000), metadata={"description": "reject only"})
    version = fields.Integer(load_default=None, metadata={"description": "refuse the step if the complaint moved on"})


class ReassignSchema(Schema):
    owner_id = Id(required=True)
    version = fields.Integer(load_default=None)
