"""JSON API v1 for complaints: list, receive, read, take a step, give to someone else."""

from __future__ import annotations

from typing import Any

from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.idempotency import idempotent
from pipeline.auth.scope import visible_account, visible_complaint
from pipeline.care.complaints import schemas as schemas
from pipeline.care.complaints import services as services
from pipeline.care.models import Complaint
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.core.schemas import ErrorSchema, page
from pipeline.extensions import db

blp = token_blueprint(
    "complaints_api", __name__, "/api/v1/complaints", "Complaints (客户抱怨) and their steps from 受理 to 致歉关闭."
)


@blp.route("")
@blp.arguments(schemas.ComplaintQuery, location="query")
@blp.response(200, schemas.ComplaintPage)
def list_complaints(args: dict[str, Any]) -> dict[str, Any]:
    """The complaints you may see, newest first, filtered by state, owner, account or deal."""
    query = (
        services.complaints_query(
            api_user(),
            state=args.get("state"),
            owner_id=args.get("owner_id"),
            account_id=args.get("account_id"),
            deal_id=args.get("deal_id"),
        )
        .order_by(None)
        .order_by(Complaint.id.desc())
    )
    if args["cursor"]:
        query = query.where(Complaint.id < args["cursor"])
    return page(list(db.session.scalars(query.limit(args["limit"] + 1)).unique()), args["limit"])


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(schemas.ComplaintCreateSchema)
@blp.response(201, schemas.ComplaintSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_complaint(body: dict[str, Any]) -> Complaint:
    """受理: take a complaint down for one of your accounts."""
    user = api_user()
    account_id = body.pop("account_id")
    try:
        account = visible_account(user, account_id)
    except NotFound:
        raise InvalidInput({"account_id": f"no account {account_id} that you can see"}) from None
    return services.receive(user, account, body.pop("title"), via="api", **body)


@blp.route("/<int:complaint_id>")
@blp.response(200, schemas.ComplaintSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_complaint(complaint_id: int) -> Complaint:
    """One complaint with its times and the steps open to it."""
    return visible_complaint(api_user(), complaint_id)


@blp.route("/<int:complaint_id>/steps", methods=["POST"])
@idempotent
@blp.arguments(schemas.StepSchema)
@blp.response(200, schemas.ComplaintSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="a text is missing (with `missing`) or a concurrent change")
@blp.alt_response(422, schema=ErrorSchema)
def take_step(body: dict[str, Any], complaint_id: int) -> Complaint:
    """Take a step: understand (core_issue), propose (solution), accept, reject (reason), close (closing_note)."""
    user = api_user()
    complaint = visible_complaint(user, complaint_id)
    texts = {k: body[k] for k in ("core_issue", "solution", "closing_note")}
    services.take_step(
        user, complaint, body["step"], texts=texts, reason=body["reason"], expected_version=body["version"], via="api"
    )
    return complaint


@blp.route("/<int:complaint_id>/owner", methods=["PUT"])
@blp.arguments(schemas.ReassignSchema)
@blp.response(200, schemas.ComplaintSchema)
@blp.alt_response(403, schema=ErrorSchema, description="reps may not give complaints away")
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def reassign(body: dict[str, Any], complaint_id: int) -> Complaint:
    """Give the complaint to someone else: a lead within the team, an admin to anyone."""
    user = api_user()
    complaint = visible_complaint(user, complaint_id)
    services.reassign(user, complaint, body["owner_id"], expected_version=body["version"], via="api")
    return complaint
