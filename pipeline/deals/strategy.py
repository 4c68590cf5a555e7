"""Choosing a deal's strategy (策略): the advisor's questions and rule, the choice, and its history.

The advisor asks the five questions the method implies (../shared/domain.md section 2, "when it fits") and
answers with one strategy and the answers that led to it. The precedence, first match wins:

1. no opportunity yet                          → develop_for_future (立足长远): nothing to win now, invest
2. we are the incumbent                        → fortify_to_defend (加强防御): hold what we have
3. we cannot (or will not) win all of it       → divide_and_conquer (分而治之): win one part first
4. clearly ahead and the competitor is not better placed → frontal (正面出击)
5. anything else: the competitor is better placed, or we are not clearly ahead → flanking (出其不意):
   without a clear lead a head-on attack is not advised, so move the battle to new criteria.

Rule 3 comes before rule 4 on purpose: a clear lead does not help win the part of the customer a competitor
holds. "Clearly ahead" and "competitor better placed" both answered yes contradict each other; the
competitor's position decides (rule 5), because a frontal attack needs a clear lead.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.errors import Conflict, InvalidInput
from pipeline.deals import services
from pipeline.deals.method import STRATEGY_BY_KEY, STRATEGY_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db

DEVELOP, FORTIFY, DIVIDE, FRONTAL, FLANKING = (
    "develop_for_future",
    "fortify_to_defend",
    "divide_and_conquer",
    "frontal",
    "flanking",
)


@dataclass(frozen=True)
class Question:
    """One yes/no question of the advisor, and how each answer reads inside a reason."""

    key: str
    text_zh: str
    text_en: str
    yes_zh: str
    yes_en: str
    no_zh: str
    no_en: str

    def text(self, locale: str = "zh") -> str:
        return self.text_en if locale.startswith("en") else self.text_zh

    def said(self, answer: bool, locale: str = "zh") -> str:
        """The answer as a phrase ("we are the incumbent"), for the reason."""
        if locale.startswith("en"):
            return self.yes_en if answer else self.no_en
        return self.yes_zh if answer else self.no_zh


# In the order the rule reads them (see the module docstring).
QUESTIONS: tuple[Question, ...] = (
    Question(
        "opportunity",
        "客户现在有明确的机会（项目）吗？",
        "Is there an opportunity yet?",
        "已经有机会",
        "there is an opportunity",
        "还没有机会",
        "there is no opportunity yet",
    ),
    Question(
        "incumbent",
        "我们是客户现有的供应商吗？",
        "Are we the incumbent supplier?",
        "我们是现有供应商",
        "we are the incumbent",
        "我们不是现有供应商",
        "we are not the incumbent",
    ),
    Question(
        "can_win_all",
        "我们能够（并且想要）赢得整个机会吗？",
        "Can we (and do we want to) win all of it?",
        "我们能赢得整个机会",
        "we can win all of it",
        "我们不能或不想赢得整个机会",
        "we cannot or will not win all of it",
    ),
    Question(
        "ahead",
        "我们在产品/服务或声誉上明显领先于竞争对手吗？",
        "Are we clearly ahead of the competitor in product, service or reputation?",
        "我们明显领先",
        "we are clearly ahead",
        "我们并不明显领先",
        "we are not clearly ahead",
    ),
    Question(
        "competitor_better",
        "竞争对手比我们处于更有利的位置吗？",
        "Is the competitor better placed than we are?",
        "竞争对手处于更有利的位置",
        "the competitor is better placed",
        "竞争对手并不比我们更有利",
        "the competitor is not better placed",
    ),
)
QUESTION_KEYS: tuple[str, ...] = tuple(q.key for q in QUESTIONS)
QUESTION_BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}


@dataclass(frozen=True)
class Answers:
    """The five yes/no answers, named as the questions are."""

    opportunity: bool
    incumbent: bool
    can_win_all: bool
    ahead: bool
    competitor_better: bool

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Why each rule suggests its strategy, in both languages (the strategy's own "how it is played" follows on the page).
_WHY: dict[str, tuple[str, str]] = {
    DEVELOP: (
        "现在没有可赢的项目，不要硬推：投资于影响力和信誉，影响下一个项目的标准。",
        "There is nothing to win yet: invest in influence and credibility and shape the next project's criteria.",
    ),
    FORTIFY: (
        "现有供应商面对新机会要守住阵地：加强并扩大关系，不给竞争对手留机会。",
        "As the incumbent facing a new opportunity, hold the ground: strengthen and widen the relationship "
        "and leave the competitor no opening.",
    ),
    DIVIDE: (
        "赢不下全部时先赢下一块（一个部门、用户群、地区或方案的一部分），再扩展。",
        "When the whole cannot be won, win one part first (a department, user group, region or part of the "
        "solution), then expand.",
    ),
    FRONTAL: (
        "明显领先时正面出击：证明我们的方案是客户的最佳选择。",
        "With a clear lead, attack head-on: prove our offer is the customer's best solution.",
    ),
    FLANKING: (
        "没有明显优势时不要正面硬拼：扩展或改变评估标准，把战场移到我们更强的地方。",
        "Without a clear edge, do not attack head-on: widen or change the criteria and move the battle to "
        "where we are stronger.",
    ),
}


@dataclass(frozen=True)
class Advice:
    """The suggested strategy, the answers that decided it, and why, in both languages."""

    strategy: str
    decided_by: tuple[str, ...]  # question keys, in QUESTIONS order
    reason_zh: str
    reason_en: str

    def reason(self, locale: str = "zh") -> str:
        return self.reason_en if locale.startswith("en") else self.reason_zh


def _rule(a: Answers) -> tuple[str, tuple[str, ...]]:
    """The precedence of the module docstring: the strategy and the questions whose answers decided it."""
    if not a.opportunity:
        return DEVELOP, ("opportunity",)
    if a.incumbent:
        return FORTIFY, ("opportunity", "incumbent")
    if not a.can_win_all:
        return DIVIDE, ("opportunity", "incumbent", "can_win_all")
    if a.competitor_better:
        return FLANKING, ("opportunity", "incumbent", "can_win_all", "competitor_better")
    if not a.ahead:
        return FLANKING, ("opportunity", "incumbent", "can_win_all", "ahead")
    return FRONTAL, ("opportunity", "incumbent", "can_win_all", "ahead", "competitor_better")


def advise(answers: Answers) -> Advice:
    """Suggest one of the five strategies from the five answers, saying which answers led there."""
    key, decided_by = _rule(answers)
    given = answers.as_dict()
    strategy = STRATEGY_BY_KEY[key]
    why_zh, why_en = _WHY[key]
    said_zh = "，".join(QUESTION_BY_KEY[q].said(given[q], "zh") for q in decided_by)
    said_en = ", ".join(QUESTION_BY_KEY[q].said(given[q], "en") for q in decided_by)
    return Advice(
        strategy=key,
        decided_by=decided_by,
        reason_zh=f"因为{said_zh}，建议{strategy.label('zh')}。{why_zh}",
        reason_en=f"Because {said_en}, the advice is {strategy.label('en')}. {why_en}",
    )


# ---- Choosing -------------------------------------------------------------------------------------------------

RATIONALE_MISSING, RATIONALE_UNCHANGED = "missing", "unchanged"


def rationale_problem(old_key: str | None, old_rationale: str, new_key: str, new_rationale: str) -> str | None:
    """What is wrong with the rationale given for a choice, if anything: a new strategy needs its own reason.

    Keeping the strategy needs nothing (the rationale may be reworded or left). Changing it needs a rationale,
    and, when there was a strategy before, one that is not still the previous strategy's word for word.
    """
    if new_key == old_key:
        return None
    if not new_rationale.strip():
        return RATIONALE_MISSING
    if old_key is not None and new_rationale.strip() == (old_rationale or "").strip():
        return RATIONALE_UNCHANGED
    return None


_RATIONALE_MESSAGES = {
    RATIONALE_MISSING: "say why you choose this strategy",
    RATIONALE_UNCHANGED: "give the reason for the new strategy; this is still the previous strategy's rationale",
}


def choose_strategy(
    actor: User, deal: Deal, key: str, rationale: str, expected_version: int | None, at: datetime | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """Set the deal's strategy and its rationale together (one moment in the log); stale versions are refused."""
    if expected_version is not None and expected_version != deal.version:
        raise Conflict(f"{services.STALE} (you have version {expected_version}, the deal is at {deal.version})")
    rationale = rationale.strip()
    if key not in STRATEGY_KEYS:
        raise InvalidInput({"strategy": f"one of {', '.join(STRATEGY_KEYS)}"})
    problem = rationale_problem(deal.strategy, deal.strategy_rationale, key, rationale)
    if problem is not None:
        raise InvalidInput({"strategy_rationale": _RATIONALE_MESSAGES[problem]})
    return services.update_deal(
        actor, deal, {"strategy": key, "strategy_rationale": rationale}, expected_version=expected_version, at=at
    )


