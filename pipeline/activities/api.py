"""JSON API v1 for a deal's activities: list them with the touch count, log one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pipeline.activities import schemas, services
from pipeline.activities.models import Activity
from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.idempotency import idempotent
from pipeline.auth.scope import visible_deal
from pipeline.core.schemas import ErrorSchema, page
from pipeline.extensions import db

blp = token_blueprint(
    "activities_api", __name__, "/api/v1/deals", "Activities on deals: calls, visits, e-mails, meetings and notes."
)


@blp.route("/<int:deal_id>/activities")
@blp.arguments(schemas.ActivityQuery, location="query")
@blp.response(200, schemas.ActivityPage)
@blp.alt_response(404, schema=ErrorSchema)
def list_activities(args: dict[str, Any], deal_id: int) -> dict[str, Any]:
    """The deal's activities, the latest logged first, with how many touches it has had and when the latest was."""
    deal = visible_deal(api_user(), deal_id)
    query = (
        select(Activity)
        .where(Activity.deal_id == deal.id)
        .options(joinedload(Activity.user), joinedload(Activity.contact))
        .order_by(Activity.id.desc())
        .limit(args["limit"] + 1)
    )
    if args["cursor"]:
        query = query.where(Activity.id < args["cursor"])
    touches, latest = services.touch_summary(deal.id)
    return {**page(list(db.session.scalars(query)), args["limit"]), "touches": touches, "latest_at": latest}


@blp.route("/<int:deal_id>/activities", methods=["POST"])
@idempotent
@blp.arguments(schemas.ActivitySchema)
@blp.response(201, schemas.ActivitySchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def log_activity(body: dict[str, Any], deal_id: int) -> Activity:
    """Log a touch on one of your deals, optionally with a contact of its account."""
    user = api_user()
    deal = visible_deal(user, deal_id)
    return services.log_for_deal(
        user,
        deal,
        body["kind"],
        body["summary"],
        contact_id=body["contact_id"],
        outcome=body["outcome"],
        occurred_at=body["occurred_at"],
        call_result=body["call_result"],
    )
