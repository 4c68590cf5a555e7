"""The care pages (客户维护): who is due for contact, birthdays, holiday greetings, the cadence, the calendar feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from wtforms import SelectChoice

from pipeline.accounts.scales import RELATIONSHIP_LEVELS, VALUE_TIERS
from pipeline.accounts.services import account_owners
from pipeline.activities.services import log_activity
from pipeline.auth.models import Role
from pipeline.auth.scope import visible_account
from pipeline.care import feed, greeting_mail, greetings
from pipeline.care.birthdays import upcoming_birthdays
from pipeline.care.cadence import TIER_KEYS, current_intervals, save_intervals
from pipeline.care.calls import account_call_times
from pipeline.care.due import due_accounts
from pipeline.care.forms import CadenceForm, DueFilterForm, GreetingForm, TouchForm
from pipeline.care.holidays import DEFAULT_GREETINGS, HOLIDAY_BY_KEY, next_holiday, upcoming
from pipeline.core.errors import Forbidden, InvalidInput
from pipeline.core.pages import Refusal, actor, attach_errors, field_errors, locale_code, today
from pipeline.extensions import db

bp = Blueprint("care", __name__, url_prefix="/care")


def level_labels() -> dict[str, str]:
    locale = locale_code()
    return {c.key: c.label(locale) for c in RELATIONSHIP_LEVELS}


def tier_labels() -> dict[str, str]:
    locale = locale_code()
    return {c.key: c.label(locale) for c in VALUE_TIERS}


# ---- Due for contact ------------------------------------------------------------------------------------------


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    """The accounts due for contact, the most important first; birthdays in the next two weeks; the next holiday."""
    user = actor()
    form = DueFilterForm(request.args)
    owners = account_owners(user) if user.is_lead_or_admin else []
    form.owner.choices = [SelectChoice("", _("Everyone")), *(SelectChoice(str(i), name) for i, name in owners)]
    on = today()
    page: dict[str, Any] = {
        "form": form,
        "show_owner_filter": bool(owners),
        "rows": [],
        "call_times": {},
        "birthdays": upcoming_birthdays(user, on),
        "holiday": next_holiday(on),
        "today": on,
        "levels": level_labels(),
        "tiers": tier_labels(),
        "touch_form": TouchForm(formdata=None),
        "pages": 0,
        "page": 1,
        "total": 0,
        "query": {},
    }
    if not form.validate():
        return render_template("care/index.html", **page), 422
    owner_id = int(form.owner.data) if form.owner.data else (None if user.is_lead_or_admin else user.id)
    due = due_accounts(user, on, owner_id=owner_id)
    size = current_app.config["PIPELINE_PAGE_SIZE"]
    number = form.page.data or 1
    rows = due[(number - 1) * size : number * size]
    page.update(
        rows=rows,
        call_times=account_call_times([r.account_id for r in rows]),
        page=number,
        pages=-(-len(due) // size),
        total=len(due),
        query={"owner": form.owner.data} if form.owner.data else {},
    )
    return render_template("care/index.html", **page), 200


@bp.post("/accounts/<int:account_id>/touch")
@login_required
def touch(account_id: int) -> Response:
    """Log the revisit (a call, visit, e-mail or meeting) on a due account; it leaves the list until due again."""
    user = actor()
    account = visible_account(user, account_id)
    form = TouchForm()
    back = url_for("care.index", **{k: v for k, v in request.args.items() if k in ("owner", "page")})
    if not form.validate():
        flash(_("Check the highlighted fields.") + " " + "; ".join(m for _i, _l, m in field_errors(form)), "error")
        return redirect(back)
    kind = form.kind.data or "call"
    summary = form.summary.data or _("Revisit")
    try:
        log_activity(
            user,
            kind,
            summary,
            account_id=account.id,
            call_result=(form.call_result.data or None) if kind == "call" else None,
        )
    except InvalidInput as exc:
        db.session.rollback()
        flash("; ".join(f"{k}: {v}" for k, v in exc.fields.items()), "error")
        return redirect(back)
    flash(_("Touch logged for %(account)s.", account=account.name), "success")
    return redirect(back)


# ---- Holiday greetings ------------------------------------------------------------------------------------------


def _greeting_page(form: GreetingForm, status: int = 200, refusal: Refusal | None = None) -> tuple[str, int]:
    on = today()
    return (
        render_template(
            "care/greetings.html",
            form=form,
            holiday=next_holiday(on),
            holidays=upcoming(on, 10),
            today=on,
            refusal=refusal,
        ),
        status,
    )


@bp.get("/greetings")
@login_required
def greetings_page() -> tuple[str, int]:
    """The coming holidays with their dates, and the greeting to export for an SMS tool or to send by e-mail."""
    on = today()
    holiday = next_holiday(on)
    asked = request.args.get("holiday")
    key = asked if asked in HOLIDAY_BY_KEY else holiday.key
    label = HOLIDAY_BY_KEY[key].label("zh")  # customers are greeted in Chinese whatever the page's language
    form = GreetingForm(formdata=None, holiday=key, greeting=DEFAULT_GREETINGS[key], subject=f"{label}问候")
    return _greeting_page(form)


def _read_greeting() -> GreetingForm | tuple[str, int]:
    form = GreetingForm()
    if not form.validate():
        return _greeting_page(form, 422, Refusal(_("Check the highlighted fields."), fields=field_errors(form)))
    return form


def _stream(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes; it is closed once sent, or when the server drops the response half-way."""
    try:
        while chunk := file.read(64 * 1024):
            yield chunk
    finally:
        file.close()


