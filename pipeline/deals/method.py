"""The selling method's vocabulary (../shared/domain.md): stages, strategies, their stable keys and labels."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Stage:
    """A stage of the method, or one of its two end states."""

    key: str
    label_zh: str
    label_en: str
    probability: Decimal  # default win probability while a deal sits here

    def label(self, locale: str = "zh") -> str:
        return self.label_en if locale.startswith("en") else self.label_zh


QUALIFY, EVALUATE, PROPOSE, CLOSE, FOLLOW_UP = "qualify", "evaluate", "propose", "close", "follow_up"
LOST, DONE = "lost", "done"

# The five stages in order (控制关键的5段销售过程); none is skipped.
STAGES: tuple[Stage, ...] = (
    Stage(QUALIFY, "确认", "Qualify", Decimal("0.10")),
    Stage(EVALUATE, "考察", "Evaluate", Decimal("0.25")),
    Stage(PROPOSE, "报价", "Propose", Decimal("0.50")),
    Stage(CLOSE, "成交", "Close", Decimal("0.75")),
    Stage(FOLLOW_UP, "跟进", "Follow-up", Decimal("1.00")),
)
END_STATES: tuple[Stage, ...] = (
    Stage(LOST, "输单", "Lost", Decimal("0")),
    Stage(DONE, "完结", "Done", Decimal("1.00")),
)
STAGE_KEYS: tuple[str, ...] = tuple(s.key for s in STAGES)
ALL_STATES: dict[str, Stage] = {s.key: s for s in (*STAGES, *END_STATES)}
OPEN_STAGES: tuple[str, ...] = (QUALIFY, EVALUATE, PROPOSE, CLOSE)  # not yet won, may still be lost
WON_STATES: tuple[str, ...] = (FOLLOW_UP, DONE)


# What each stage is for, in the deck's words (控制关键的5段销售过程, seed 004): shown above the stage's checklist.
STAGE_GUIDANCE: dict[str, tuple[str, str]] = {
    QUALIFY: (
        "研究客户，建立关系，找出客户关键的商业行动计划，再决定这个机会值不值得投入（会面/不会面）。",
        "Research the customer, build the relationship, find their key business plan, then decide whether the "
        "opportunity is worth pursuing (go / no-go).",
    ),
    EVALUATE: (
        "把客户的行动计划与我们的能力联系起来，考察难点，评估竞争优势，影响采购标准，深入了解每一位客户参与者。",
        "Tie the customer's plan to our capabilities, examine the hard points, weigh our competitive advantage, "
        "shape the buying criteria and get to know every person in the decision.",
    ),
    PROPOSE: (
        "按客户的需要和行动计划差别化方案，建立价值优势，提交提案，并把关键利益相关者的忧虑摆到桌面上。",
        "Differentiate the offer to the customer's needs and plan, establish the value advantage, submit the "
        "proposal and bring the key stakeholders' concerns into the open.",
    ),
    CLOSE: (
        "解除忧虑并优化方案，制定执行计划，洽谈最终条款，签署合同。",
        "Resolve the concerns and refine the solution, agree the implementation plan, negotiate the final terms, "
        "sign the contract.",
    ),
    FOLLOW_UP: (
        "确保交付的方案符合客户需要，回顾已实现的价值，找出新机会，请客户做备询人并推荐线索。",
        "Make sure the delivered solution meets the need, review the value realised, find new opportunities, "
        "and ask the customer to act as a reference and for referrals.",
    ),
}


def guidance(key: str | None, locale: str = "zh") -> str:
    """What the method asks of a deal in this stage, in the reader's language ("" for an end state)."""
    zh, en = STAGE_GUIDANCE.get(key or "", ("", ""))
    return en if locale.startswith("en") else zh


def stage(key: str) -> Stage:
    """Look a stage or end state up by key."""
    return ALL_STATES[key]


def next_stage(key: str) -> str | None:
    """The stage after `key` in the method, or None after the last."""
    i = STAGE_KEYS.index(key)
    return STAGE_KEYS[i + 1] if i + 1 < len(STAGE_KEYS) else None


@dataclass(frozen=True)
class Strategy:
    """A competitive strategy (策略): when it fits (适用场合) and how it is played, in both languages."""

    key: str
    label_zh: str
    label_en: str
    fits: str  # when it fits, in Chinese
    play: str  # how it is played, in Chinese
    fits_en: str
    play_en: str

    def label(self, locale: str = "zh") -> str:
        return self.label_en if locale.startswith("en") else self.label_zh

    def when_it_fits(self, locale: str = "zh") -> str:
        """When the method says to choose this strategy, in the page's language."""
        return self.fits_en if locale.startswith("en") else self.fits

    def how_it_is_played(self, locale: str = "zh") -> str:
        """What the method says to do once it is chosen, in the page's language."""
        return self.play_en if locale.startswith("en") else self.play


