"""The satisfaction pages: record a customer's answers after a purchase or a follow-up, and the trends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pipeline.accounts.models import Account, Contact
from pipeline.accounts.scales import RATER_DIMENSIONS, RATER_KEYS
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to, deals_visible_to, visible_account
from pipeline.care.choosing import choose_account_page, preselected
from pipeline.care.satisfaction import services as satisfaction
from pipeline.care.satisfaction.forms import OCCASION_LABELS, SurveyForm, TrendForm
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.core.pages import actor, attach_errors, field_errors, locale_code, today
from pipeline.deals.models import Deal
from pipeline.extensions import db
from pipeline.reports.charts import Series, line_chart
from pipeline.reports.filters import BadFilter, read_filters
from pipeline.reports.forms import filter_form
from pipeline.reports.periods import add_months
from pipeline.reports.presenters import Chart

bp = Blueprint("satisfaction", __name__)
TREND_MONTHS = 12  # the trend page's default: the last twelve months, this one included


def _survey_form(user: User, account: Account, deal: Deal | None, *, submitted: bool) -> SurveyForm:
    occasion = request.args.get("occasion") if request.args.get("occasion") in OCCASION_LABELS else "won"
    form = (
        SurveyForm()
        if submitted
        else SurveyForm(formdata=None, deal_id=str(deal.id) if deal else "", occasion=occasion, answered_on=today())
    )
    deals = db.session.execute(
        select(Deal.id, Deal.title)
        .where(Deal.account_id == account.id, deals_visible_to(user))
        .order_by(Deal.id.desc())
    )
    contacts = db.session.execute(
        select(Contact.id, Contact.name).where(Contact.account_id == account.id).order_by(Contact.name)
    )
    form.deal_id.choices = [SelectChoice("", _("— none —")), *(SelectChoice(str(i), t) for i, t in deals)]
    form.contact_id.choices = [SelectChoice("", _("— none —")), *(SelectChoice(str(i), n) for i, n in contacts)]
    return form


@bp.route("/satisfaction/new", methods=["GET", "POST"])
@login_required
def new() -> Response | tuple[str, int]:
    """Record how satisfied the customer is, overall and on each RATER dimension."""
    user = actor()
    account, deal = preselected(user)
    if account is None and request.method == "POST":
        raise NotFound("account not found")  # a form is only ever sent for an account the sender may see
    if account is None:
        page = choose_account_page(
            user,
            title=_("Record satisfaction"),
            question=_("Which customer answered?"),
            action=url_for("satisfaction.new"),
        )
        return page, 200
    form = _survey_form(user, account, deal, submitted=request.method == "POST")
    target = url_for("satisfaction.new", account_id=account.id)
    if request.method == "GET":
        return render_template("care/satisfaction/new.html", form=form, account=account, target=target), 200
    if form.validate():
        try:
            satisfaction.record_survey(
                user,
                account,
                answered_on=form.answered_on.data,
                today=today(),
                satisfaction=form.satisfaction.data,
                occasion=form.occasion.data,
                deal_id=int(form.deal_id.data) if form.deal_id.data else None,
                contact_id=int(form.contact_id.data) if form.contact_id.data else None,
                comment=form.comment.data or "",
                **{key: form[key].data for key in RATER_KEYS},
            )
        except InvalidInput as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("Satisfaction recorded."), "success")
            chosen = int(form.deal_id.data) if form.deal_id.data else None
            if chosen is not None:
                return redirect(url_for("deals.show", deal_id=chosen, _anchor="satisfaction"))
            return redirect(url_for("accounts.show", account_id=account.id, _anchor="satisfaction"))
    return render_template(
        "care/satisfaction/new.html", form=form, account=account, target=target, errors=field_errors(form)
    ), 422


def trend_chart(rows: list[satisfaction.TrendRow]) -> dict[str, Chart]:
    """Average satisfaction and the average of the RATER answers per month or quarter, as two lines (1–5)."""

    def mean(row: satisfaction.TrendRow, keys: tuple[str, ...]) -> float | None:
        combined = sum((row.scores[k] for k in keys), satisfaction.Average())
        return float(combined.mean) if combined.mean is not None else None

    series = [
        Series(_("Satisfaction"), "chart-line-total", [mean(r, ("satisfaction",)) for r in rows]),
        Series(_("RATER, all five"), "chart-line-weighted", [mean(r, RATER_KEYS) for r in rows]),
    ]
    title = _("Average satisfaction over time")
    svg = line_chart(
        "satisfaction-chart",
        title,
        [r.label for r in rows],
        series,
        empty_text=_("No satisfaction recorded in this period."),
    )
    return {"trend": Chart(title, svg)}


@bp.get("/reports/satisfaction")
@login_required
def trends() -> tuple[str, int]:
    """Average satisfaction and RATER scores per month or quarter, with how many answers each is made of."""
    user = actor()
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "strategy"}
    if not any(args.get(k) for k in ("period", "from", "to")):
        first = add_months(today(), 1 - TREND_MONTHS)
        args.update(
            {
                "period": "custom",
                "from": first.isoformat(),
                "to": (add_months(today(), 1) - timedelta(days=1)).isoformat(),
            }
        )
    trend_form = TrendForm(request.args)
    accounts = db.session.execute(
        select(Account.id, Account.name).where(accounts_visible_to(user)).order_by(Account.name)
    )
    trend_form.account.choices = [SelectChoice("", _("All accounts")), *(SelectChoice(str(i), n) for i, n in accounts)]
    account_id = request.args.get("account", type=int) if request.args.get("account") else None
    if request.args.get("account") and account_id is None:
        raise NotFound("account not found")
    account = visible_account(user, account_id) if account_id is not None else None
    try:
        filters = read_filters(args, user, today())
    except BadFilter as exc:
        form = filter_form(user, sent=args, errors=exc.fields)
        return render_template("care/satisfaction/trends.html", form=form, trend_form=trend_form, filters=None), 400
    if not trend_form.validate():
        return render_template(
            "care/satisfaction/trends.html", form=filter_form(user, filters), trend_form=trend_form, filters=None
        ), 400
    bucket = trend_form.by.data or satisfaction.MONTH
    rows = satisfaction.trend(filters.scope, filters.period, bucket, account.id if account else None)
    reps = satisfaction.by_rep(filters.scope, filters.period, account.id if account else None)
    locale = locale_code()
    return render_template(
        "care/satisfaction/trends.html",
        form=filter_form(user, filters),
        trend_form=trend_form,
        filters=filters,
        account=account,
        rows=rows,
        reps=reps,
        overall=satisfaction.total(rows),
        charts=trend_chart(rows),
        dimensions=[("satisfaction", _("Satisfaction"))] + [(c.key, c.label(locale)) for c in RATER_DIMENSIONS],
    ), 200
