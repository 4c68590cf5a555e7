"""The strategy page (策略): the five strategies, the advisor, the choice with its rationale, and its history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from pipeline.auth.scope import visible_deal
from pipeline.auth.views import set_current_page
from pipeline.core.errors import Conflict, Forbidden, InvalidInput
from pipeline.core.pages import Refusal, actor, attach_errors, field_errors, locale_code
from pipeline.deals.method import STRATEGIES, STRATEGY_BY_KEY
from pipeline.deals.models import Deal
from pipeline.deals.strategy import QUESTIONS, Advice, advise, choose_strategy, strategy_history
from pipeline.deals.strategy_forms import AdvisorForm, ChooseStrategyForm
from pipeline.deals.views import refused_request

bp = Blueprint("strategy", __name__)


@bp.app_template_global()
def strategy_play(key: str | None) -> str:
    """How a strategy is played, in the page's language, for the strategy block on the deal page."""
    return STRATEGY_BY_KEY[key].how_it_is_played(locale_code()) if key in STRATEGY_BY_KEY else ""


def _advice(deal: Deal) -> tuple[AdvisorForm, Advice | None, bool]:
    """The advisor as the query string left it: blank, answered (with advice), or incomplete (with errors)."""
    if not any(q.key in request.args for q in QUESTIONS):
        return AdvisorForm(None), None, True
    form = AdvisorForm(request.args)
    if not form.validate():
        return form, None, False
    return form, advise(form.answers()), True


def _render(
    deal: Deal,
    status: int = 200,
    *,
    choose_form: ChooseStrategyForm | None = None,
    refusal: Refusal | None = None,
) -> tuple[str, int]:
    """Draw the strategy page; a refused choice passes its form back so what was typed stays."""
    locale = locale_code()
    advisor, advice, answered_ok = _advice(deal)
    if not answered_ok and status == 200:
        status = 422
    if choose_form is None:
        strategy, rationale = deal.strategy, deal.strategy_rationale
        if advice is not None and request.args.get("pick") == advice.strategy:  # "use this suggestion"
            strategy, rationale = advice.strategy, advice.reason(locale)
        choose_form = ChooseStrategyForm(
            formdata=None, strategy=strategy, strategy_rationale=rationale, version=deal.version
        )
    if refusal is not None:
        refusal.fields = field_errors(choose_form)
    return (
        render_template(
            "deals/strategy.html",
            deal=deal,
            strategies=STRATEGIES,
            advisor=advisor,
            advice=advice,
            choose_form=choose_form,
            refusal=refusal,
            history=strategy_history(deal),
        ),
        status,
    )


@bp.get("/deals/<int:deal_id>/strategy")
@login_required
def show(deal_id: int) -> tuple[str, int]:
    """The five strategies with the current one marked, the advisor, the choice and every change so far."""
    return _render(visible_deal(actor(), deal_id))


@bp.post("/deals/<int:deal_id>/strategy")
@login_required
def choose(deal_id: int) -> Response | tuple[str, int]:
    """Save the chosen strategy with its rationale, refusing if someone else saved the deal first."""
    deal = visible_deal(actor(), deal_id)
    set_current_page(url_for("strategy.show", deal_id=deal.id))
    form = ChooseStrategyForm(current=(deal.strategy, deal.strategy_rationale))
    if not form.validate():
        return _render(deal, 422, choose_form=form, refusal=Refusal(_("Check the highlighted fields.")))
    try:
        changed = choose_strategy(
            actor(), deal, form.strategy.data or "", form.strategy_rationale.data or "", form.version.data
        )
    except (InvalidInput, Conflict, Forbidden) as exc:
        fresh, refusal, status = refused_request(deal.id, exc)
        if isinstance(exc, InvalidInput):
            attach_errors(form, exc)
        return _render(fresh, status, choose_form=form, refusal=refusal)
    flash(_("Strategy saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("strategy.show", deal_id=deal.id, _anchor="strategy-history"))