@bp.post("/greetings/csv")
@login_required
def greetings_csv() -> Response | tuple[str, int]:
    """The greeting for each chosen contact with a mobile, as CSV for an SMS tool (name, mobile, greeting)."""
    form = _read_greeting()
    if not isinstance(form, GreetingForm):
        return form
    try:
        out, rows = greetings.greetings_csv(
            actor(), form.holiday.data, form.greeting.data or "", form.wanted(), via="web"
        )
    except InvalidInput as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _greeting_page(form, 422, Refusal(_("Check the highlighted fields."), fields=field_errors(form)))
    name = f"greetings-{form.holiday.data}-{today().isoformat()}.csv"
    response = Response(_stream(out), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Rows"] = str(rows)
    return response


@bp.post("/greetings/mail")
@login_required
def greetings_mail() -> Response | tuple[str, int]:
    """Mail the greeting to each chosen contact with an e-mail address, one personal mail each."""
    form = _read_greeting()
    if not isinstance(form, GreetingForm):
        return form
    try:
        result = greeting_mail.mail_greetings(
            actor(),
            form.holiday.data,
            form.subject.data or "",
            form.greeting.data or "",
            form.wanted(),
            via="web",
        )
    except InvalidInput as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _greeting_page(form, 422, Refusal(_("Check the highlighted fields."), fields=field_errors(form)))
    flash(
        _(
            "Greeting mailed to %(sent)s contacts; %(refused)s refused by the server, %(skipped)s without an e-mail.",
            sent=len(result.sent),
            refused=len(result.refused),
            skipped=result.skipped,
        ),
        "success" if result.stopped is None else "error",
    )
    if result.stopped is not None:
        flash(_("The mail server stopped part-way: %(reason)s", reason=result.stopped), "error")
    return redirect(url_for("care.greetings_page", holiday=form.holiday.data))


# ---- The cadence ------------------------------------------------------------------------------------------------


def _cadence_page(form: CadenceForm, status: int = 200) -> tuple[str, int]:
    intervals = current_intervals()
    return (
        render_template(
            "care/cadence.html",
            form=form,
            matrix=intervals.matrix(),
            levels=level_labels(),
            tiers=[tier_labels()[k] for k in TIER_KEYS],
            editable=actor().role == Role.ADMIN,
        ),
        status,
    )


@bp.get("/cadence")
@login_required
def cadence() -> tuple[str, int]:
    """How often each kind of customer is revisited; an admin may change it."""
    return _cadence_page(CadenceForm.filled(current_intervals()))


@bp.post("/cadence")
@login_required
def save_cadence() -> Response | tuple[str, int]:
    """Store a new cadence (admins only)."""
    user = actor()
    if user.role != Role.ADMIN:
        raise Forbidden("only an admin may change the revisit intervals")
    form = CadenceForm()
    if not form.validate():
        return _cadence_page(form, 422)
    try:
        save_intervals(*form.intervals(), user.id)
    except InvalidInput as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _cadence_page(form, 422)
    flash(_("Revisit intervals saved."), "success")
    return redirect(url_for("care.cadence"))


# ---- The calendar feed ------------------------------------------------------------------------------------------


def _calendar_page(url: str | None = None) -> tuple[str, int]:
    return render_template("care/calendar.html", has_feed=actor().calendar_token_hash is not None, feed_url=url), 200


@bp.get("/calendar")
@login_required
def calendar() -> tuple[str, int]:
    """Subscribe a phone's calendar to your next steps and revisits; create, replace or end the address."""
    return _calendar_page()


@bp.post("/calendar/token")
@login_required
def calendar_token() -> tuple[str, int]:
    """A new feed address (the old one stops working), shown on this answer only."""
    token = feed.issue_calendar_token(actor(), via="web")
    return _calendar_page(url_for("care.calendar_feed", token=token, _external=True))


@bp.post("/calendar/revoke")
@login_required
def calendar_revoke() -> Response:
    """End the feed: its address answers 404 from now on."""
    feed.revoke_calendar_token(actor(), via="web")
    flash(_("The calendar address no longer works."), "success")
    return redirect(url_for("care.calendar"))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> Response:
    """The feed itself, opened by its secret token alone (a calendar app has no session); 404 for any other."""
    owner = feed.feed_owner(token)
    if owner is None:
        abort(404)
    body = feed.build_feed(
        owner,
        today(),
        url_for("deals.index", _external=True) + "/{id}",
        url_for("accounts.index", _external=True) + "/{id}",
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store"
    return response
