"""The deal page's activities section: the log form, the latest touches and how many there have been."""

from __future__ import annotations

from typing import Any

from pipeline.activities import services
from pipeline.activities.forms import ActivityForm, blank_form
from pipeline.activities.models import CALLS_BEFORE_MOST_SALES_CLOSE
from pipeline.core.timeutil import local_date
from pipeline.deals.models import Deal

SHOWN = 50  # touches listed on the deal page; the count covers them all


def panel(deal: Deal, form: ActivityForm | None = None) -> dict[str, Any]:
    """What _activities.html draws; a refused form is passed back so what was typed stays."""
    activities = services.deal_activities(deal.id, limit=SHOWN)
    count, latest = services.touch_summary(deal.id)
    calls, touches = services.touch_counts([deal.id]).get(deal.id, (0, 0))
    return {
        "calls": calls,
        "customer_touches": touches,
        "calls_to_go": max(CALLS_BEFORE_MOST_SALES_CLOSE - calls, 0),
        "rule_calls": CALLS_BEFORE_MOST_SALES_CLOSE,
        "form": form if form is not None else blank_form(deal.account.contacts),
        "activities": activities,
        "count": count,
        "latest": local_date(latest) if latest is not None else None,
    }