# ../shared/domain.md section 2: the five strategies, one per deal.
STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "frontal",
        "正面出击",
        "Frontal",
        "我们在产品/服务或声誉上明显领先于竞争对手（更好的产品、价格/功能优势、品牌、稳定的关系）",
        "证明我们的方案是客户的最佳选择；依靠公司的稳定性和形象",
        "We are clearly ahead of the competitor in product/service or reputation "
        "(better product, price/feature edge, brand, stable relationship)",
        "Prove our offer is the customer's best solution; lean on our company's stability and image",
    ),
    Strategy(
        "flanking",
        "出其不意",
        "Flanking",
        "竞争对手比我们处于更有利的位置",
        "把战场移到新的地方：扩展标准 (X → X+1) 或改变标准 (X → Y)，例如从价格转向服务，从产品转向产品+服务",
        "The competitor is better placed than we are",
        "Move the battle to new ground: widen the criteria (X → X+1) or change them (X → Y), "
        "e.g. from price to service, from product to product+service",
    ),
    Strategy(
        "divide_and_conquer",
        "分而治之",
        "Divide and conquer",
        "我们不能或不想赢得整个机会；竞争对手已占据客户",
        "先赢得一个较小的战役（一个部门、用户群、地区或方案的一部分），再扩展；与已安装的方案共存",
        "We cannot or will not win the whole opportunity; a competitor already holds the customer",
        "Win one smaller battle first (one department, user group, region or part of the solution), then expand; "
        "coexist with the installed solution",
    ),
    Strategy(
        "develop_for_future",
        "立足长远",
        "Develop for the future",
        "我们的地位薄弱，或者还没有机会",
        "投资：建立影响力和信誉，倾听和观察，教育客户；推迟决策，影响下一个项目的标准",
        "Our position is weak, or there is no opportunity yet",
        "Invest: build influence and credibility, listen and observe, educate; postpone the decision; "
        "shape the criteria of the next project",
    ),
    Strategy(
        "fortify_to_defend",
        "加强防御",
        "Fortify to defend",
        "我们是现有供应商，面对新的机会",
        "隔绝（加强关系、扩大对客户的覆盖）与孤立（不给竞争对手留机会、制定标准）",
        "We are the incumbent supplier facing a new opportunity",
        "Insulate (strengthen the relationship, widen coverage of the account) and isolate "
        "(leave the competitor no opening, set the standards)",
    ),
)
STRATEGY_KEYS: tuple[str, ...] = tuple(s.key for s in STRATEGIES)
STRATEGY_BY_KEY: dict[str, Strategy] = {s.key: s for s in STRATEGIES}

# Labels of the deal fields a gate can ask for.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "amount": ("金额", "Amount"),
    "expected_close_date": ("预计成交日期", "Expected close date"),
    "strategy": ("竞争策略", "Strategy"),
}


@dataclass(frozen=True)
class Choice:
    """One value of a scale the method names (a role in the decision, an attitude, a level), with its labels."""

    key: str
    label_zh: str
    label_en: str

    def label(self, locale: str = "zh") -> str:
        return self.label_en if locale.startswith("en") else self.label_zh


# Buying influences (客户参与者): who takes part in the customer's decision, and how they stand.
ECONOMIC_BUYER, COACH = "economic_buyer", "coach"
INFLUENCE_ROLES: tuple[Choice, ...] = (
    Choice(ECONOMIC_BUYER, "决策者（经济买家）", "Economic buyer"),
    Choice("user", "使用者", "User"),
    Choice("technical", "技术把关者", "Technical"),
    Choice(COACH, "内线（教练）", "Coach"),
)
ATTITUDES: tuple[Choice, ...] = (
    Choice("supporter", "支持", "Supporter"),
    Choice("neutral", "中立", "Neutral"),
    Choice("opponent", "反对", "Opponent"),
)
INFLUENCE_LEVELS: tuple[Choice, ...] = (
    Choice("high", "高", "High"),
    Choice("medium", "中", "Medium"),
    Choice("low", "低", "Low"),
)
# Personal relationship depth with one contact, 1–5 (客户关系群体, ../shared/domain.md section 4).
RELATIONSHIP_DEPTHS: tuple[Choice, ...] = (
    Choice("1", "一级 认识", "1 Know of"),
    Choice("2", "二级 还熟悉", "2 Acquainted"),
    Choice("3", "三级 比较熟悉", "3 Familiar"),
    Choice("4", "四级 很熟悉", "4 Close"),
    Choice("5", "五级 相知", "5 Trusted"),
)
INFLUENCE_ROLE_KEYS: tuple[str, ...] = tuple(c.key for c in INFLUENCE_ROLES)
ATTITUDE_KEYS: tuple[str, ...] = tuple(c.key for c in ATTITUDES)
INFLUENCE_LEVEL_KEYS: tuple[str, ...] = tuple(c.key for c in INFLUENCE_LEVELS)

# Kinds of customer (客户划分 by kind, seed 004) and kinds of touch with them (活动), labelled once here.
ACCOUNT_KIND_CHOICES: tuple[Choice, ...] = (
    Choice("b2b", "商业客户（B2B）", "Business (B2B)"),
    Choice("b2c", "个人与家庭客户（B2C）", "Consumer (B2C)"),
)
ACTIVITY_KIND_CHOICES: tuple[Choice, ...] = (
    Choice("call", "电话", "Call"),
    Choice("visit", "拜访", "Visit"),
    Choice("email", "邮件", "E-mail"),
    Choice("meeting", "会议", "Meeting"),
    Choice("note", "备注", "Note"),
)
