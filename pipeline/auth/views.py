"""Sign-in, sign-out and the language switch: the pages every visitor meets first."""

from __future__ import annotations

from functools import cache
from secrets import token_hex
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from pipeline.auth import throttle
from pipeline.auth.forms import LanguageForm, LoginForm, LogoutForm
from pipeline.auth.models import User
from pipeline.auth.services import check_password, end_sessions, hash_password
from pipeline.core import audit
from pipeline.core.web import error_response
from pipeline.extensions import db, login_manager

bp = Blueprint("auth", __name__)

KEPT_ACROSS_SIGN_IN = ("lang",)  # the only thing a fresh session inherits from the old one
PAGE_URL_KEY = "pipeline.page_url"  # in the WSGI environ: the page a POST re-renders, for the language switch
SIGNED_IN, SIGN_IN_REFUSED, SIGNED_OUT = "auth.login", "auth.login_refused", "auth.logout"


@bp.record_once
def _configure_login(state: BlueprintSetupState) -> None:
    """Say "sign in first" in the visitor's language when a page needs a signed-in user."""
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"


@bp.record_once
def _configure_throttle(state: BlueprintSetupState) -> None:
    """Count failed sign-ins where the app's settings say (shared between instances with Redis)."""
    throttle.init_app(state.app)


def safe_next(target: str | None) -> str | None:
    """A place to go back to, only when it is a path on this site (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def set_current_page(url: str) -> None:
    """Name the page a view draws, when its own URL (a POST route) is not one to come back to."""
    request.environ[PAGE_URL_KEY] = url


def current_page() -> str:
    """Where the language switch returns to: this page without its ?lang=, or what the view named."""
    page = request.environ.get(PAGE_URL_KEY)
    if page:
        return str(page)
    if request.method != "GET":
        return url_for("deals.index")
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + ("?" + urlencode(args) if args else "")


@bp.app_context_processor
def _page_chrome() -> dict[str, Any]:
    """The forms every page's header carries; built without touching the database, so error pages work too."""
    language_form = LanguageForm(formdata=None)
    language_form.next.data = current_page()
    locale = get_locale()
    return {
        "language_form": language_form,
        "logout_form": LogoutForm(formdata=None),
        "page_locale": locale.language if locale is not None else "zh",
    }


def _fresh_session() -> None:
    """Drop everything the old session held (against session fixation) except the chosen language."""
    kept = {k: session[k] for k in KEPT_ACROSS_SIGN_IN if k in session}
    session.clear()
    session.update(kept)


@cache
def _decoy_hash() -> str:
    """A hash to check unknown e-mails against, so they take as long to refuse as wrong passwords."""
    return hash_password(token_hex(16))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None without saying which part was wrong."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password(User(password_hash=_decoy_hash()), password)
        return None
    if not check_password(user, password) or not user.active:
        return None
    return user


def _too_many_failures(form: LoginForm, seconds: int) -> tuple[str, int, dict[str, str]]:
    """Refuse (429) without checking the password, saying how long to wait."""
    minutes = max(1, -(-seconds // 60))  # rounded up, so the wait told is never too short
    if minutes == 1:
        error = _("Too many failed sign-ins. Wait a minute, then try again.")
    else:
        error = _("Too many failed sign-ins. Wait %(minutes)d minutes, then try again.", minutes=minutes)
    return render_template("auth/login.html", form=form, error=error), 429, {"Retry-After": str(seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Sign in with e-mail and password, then go where the visitor was heading."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    target = safe_next(form.next.data) or url_for("deals.home")
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(target)
    error = None
    if form.validate_on_submit():
        email, address = form.email.data or "", request.remote_addr or ""
        wait = throttle.seconds_to_wait(email, address)
        if wait:
            audit.refused(SIGN_IN_REFUSED, email=audit.clipped(email), throttled=True)
            return _too_many_failures(form, wait)
        user = authenticate(email, form.password.data or "")
        if user is not None:
            throttle.record_success(email)
            _fresh_session()
            login_user(user)
            audit.record(SIGNED_IN, via="web", user=user, address=audit.clipped(address))
            return redirect(target)
        throttle.record_failure(email, address)
        audit.refused(SIGN_IN_REFUSED, email=audit.clipped(email), throttled=False)
        error = _("Wrong e-mail or password, or the account is disabled.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out everywhere: the epoch moves on, so every session of this user ends, on every device.

    A POST with a CSRF token, so no link or image can sign anyone out.
    """
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            audit.record(SIGNED_OUT, via="web", user=current_user, address=audit.clipped(request.remote_addr or ""))
            end_sessions(current_user)
        logout_user()
        _fresh_session()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language() -> Response:
    """Remember the chosen language for this browser, and for the user when signed in."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return error_response(422, _("Unknown language; choose 中文 or English."))
    session["lang"] = form.lang.data
    if current_user.is_authenticated:
        current_user.locale = form.lang.data
    return redirect(safe_next(form.next.data) or url_for("deals.index"))
