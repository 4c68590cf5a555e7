"""The customer-side scales of the method (../shared/domain.md §3–6): their stable keys and labels, defined once."""

from __future__ import annotations

from pipeline.deals.method import Choice

# §3 潜力客户工作表: seven yes/no criteria, one point each (0–7); the deck compares up to five candidates.
QUALIFICATION_CRITERIA: tuple[Choice, ...] = (
    Choice("growth", "客户的自身成长性", "Customer's own growth"),
    Choice("business_plan", "客户的业务规划", "Customer's business plan"),
    Choice("funding", "资金潜力", "Funding potential"),
    Choice("opportunities", "商机", "Opportunities"),
    Choice("solution_fit", "解决方案适合度", "Fit of our solution"),
    Choice("our_competitiveness", "我们的竞争力", "Our competitiveness"),
    Choice("relationship", "客户关系", "Relationship"),
)
QUALIFICATION_KEYS: tuple[str, ...] = tuple(c.key for c in QUALIFICATION_CRITERIA)
MAX_COMPARED = 5

# §4 关系水平, from least to most involved; the rep sets it, the advised level stands beside it.
RELATIONSHIP_LEVELS: tuple[Choice, ...] = (
    Choice("basic", "基本关系", "Basic"),
    Choice("reactive", "反应关系", "Reactive"),
    Choice("accountable", "可靠关系", "Accountable"),
    Choice("proactive", "主动关系", "Proactive"),
    Choice("partnership", "伙伴关系", "Partnership"),
)
RELATIONSHIP_KEYS: tuple[str, ...] = tuple(c.key for c in RELATIONSHIP_LEVELS)

# §5 by frequency (seed 003), computed from won deals in the last twelve months.
FREQUENCY_CLASSES: tuple[Choice, ...] = (
    Choice("one_time", "一次性", "One-time"),
    Choice("occasional", "间或", "Occasional"),
    Choice("regular", "经常性", "Regular"),
)

# §5 by value (客户价值), purchase deciles (购买十分位分析, seed 003); the rules are settings (reports/value.py).
VALUE_TIERS: tuple[Choice, ...] = (
    Choice("superstar", "天王巨星", "Superstar"),
    Choice("rising", "后起之秀", "Rising star"),
    Choice("fading", "明日黄花", "Fading"),
    Choice("ordinary", "普通", "Ordinary"),
)
VALUE_TIER_KEYS: tuple[str, ...] = tuple(c.key for c in VALUE_TIERS)

# §5 the portfolio view (波斯顿矩阵): the account's revenue growth against its share of revenue.
PORTFOLIO_QUADRANTS: tuple[Choice, ...] = (
    Choice("star", "明星", "Star"),
    Choice("cash_cow", "现金牛", "Cash cow"),
    Choice("question_mark", "孩童", "Question mark"),
    Choice("dog", "瘦狗", "Dog"),
)
PORTFOLIO_QUADRANT_KEYS: tuple[str, ...] = tuple(c.key for c in PORTFOLIO_QUADRANTS)

# §6 churn (流失分析): why a customer left, as the rep records it.
CHURN_REASONS: tuple[Choice, ...] = (
    Choice("price", "价格", "Price"),
    Choice("service", "服务不满意", "Unhappy with service"),
    Choice("quality", "产品质量", "Product quality"),
    Choice("competitor", "转向竞争对手", "Went to a competitor"),
    Choice("no_need", "需求消失", "No longer needed"),
    Choice("closed", "停业或迁移", "Closed or moved"),
    Choice("other", "其他", "Other"),
)
CHURN_REASON_KEYS: tuple[str, ...] = tuple(c.key for c in CHURN_REASONS)

# §6 RATER (seed 003): the five dimensions of service quality, each scored 1–5 after a purchase.
RATER_DIMENSIONS: tuple[Choice, ...] = (
    Choice("reliability", "信赖度", "Reliability"),
    Choice("assurance", "保证度", "Assurance"),
    Choice("tangibles", "可见度", "Tangibles"),
    Choice("empathy", "关怀度", "Empathy"),
    Choice("responsiveness", "反应度", "Responsiveness"),
)
RATER_KEYS: tuple[str, ...] = tuple(c.key for c in RATER_DIMENSIONS)

# §6 complaints (客户抱怨, seed 003): the steps from receiving to an apology that closes it.
COMPLAINT_STATES: tuple[Choice, ...] = (
    Choice("received", "受理", "Received"),
    Choice("understood", "核心事项", "Core issue understood"),
    Choice("proposed", "方案", "Solution proposed"),
    Choice("accepted", "认可", "Solution accepted"),
    Choice("closed", "致歉关闭", "Apologised and closed"),
)
COMPLAINT_STATE_KEYS: tuple[str, ...] = tuple(c.key for c in COMPLAINT_STATES)

# Call results, so the best hour to reach a contact comes from the calls that were answered.
CALL_RESULTS: tuple[Choice, ...] = (
    Choice("answered", "已接通", "Answered"),
    Choice("no_answer", "无人接听", "No answer"),
    Choice("busy", "占线", "Busy"),
    Choice("declined", "拒接", "Declined"),
)
CALL_RESULT_KEYS: tuple[str, ...] = tuple(c.key for c in CALL_RESULTS)
