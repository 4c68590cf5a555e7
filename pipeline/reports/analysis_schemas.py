"""API schemas for the customer analyses: money as decimal strings ("1234.50"), shares as fractions of 1 ("0.2500")."""

from __future__ import annotations

from marshmallow import Schema, fields

from pipeline.core.schemas import Text
from pipeline.reports.filters import PERIODS
from pipeline.reports.schemas import Money, PeriodSchema, Rate, ReportQuery, ScopeSchema


class CustomerQuery(ReportQuery):
    period = Text(
        metadata={"description": f"{' | '.join(PERIODS)} (default last_12_months; custom when only dates are sent)"}
    )


class RuleSchema(Schema):
    key = fields.String(metadata={"description": "the rule set's settings key"})
    values = fields.Dict(keys=fields.String(), values=fields.Float())


class TierRuleSchema(Schema):
    tier = fields.String()
    label = fields.String()
    rule = fields.String()


class RulesSchema(Schema):
    rule_sets = fields.List(fields.Nested(RuleSchema))
    tiers = fields.List(fields.Nested(TierRuleSchema), metadata={"description": "each tier's rule in words"})


# ---- Customer value ----------------------------------------------------------------------------------------


class DecileSchema(Schema):
    decile = fields.Integer()
    accounts = fields.Integer()
    revenue = Money()
    share = Rate()
    cumulative_share = Rate()


class GroupRowSchema(Schema):
    key = fields.String()
    label = fields.String()
    accounts = fields.Integer()
    revenue = Money()
    share = Rate()


class PortfolioAccountSchema(Schema):
    account_id = fields.Integer()
    name = fields.String()
    owner_id = fields.Integer()
    revenue = Money()
    previous = Money(metadata={"description": "won revenue in the period of the same length before"})
    growth = Rate()  # null for a new buyer (nothing in the period before)
    share = Rate()
    quadrant = fields.String()
    tier = fields.String()


class ValueSchema(Schema):
    period = fields.Nested(PeriodSchema)
    previous = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    revenue = Money()
    buyers = fields.Integer()
    deciles = fields.List(fields.Nested(DecileSchema))
    tiers = fields.List(fields.Nested(GroupRowSchema))
    quadrants = fields.List(fields.Nested(GroupRowSchema))
    accounts = fields.List(fields.Nested(PortfolioAccountSchema), metadata={"description": "the top 100 by revenue"})
    growth_threshold = Rate()
    share_threshold = Rate()
    rules = fields.Nested(RulesSchema)


# ---- 80/20 --------------------------------------------------------------------------------------------------


class EconomicsSchema(Schema):
    revenue = Money()
    gross_profit = Money(metadata={"description": "entered gross profit only"})
    revenue_without_profit = Money()
    activities = fields.Integer()
    complaints = fields.Integer()
    contribution = Money()
    cost = Money()
    net = Money()


class CostlySchema(Schema):
    account_id = fields.Integer()
    name = fields.String()
    owner_id = fields.Integer()
    figures = fields.Nested(EconomicsSchema)


class ParetoGroupSchema(Schema):
    key = fields.String(metadata={"description": "top | costly | break_even"})
    accounts = fields.Integer()
    revenue = Money()
    gross_profit = Money()
    cost = Money()
    net = Money()


class SelfCheckSchema(Schema):
    rep_id = fields.Integer()
    name = fields.String()
    customers = fields.Integer()
    contacted_often = fields.Integer()
    share_of_customers = Rate()
    revenue = Money()
    revenue_from_often = Money()
    share_of_sales = Rate()


class ConcentrationSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    accounts = fields.Integer(
        metadata={"description": "active customers (had bought by the period's end): bought, contacted or complained"}
    )
    revenue = Money()
    gross_profit = Money()
    top_revenue_share = Rate()
    top_profit_share = Rate()
    groups = fields.List(fields.Nested(ParetoGroupSchema))
    costly = fields.List(fields.Nested(CostlySchema), metadata={"description": "worst first, at most 50"})
    self_check = fields.List(fields.Nested(SelfCheckSchema))
    rules = fields.Nested(RulesSchema)


# ---- Customer sales ------------------------------------------------------------------------------------------


class ProfitSchema(Schema):
    deals = fields.Integer()
    revenue = Money()
    gross_profit = Money()
    revenue_with_profit = Money()
    deals_without_profit = fields.Integer()
    margin = Rate()  # gross profit over the revenue of the deals that have one


class SalesRowSchema(Schema):
    key = fields.String(metadata={"description": "empty when not entered"})
    accounts = fields.Integer()
    share = Rate()
    profit = fields.Nested(ProfitSchema)


class LoyaltySchema(Schema):
    buyers = fields.Integer()
    repeat_buyers = fields.Integer()
    repeat_rate = Rate()
    average_days_between = fields.Float(allow_none=True)


class CustomerSalesSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    total = fields.Nested(ProfitSchema)
    product_line = fields.List(fields.Nested(SalesRowSchema))
    channel = fields.List(fields.Nested(SalesRowSchema))
    region = fields.List(fields.Nested(SalesRowSchema))
    loyalty = fields.Nested(LoyaltySchema)


# ---- Churn ------------------------------------------------------------------------------------------------------


class CountSchema(Schema):
    key = fields.String()
    count = fields.Integer()


class TraitRowSchema(Schema):
    key = fields.String()
    accounts = fields.Integer(metadata={"description": "accounts of this kind still there when the period began"})
    churned = fields.Integer()
    rate = Rate()


class FlaggedSchema(Schema):
    account_id = fields.Integer()
    name = fields.String()
    owner_id = fields.Integer()
    last_won_on = fields.Date()
    days_silent = fields.Integer()
    lifetime_revenue = Money()


class ChurnReportSchema(Schema):
    period = fields.Nested(PeriodSchema)
    scope = fields.Nested(ScopeSchema)
    churned = fields.Integer()
    reasons = fields.List(fields.Nested(CountSchema))
    by = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(TraitRowSchema)))
    months = fields.List(fields.Nested(CountSchema), metadata={"description": "key: YYYY-MM"})
    tenure = fields.List(fields.Nested(CountSchema))
    average_tenure_days = fields.Float(allow_none=True)
    flagged = fields.List(fields.Nested(FlaggedSchema), metadata={"description": "longest silent first, at most 200"})
    flagged_count = fields.Integer()
    rules = fields.Nested(RulesSchema)