# ---- History --------------------------------------------------------------------------------------------------

CHANGED, REWORDED, INITIAL = "changed", "reworded", "initial"


@dataclass(frozen=True)
class StrategyChange:
    """One moment in the strategy's story: from → to, who, when, and the rationale that stood right after it."""

    kind: str  # CHANGED (the strategy changed), REWORDED (only the rationale), INITIAL (set when the deal was created)
    at: datetime
    who: str
    from_key: str | None
    to_key: str | None
    rationale: str


def strategy_history(deal: Deal) -> list[StrategyChange]:
    """Every change of the deal's strategy and of its rationale, newest first, from the field-change log.

    A strategy and a rationale saved together share one moment (apply_changes stamps both alike), so rows are
    paired by (moment, person); a strategy changed without a new rationale keeps the one that stood. What the
    deal was created with is not in the log; it is read back from the first logged change's old values.
    """
    rows = db.session.execute(
        select(FieldChange, User.name)
        .outerjoin(User, User.id == FieldChange.user_id)
        .where(
            FieldChange.entity == "deal",
            FieldChange.entity_id == deal.id,
            FieldChange.field.in_(("strategy", "strategy_rationale")),
        )
        .order_by(FieldChange.at, FieldChange.id)
    ).all()
    moments: list[dict[str, Any]] = []
    for change, name in rows:
        if not moments or (moments[-1]["at"], moments[-1]["user_id"]) != (change.at, change.user_id):
            moments.append({"at": change.at, "user_id": change.user_id, "who": name or ""})
        moments[-1][change.field] = change
    first_strategy = next((m["strategy"] for m in moments if "strategy" in m), None)
    first_rationale = next((m["strategy_rationale"] for m in moments if "strategy_rationale" in m), None)
    strategy = first_strategy.old_value if first_strategy is not None else deal.strategy
    rationale = (first_rationale.old_value if first_rationale is not None else deal.strategy_rationale) or ""
    entries: list[StrategyChange] = []
    if strategy is not None:
        entries.append(StrategyChange(INITIAL, deal.created_at, "", None, strategy, rationale))
    for moment in moments:
        if "strategy_rationale" in moment:
            rationale = moment["strategy_rationale"].new_value or ""
        if "strategy" in moment:
            change = moment["strategy"]
            entries.append(StrategyChange(CHANGED, moment["at"], moment["who"], strategy, change.new_value, rationale))
            strategy = change.new_value
        else:
            entries.append(StrategyChange(REWORDED, moment["at"], moment["who"], strategy, strategy, rationale))
    entries.reverse()
    return entries
