"""The board page (看板): five stage columns a rep works from, with buttons that move a card on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, get_template_attribute, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from pipeline.auth.models import User
from pipeline.auth.scope import deals_visible_to
from pipeline.core.fragments import FragmentCache, fill, hole
from pipeline.core.pages import Refusal, actor, locale_code, strategy_label, today
from pipeline.deals import workflow
from pipeline.deals.board import BoardFilter, Card, Column, board
from pipeline.deals.forms import BoardFilterForm
from pipeline.deals.method import STAGE_KEYS, STRATEGY_KEYS
from pipeline.deals.models import Deal
from pipeline.extensions import db

bp = Blueprint("board", __name__)
CARDS = FragmentCache(20_000)  # ~1 KB each: a few hundred reps' boards in every language, per process
COLUMNS = FragmentCache(2_000)  # a column's cards together (up to 50 KB each)
BACK_TO_BOARD = "board"  # the value of a move form's back_to field when it was sent from the board


def _owner_choices(user: User) -> list[SelectChoice]:
    """Everyone whose deals the user sees (one query), for the owner filter; a rep sees only themself."""
    owners = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(Deal.owner_id).where(deals_visible_to(user))))
        .order_by(User.name)
    )
    return [SelectChoice("", "—"), *(SelectChoice(str(i), name) for i, name in owners)]


def card_texts() -> dict[str, Any]:
    """What every card repeats (words, the strategy names, the deals' base URL), translated once per page."""
    deal_url = url_for("deals.index")
    assert url_for("deals.show", deal_id=1) == f"{deal_url}/1", "cards build deal links as <deal list>/<id>"
    return {
        "deal_url": deal_url,
        "days_in_stage": _("%(days)s days in stage"),
        "checklist_done": _("Checklist done"),
        "stalled": _("Stalled (over %(days)s days)"),
        "overdue": _("Overdue"),
        "touches": _("%(calls)s calls / %(touches)s touches"),
        "fifth_call": _("Most sales close after the fifth call"),
        "strategies": {key: strategy_label(key) for key in STRATEGY_KEYS},
    }


def render_board(query: str, refused: tuple[int, Refusal] | None = None, status: int = 200) -> tuple[str, int]:
    """Draw the board for the filters in `query`; `refused` shows on its card why that card's move was refused."""
    user = actor()
    form = BoardFilterForm(MultiDict(parse_qsl(query, keep_blank_values=True)))
    form.owner.choices = _owner_choices(user) if user.is_lead_or_admin else [SelectChoice("", "—")]
    if not form.validate():
        return render_template(
            "deals/board.html", form=form, columns=[], refused=None, board_query=query, forward_moves={}, move_labels={}
        ), 422
    wanted = BoardFilter(
        mine=bool(form.mine.data),
        strategy=form.strategy.data or None,
        owner_id=int(form.owner.data) if form.owner.data else None,
        min_amount=form.min_amount.data,
        max_amount=form.max_amount.data,
        text=(form.q.data or "").strip(),
    )
    columns = board(user, wanted, today(), thresholds=current_app.config.get("PIPELINE_STALL_DAYS"))
    page = render_template(
        "deals/board.html",
        form=form,
        columns=columns,
        refused=refused,
        board_query=query,
        draw_cards=card_drawer(refused, user.is_lead_or_admin, query),
    )
    return page, status


def card_drawer(refused: tuple[int, Refusal] | None, show_owner: bool, query: str) -> Callable[..., Markup]:
    """Draw a column's cards from the process's fragment caches: the same card in the same language is drawn once.

    The key is everything the card shows; the visitor's CSRF token and the board's filter are filled in after.
    A card showing why its move was just refused is drawn afresh.
    """
    macro = get_template_attribute("deals/_card.html", "card_html")
    texts, locale, csrf = card_texts(), locale_code(), generate_csrf()
    forward = {key: workflow.forward_trigger(key) for key in STAGE_KEYS}
    labels = {workflow.ADVANCE: _("Advance"), workflow.COMPLETE: _("Complete")}
    holes = {"csrf": csrf, "board_query": query}

    def draw(card: Card, column: Column, next_column: Column | None) -> Markup:
        if refused is not None and refused[0] == card.deal_id:
            return Markup(macro(card, column, next_column, refused, show_owner, forward, labels, texts, csrf, query))
        return fill(draw_kept(card, column, next_column), holes)

    def draw_column(column: Column, next_column: Column | None) -> Markup:
        """A column's cards: kept whole as well, so an unchanged column costs one lookup, not one per card."""
        if refused is not None and any(c.deal_id == refused[0] for c in column.cards):
            return Markup("").join(draw(card, column, next_column) for card in column.cards)
        key = (tuple(column.cards), column.stage.key, next_column and next_column.stage.key, column.stall_days)
        fragment = COLUMNS.get(
            (*key, show_owner, locale),
            lambda: "".join(str(draw_kept(card, column, next_column)) for card in column.cards),
        )
        return fill(fragment, holes)

    def draw_kept(card: Card, column: Column, next_column: Column | None) -> str:
        key = (card, column.stage.key, next_column and next_column.stage.key, column.stall_days, show_owner, locale)
        return CARDS.get(
            key,
            lambda: macro(
                card, column, next_column, None, show_owner, forward, labels, texts, hole("csrf"), hole("board_query")
            ),
        )

    return draw_column


def board_url(query: str) -> str:
    """The board with the filters it was showing (only ever a path on this site)."""
    return url_for("board.index") + (f"?{query}" if query else "")


@bp.get("/board")
@login_required
def index() -> tuple[str, int]:
    """The pipeline as columns: what each stage holds, what is stalled, and what is due."""
    return render_board(request.query_string.decode("utf-8", "replace"))
