"""JSON API v1 for deals: list, create, read, edit, move, tick the checklist, the buying influences, the history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pipeline.auth.api import api_user, token_blueprint
from pipeline.auth.idempotency import idempotent
from pipeline.auth.scope import deals_visible_to, visible_account, visible_deal
from pipeline.core.errors import InvalidInput, Missing, NotFound
from pipeline.core.schemas import ErrorSchema, page
from pipeline.deals import influences, schemas, services
from pipeline.deals.models import Deal
from pipeline.extensions import db

blp = token_blueprint("deals_api", __name__, "/api/v1/deals", "Deals and their moves through the five stages.")
reference_blp = token_blueprint("reference_api", __name__, "/api/v1", "Lists the method is configured with.")


@dataclass
class DealView:
    """A deal with what its detail answer shows beside its own columns."""

    deal: Deal
    checklist: list[Any]
    missing: list[dict[str, str]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.deal, name)


def _detail(deal: Deal) -> DealView:
    return DealView(
        deal, services.current_checklist(deal), [m.to_dict() for m in services.what_is_missing(api_user(), deal)]
    )


@blp.route("")
@blp.arguments(schemas.DealQuery, location="query")
@blp.response(200, schemas.DealPage)
def list_deals(args: dict[str, Any]) -> dict[str, Any]:
    """The deals you may see, newest first, filtered by stage, owner, account or strategy."""
    query = (
        select(Deal)
        .options(joinedload(Deal.account), joinedload(Deal.owner))
        .where(deals_visible_to(api_user()))
        .order_by(Deal.id.desc())
        .limit(args["limit"] + 1)
    )
    for name in ("stage", "owner_id", "account_id", "strategy"):
        if args.get(name) is not None:
            query = query.where(getattr(Deal, name) == args[name])
    if args["cursor"]:
        query = query.where(Deal.id < args["cursor"])
    return page(list(db.session.scalars(query)), args["limit"])


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(schemas.DealCreateSchema)
@blp.response(201, schemas.DealDetailSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_deal(body: dict[str, Any]) -> DealView:
    """Open a deal in 确认 for one of your accounts."""
    user = api_user()
    account_id = body.pop("account_id")
    try:
        account = visible_account(user, account_id)
    except NotFound:
        raise InvalidInput({"account_id": f"no account {account_id} that you can see"}) from None
    title = body.pop("title")
    return _detail(services.create_deal(user, account, title, **body))


@blp.route("/<int:deal_id>")
@blp.response(200, schemas.DealDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_deal(deal_id: int) -> DealView:
    """One deal with its current checklist, the moves open to it and what the next one still wants."""
    return _detail(visible_deal(api_user(), deal_id))


@blp.route("/<int:deal_id>", methods=["PATCH"])
@blp.arguments(schemas.DealPatchSchema)
@blp.response(200, schemas.DealDetailSchema)
@blp.alt_response(409, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def patch_deal(body: dict[str, Any], deal_id: int) -> DealView:
    """Edit a deal's fields, sending the version you read; stages change only through transitions."""
    user = api_user()
    deal = visible_deal(user, deal_id)
    version = body.pop("version")
    services.update_deal(user, deal, body, expected_version=version)
    return _detail(deal)


@blp.route("/<int:deal_id>/transitions", methods=["POST"])
@idempotent
@blp.arguments(schemas.TransitionSchema)
@blp.response(200, schemas.TransitionResultSchema)
@blp.alt_response(409, schema=ErrorSchema, description="refused by a gate (with `missing`) or a concurrent change")
@blp.alt_response(422, schema=ErrorSchema)
def transition(body: dict[str, Any], deal_id: int) -> dict[str, Any]:
    """Move a deal: advance, revert, lose, reopen or complete."""
    user = api_user()
    deal = visible_deal(user, deal_id)
    event = services.move(
        user,
        deal,
        body["trigger"],
        reason=body["reason"],
        lost_reason=body["lost_reason"],
        override=body["override"],
        expected_version=body["version"],
    )
    return {"deal": _detail(deal), "event": event}


@blp.route("/<int:deal_id>/checklist/<item_key>", methods=["PUT"])
@blp.arguments(schemas.ChecklistUpdateSchema)
@blp.response(200, schemas.ChecklistResultSchema)
@blp.alt_response(422, schema=ErrorSchema)
def put_checklist_item(body: dict[str, Any], deal_id: int, item_key: str) -> dict[str, Any]:
    """Tick or untick one of the deal's checklist items, with an optional note."""
    user = api_user()
    deal = visible_deal(user, deal_id)
    item = services.set_checklist_item(user, deal, item_key, body["done"], body["note"])
    return {"item": item, "version": deal.version}


@blp.route("/<int:deal_id>/history")
@blp.response(200, schemas.HistorySchema)
def get_history(deal_id: int) -> dict[str, Any]:
    """Every move of the deal and every field change, oldest first."""
    deal = visible_deal(api_user(), deal_id)
    return {"events": services.history(deal), "changes": services.field_changes(deal)}


@blp.route("/<int:deal_id>/influences")
@blp.response(200, schemas.InfluenceListSchema)
@blp.alt_response(404, schema=ErrorSchema)
def list_influences(deal_id: int) -> dict[str, Any]:
    """The customer's people in the deal's decision, and the required roles (for 报价) nobody holds yet."""
    user = api_user()
    deal = visible_deal(user, deal_id)
    people = influences.list_influences(user, deal)
    missing = [
        Missing("influence", c.key, c.label(user.locale), c.label_en)
        for c in influences.missing_roles(people, influences.required_roles())
    ]
    return {"items": people, "missing": missing}


@blp.route("/<int:deal_id>/influences", methods=["POST"])
@idempotent
@blp.arguments(schemas.InfluenceCreateSchema)
@blp.response(201, schemas.InfluenceSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="the deal is over (lost or done)")
@blp.alt_response(422, schema=ErrorSchema)
def add_influence(body: dict[str, Any], deal_id: int) -> Any:
    """Name one of the customer's people on the deal: `contact_id` of the account's contact, or a new `name`."""
    user = api_user()
    return influences.add_influence(user, visible_deal(user, deal_id), **body)


@blp.route("/<int:deal_id>/influences/<int:influence_id>", methods=["PATCH"])
@blp.arguments(schemas.InfluencePatchSchema)
@blp.response(200, schemas.InfluenceSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema)
def patch_influence(body: dict[str, Any], deal_id: int, influence_id: int) -> Any:
    """Change one person's role, attitude, influence, depth or note."""
    user = api_user()
    return influences.change_influence(user, visible_deal(user, deal_id), influence_id, body)


@blp.route("/<int:deal_id>/influences/<int:influence_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema)
def delete_influence(deal_id: int, influence_id: int) -> None:
    """Take one person off the deal; the contact stays at the account."""
    user = api_user()
    influences.remove_influence(user, visible_deal(user, deal_id), influence_id)


@reference_blp.route("/lost-reasons")
@reference_blp.response(200, schemas.LostReasonSchema(many=True))
def list_lost_reasons() -> list[Any]:
    """The reasons a deal can be lost for (send the key as `lost_reason`)."""
    return services.lost_reasons()
