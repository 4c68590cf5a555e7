"""Every model module, imported once so the metadata (and Alembic) sees all tables."""

from pipeline.accounts.models import Account, Contact, Qualification, Tag
from pipeline.activities.models import Activity
from pipeline.auth.models import ApiToken, Team, User
from pipeline.care.models import Complaint, SatisfactionSurvey
from pipeline.core.audit import AuditEvent
from pipeline.core.changelog import FieldChange
from pipeline.core.settings import Setting
from pipeline.deals.models import BuyingInfluence, ChecklistTemplate, Deal, DealChecklistItem, LostReason, StageEvent
from pipeline.reports.rollup.models import (
    RollupDeal,
    RollupEntryCount,
    RollupLostCount,
    RollupStageTotal,
    RollupState,
    RollupStay,
    RollupStayCount,
    RollupWonCount,
)

__all__ = [
    "Account",
    "Activity",
    "ApiToken",
    "AuditEvent",
    "BuyingInfluence",
    "ChecklistTemplate",
    "Complaint",
    "Contact",
    "Deal",
    "DealChecklistItem",
    "FieldChange",
    "LostReason",
    "Qualification",
    "RollupDeal",
    "RollupEntryCount",
    "RollupLostCount",
    "RollupStageTotal",
    "RollupState",
    "RollupStay",
    "RollupStayCount",
    "RollupWonCount",
    "SatisfactionSurvey",
    "Setting",
    "StageEvent",
    "Tag",
    "Team",
    "User",
]
