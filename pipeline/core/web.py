"""Per-request plumbing: one commit per request, errors as JSON or pages, locale, schema guard."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, jsonify, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from pipeline.core import audit
from pipeline.core.database import SAFE_METHODS, is_sqlite_busy, is_unavailable, unmigrated_message, writing
from pipeline.core.errors import DomainError
from pipeline.extensions import db, login_manager

log = logging.getLogger(__name__)
API_PREFIX = "/api/"
CSRF_REFUSED = "csrf.refused"
BUSY = "the database is busy with other changes; try again in a moment"
UNAVAILABLE = "the database cannot be reached right now; try again in a moment"
UNAVAILABLE_RETRY_AFTER_S = 5


class PipelineFlask(Flask):
    """Flask, running a safe request (GET) once more when SQLite refused the write it made on the way.

    A GET's transaction begins deferred, so it reads beside the writer; the few that also write (a token's last use,
    an export's log line) can find that another writer committed since they read, which SQLite refuses at once.
    Such a request is safe to repeat, and the second run takes the write lock before it reads, so it does not lose
    again. Anything else refused for the lock (a write that waited out the busy timeout) answers 503.
    """

    def full_dispatch_request(self) -> Response:
        response = super().full_dispatch_request()
        if not g.pop("pipeline_run_again", False):
            return response
        response.close()
        with writing():
            return super().full_dispatch_request()


def wants_json() -> bool:
    """Whether this request is an API call, answered in JSON."""
    return request.path.startswith(API_PREFIX)


def select_locale() -> str:
    """The user's chosen language, else the browser's, else Simplified Chinese (a command's default too)."""
    supported = current_app.config["PIPELINE_LOCALES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang") or session.get("lang")
    if asked in supported:
        return asked
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    return request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _commit_or_rollback(response: Response) -> Response:
    """The one place a request's work is committed: only when it succeeded, else it is rolled back.

    What the request was refused is logged afterwards either way, in a transaction of its own.
    """
    try:
        return _commit(response)
    finally:
        audit.write_refusals()


def _commit(response: Response) -> Response:
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        log.info("commit refused: %s", exc)
        return error_response(409, "this record was changed by someone else in the meantime; reload and retry")
    except OperationalError as exc:
        if is_unavailable(exc):
            return _unavailable(exc)
        if not is_sqlite_busy(exc):
            raise
        return _busy(exc)
    return response


def _busy(exc: Exception) -> Response:
    """SQLite refused the write lock: a safe request runs again (PipelineFlask), anything else is asked to retry."""
    db.session.rollback()
    again = request.method in SAFE_METHODS and not g.get("pipeline_ran_again")
    if again:
        g.pipeline_run_again = g.pipeline_ran_again = True
    code = getattr(getattr(exc, "orig", exc), "sqlite_errorname", "SQLITE_BUSY")
    log.warning("SQLite refused %s %s (%s): %s", request.method, request.path, code, "run again" if again else "503")
    message = BUSY if wants_json() else _("The database is busy with other changes. Wait a moment and try again.")
    response = error_response(503, message)
    response.headers["Retry-After"] = "1"
    return response


def _unavailable(exc: Exception) -> Response:
    """The database is down or unreachable: a 503 asking to retry, drawn without touching the database.

    The pool drops connections that failed (and PostgreSQL's are pinged before each use), so the first request
    after the database is back is answered normally: no restart.
    """
    with suppress(Exception):  # the connection may be dead already; there is nothing to undo on it
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()  # the page's locale must not load the user from the database
    first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
    log.error("database unavailable for %s %s: %s", request.method, request.path, "".join(first_line))
    message = UNAVAILABLE if wants_json() else _("The database cannot be reached right now. Try again in a moment.")
    response = error_response(503, message)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_S)
    return response


def error_response(status: int, message: str, **extra: Any) -> Response:
    """An error answer in the caller's language of choice: JSON for the API, a page for people."""
    if wants_json():
        response = jsonify({"error": message, **extra})
    else:
        response = current_app.make_response(
            (render_template("error.html", status=status, message=message, **extra), status)
        )
    response.status_code = status
    return response


def _domain_error(exc: DomainError) -> Response:
    db.session.rollback()
    if wants_json():
        response = jsonify(exc.to_dict())
        response.status_code = exc.status
        return response
    return error_response(exc.status, exc.message)


def _field_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """Flatten webargs' {location: {field: [messages]}} into {field: "message; message"}."""
    out: dict[str, str] = {}
    for key, value in (messages or {}).items():
        name = f"{prefix}{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(
                _field_messages(
                    value, f"{name}." if prefix or key not in ("json", "query", "form", "view_args") else ""
                )
            )
        else:
            out[name] = "; ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return out


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if not wants_json():
        if exc.code is None or exc.code < 400:
            return exc  # redirects pass through
        if isinstance(exc, CSRFError):
            audit.refused(CSRF_REFUSED, reason=audit.clipped(exc.description))
            return error_response(400, _("The form has expired. Go back, reload the page and try again."))
        return error_response(exc.code, "")  # the page's heading names the error in the reader's language
    data = getattr(exc, "data", None) or {}
    if exc.code == 422 and "messages" in data:
        fields = _field_messages(data["messages"])
        return error_response(422, "invalid input: " + ", ".join(sorted(fields)), fields=fields)
    if exc.code == 400 and "messages" in data:
        return error_response(400, "; ".join(_field_messages(data["messages"]).values()) or exc.name)
    return error_response(exc.code or 500, exc.description or exc.name)


def _server_error(exc: Exception) -> Response:
    if is_sqlite_busy(exc):
        return _busy(exc)
    if is_unavailable(exc):
        return _unavailable(exc)
    db.session.rollback()
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal error; it has been logged")


def _stale(exc: StaleDataError) -> Response:
    db.session.rollback()
    return error_response(409, "this record was changed by someone else in the meantime; reload and retry")


def _guard_schema() -> Response | None:
    """Refuse to serve (503) on a database whose schema is not migrated, saying which command to run."""
    state = current_app.extensions.setdefault("pipeline_schema", {})
    if "message" not in state:
        state["message"] = unmigrated_message(db.engine) if current_app.config["PIPELINE_CHECK_MIGRATED"] else None
    if state["message"]:
        return error_response(503, state["message"])
    return None


@login_manager.user_loader
def _load_user(session_id: str) -> Any:
    """The active user a session's "<id>:<epoch>" names, only while their epoch is still that one."""
    from pipeline.auth.models import User

    user_id, sep, epoch = str(session_id).partition(":")
    if not (sep and user_id.isascii() and user_id.isdigit() and epoch.isascii() and epoch.isdigit()):
        return None  # a session from before epochs, or a garbled one: sign in again
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host/-Port from the PIPELINE_TRUSTED_PROXIES proxies in front, no further.

    With 1 (nginx in front) the client's address (which the sign-in throttle and the API limits count),
    https and the public host come from nginx's headers; with 0 they come from the connection, so a client
    cannot choose the address it is counted under by sending the headers itself.
    """
    hops = app.config["PIPELINE_TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    """Install the request hooks and error handlers."""
    app.before_request(_guard_schema)
    app.after_request(_commit_or_rollback)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    login_manager.login_view = "auth.login"
