"""The figures each deal keeps for the weekly export (issue 7): its current stage's required checklist items done
and in all, and its newest activity's moment. Recounted by the services that change them, so an export of a
million deals reads three columns instead of aggregating the checklist and activity tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update

from pipeline.deals.models import ChecklistTemplate, Deal, DealChecklistItem
from pipeline.extensions import db

D, ITEM, TEMPLATE = Deal.__table__.c, DealChecklistItem.__table__.c, ChecklistTemplate.__table__.c
KEPT_CHECKLIST = ("checklist_done", "checklist_required")

# The deal's items of the stage it is in whose template is required (the figure the export used to count).
_OF_THIS_STAGE = and_(
    ITEM.deal_id == D.id,
    ITEM.stage == D.stage,
    ITEM.item_key.in_(select(TEMPLATE.key).where(TEMPLATE.required.is_(True))),
)
_REQUIRED = select(func.count()).where(_OF_THIS_STAGE).scalar_subquery()
_DONE = select(func.count()).where(_OF_THIS_STAGE, ITEM.done.is_(True)).scalar_subquery()

# Every deal at once (the migration's backfill, a bulk load, a template made required or optional).
RECOUNT_ALL = (
    "UPDATE deals SET checklist_done = 0, checklist_required = 0 WHERE checklist_done <> 0 OR checklist_required <> 0",
    """
UPDATE deals SET checklist_done = c.done, checklist_required = c.required
FROM (
    SELECT i.deal_id AS deal_id, count(*) AS required, sum(CASE WHEN i.done THEN 1 ELSE 0 END) AS done
    FROM deal_checklist_items i
    JOIN checklist_templates t ON t.key = i.item_key
    JOIN deals d ON d.id = i.deal_id AND d.stage = i.stage
    WHERE t.required
    GROUP BY i.deal_id
) AS c
WHERE deals.id = c.deal_id
""",
    "UPDATE deals SET last_activity_at = NULL WHERE last_activity_at IS NOT NULL",
    """
UPDATE deals SET last_activity_at = a.last
FROM (
    SELECT deal_id, max(occurred_at) AS last FROM activities WHERE deal_id IS NOT NULL GROUP BY deal_id
) AS a
WHERE deals.id = a.deal_id
""",
)


def recount_checklist(deal_ids: Iterable[int]) -> None:
    """Recount the kept checklist figures of these deals from their items (after the items' flush)."""
    ids = list(deal_ids)
    if not ids:
        return
    db.session.execute(
        update(Deal.__table__)
        .where(D.id.in_(ids))
        # Not an edit of the deal: neither its version nor its updated_at moves.
        .values(checklist_done=_DONE, checklist_required=_REQUIRED, updated_at=D.updated_at)
        .execution_options(synchronize_session=False)
    )
    _expire(ids, KEPT_CHECKLIST)


def note_activity(deal_id: int, occurred_at: datetime) -> None:
    """An activity was logged on the deal: keep its moment if it is the newest (atomic against a concurrent one)."""
    db.session.execute(
        update(Deal.__table__)
        .where(D.id == deal_id, or_(D.last_activity_at.is_(None), D.last_activity_at < occurred_at))
        .values(last_activity_at=occurred_at, updated_at=D.updated_at)
    )
    _expire([deal_id], ("last_activity_at",))


def recount_all() -> None:
    """Recount every deal's kept figures from the tables, in four statements."""
    db.session.flush()
    for statement in RECOUNT_ALL:
        db.session.execute(text(statement))
    db.session.expire_all()


def _expire(ids: list[int], attributes: tuple[str, ...]) -> None:
    """Loaded deals read the kept figures again when next asked (the UPDATE went past the ORM)."""
    wanted = set(ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Deal) and obj.id in wanted:
            db.session.expire(obj, list(attributes))
