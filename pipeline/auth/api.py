"""Bearer-token authentication for the JSON API (no cookies, so no CSRF exposure), and its rate limits."""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Blueprint

from pipeline.auth import api_limits
from pipeline.auth.models import User
from pipeline.auth.scope import check_records_in_url
from pipeline.auth.services import token_digest, user_for_token
from pipeline.core import audit
from pipeline.core.web import wants_json
from pipeline.extensions import csrf

TOKEN_REFUSED = "api.token_refused"
GUARDED: set[str] = set()  # the blueprints whose every route needs a token (their calls are counted per token)


def _unauthorized(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="pipeline"'
    return response


def require_token() -> Response | None:
    """Resolve `Authorization: Bearer <token>` to an active user, or answer 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _anonymous_refusal() or _unauthorized(
            "send an API token as 'Authorization: Bearer <token>' (pipeline users token EMAIL)"
        )
    user = user_for_token(token.strip())
    if user is None:
        audit.refused(TOKEN_REFUSED)  # the token itself is a secret: never logged
        return _anonymous_refusal() or _unauthorized("this API token is unknown, revoked, or its user is disabled")
    refused = api_limits.refusal(api_limits.TOKEN, token_digest(token.strip()), user.email)
    if refused is not None:
        return refused
    g.api_user = user
    check_records_in_url(user, request.view_args)
    return None


def _anonymous_refusal() -> Response | None:
    """Count a call without a valid token against its address; a 429 when it is one too many."""
    address = request.remote_addr or ""
    return api_limits.refusal(api_limits.ADDRESS, address, address)


def _limit_unguarded() -> Response | None:
    """API paths no token guards (the spec, unknown paths) count against the caller's address too."""
    if wants_json() and request.blueprint not in GUARDED:
        return _anonymous_refusal()
    return None


def init_app(app: Flask) -> None:
    """Count every API call: per token on the guarded blueprints, per address anywhere else under /api/."""
    api_limits.init_app(app)
    app.before_request(_limit_unguarded)


def api_user() -> User:
    """The user the current API call acts as."""
    user: User = g.api_user
    return user


def api_locale() -> str:
    """Labels in API answers follow the caller's chosen language."""
    user = g.get("api_user")
    return user.locale if user is not None else "zh"


def token_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """An API blueprint whose every route needs a bearer token and is exempt from cookie CSRF."""
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blp.before_request(require_token)
    csrf.exempt(blp)
    GUARDED.add(name)
    return blp
