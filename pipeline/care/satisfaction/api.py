"""JSON API v1 for satisfaction surveys: list, record, read."""

from __future__ import annotations

from typing import Any

from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.idempotency import idempotent
from pipeline.auth.scope import visible_account, visible_survey
from pipeline.care.models import SatisfactionSurvey
from pipeline.care.satisfaction import schemas as schemas
from pipeline.care.satisfaction import services as satisfaction
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.core.pages import today
from pipeline.core.schemas import ErrorSchema, page
from pipeline.extensions import db

blp = token_blueprint(
    "satisfaction_api",
    __name__,
    "/api/v1/satisfaction-surveys",
    "Satisfaction 1–5 and the five RATER dimensions after a won deal or a follow-up.",
)


@blp.route("")
@blp.arguments(schemas.SurveyQuery, location="query")
@blp.response(200, schemas.SurveyPage)
def list_surveys(args: dict[str, Any]) -> dict[str, Any]:
    """The surveys you may see, newest first, for one account or deal if asked."""
    query = (
        satisfaction.surveys_query(api_user(), account_id=args.get("account_id"), deal_id=args.get("deal_id"))
        .order_by(None)
        .order_by(SatisfactionSurvey.id.desc())
    )
    if args["cursor"]:
        query = query.where(SatisfactionSurvey.id < args["cursor"])
    return page(list(db.session.scalars(query.limit(args["limit"] + 1))), args["limit"])


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(schemas.SurveySchema)
@blp.response(201, schemas.SurveySchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_survey(body: dict[str, Any]) -> SatisfactionSurvey:
    """Record one customer's answers for one of your accounts."""
    user = api_user()
    account_id = body.pop("account_id")
    try:
        account = visible_account(user, account_id)
    except NotFound:
        raise InvalidInput({"account_id": f"no account {account_id} that you can see"}) from None
    return satisfaction.record_survey(user, account, today=today(), via="api", **body)


@blp.route("/<int:survey_id>")
@blp.response(200, schemas.SurveySchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_survey(survey_id: int) -> SatisfactionSurvey:
    """One survey."""
    return visible_survey(api_user(), survey_id)
