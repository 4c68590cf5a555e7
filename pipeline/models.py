"""Every model module, imported once so the metadata (and Alembic) sees all tables."""

from pipeline.accounts.models import Account, Contact
from pipeline.activities.models import Activity
from pipeline.auth.models import ApiToken, Team, User
from pipeline.core.audit import AuditEvent
from pipeline.core.changelog import FieldChange
from pipeline.deals.models import BuyingInfluence, ChecklistTemplate, Deal, DealChecklistItem, LostReason, StageEvent

__all__ = [
    "Account",
    "Activity",
    "ApiToken",
    "AuditEvent",
    "BuyingInfluence",
    "ChecklistTemplate",
    "Contact",
    "Deal",
    "DealChecklistItem",
    "FieldChange",
    "LostReason",
    "StageEvent",
    "Team",
    "User",
]
