"""Forms of the strategy page: the advisor's five questions (a GET form) and the choice of a strategy."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import Field, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from pipeline.core.forms import BaseForm
from pipeline.core.pages import locale_code
from pipeline.deals.forms import VersionedForm
from pipeline.deals.method import STRATEGIES
from pipeline.deals.strategy import (
    QUESTIONS,
    RATIONALE_MISSING,
    RATIONALE_UNCHANGED,
    Answers,
    rationale_problem,
)

YES, NO = "yes", "no"


def _yes_no() -> list[SelectChoice]:
    return [SelectChoice(YES, str(_l("Yes"))), SelectChoice(NO, str(_l("No")))]


def _question() -> RadioField:
    return RadioField(choices=_yes_no, validators=[InputRequired(message=_l("Answer this question."))])


class AdvisorForm(BaseForm):
    """The five questions, read from the query string so an answered advisor can be bookmarked and shared."""

    class Meta:
        csrf = False

    opportunity = _question()
    incumbent = _question()
    can_win_all = _question()
    ahead = _question()
    competitor_better = _question()

    def __init__(self, formdata: MultiDict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        locale = locale_code()
        for question in QUESTIONS:  # the questions' words come from the method, in the page's language
            self[question.key].label.text = question.text(locale)

    def answered(self) -> dict[str, str]:
        """The answers as query-string values, to carry them on (e.g. to the "use this suggestion" button)."""
        return {q.key: self[q.key].data for q in QUESTIONS if self[q.key].data in (YES, NO)}

    def answers(self) -> Answers:
        """The validated answers as the advisor takes them."""
        return Answers(**{q.key: self[q.key].data == YES for q in QUESTIONS})


def strategy_only_choices() -> list[SelectChoice]:
    """The five strategies labelled in the page's language (choosing here means choosing one of them)."""
    locale = locale_code()
    return [SelectChoice(s.key, s.label(locale)) for s in STRATEGIES]


class ChooseStrategyForm(VersionedForm):
    """One of the five strategies and why; a change of strategy must say why anew."""

    strategy = SelectField(
        _l("Strategy"), choices=strategy_only_choices, validators=[InputRequired(message=_l("Choose a strategy."))]
    )
    strategy_rationale = TextAreaField(_l("Why this strategy"), validators=[Length(max=4000)])

    def __init__(self, *args: Any, current: tuple[str | None, str] = (None, ""), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current  # the deal's strategy and rationale as the page showed them

    def validate_strategy_rationale(self, field: Field) -> None:
        """The same rule the service applies, with the words in the page's language."""
        old_key, old_rationale = self.current
        problem = rationale_problem(old_key, old_rationale, self.strategy.data or "", field.data or "")
        if problem == RATIONALE_MISSING:
            raise ValidationError(_l("Say why you choose this strategy."))
        if problem == RATIONALE_UNCHANGED:
            raise ValidationError(
                _l("Give the reason for the new strategy: this is still the previous strategy's rationale.")
            )
