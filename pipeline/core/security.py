"""What every response asks of the browser: a Content-Security-Policy without inline script, no framing, no
sniffing, HSTS over HTTPS, and a session cookie that is Secure (and __Host-) whenever the request came over HTTPS.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_talisman import DENY, Talisman
from flask_talisman.talisman import ONE_YEAR_IN_SECS
from werkzeug.wrappers import Response

# Only our own files run, style and load; no plugin, no <base> rewriting, no framing, forms post only to us.
# Templates carry no inline <script>, on*= handler, javascript: URL or style= attribute: tests/security walk them.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# Powerful features a CRM page never uses, refused to every frame.
PERMISSIONS_POLICY = {
    feature: "()" for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "browsing-topics")
}
# Our URLs carry record ids and search words: other sites learn nothing from the Referer, our own pages all of it.
REFERRER_POLICY = "same-origin"
HOST_PREFIX = "__Host-"


def served_over_https() -> bool:
    """Whether this request reached us over HTTPS (behind a proxy: as the proxy's X-Forwarded-Proto says, once
    ProxyFix trusts it)."""
    return has_request_context() and request.is_secure


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure and named __Host-session whenever the request came over HTTPS.

    PIPELINE_SECURE_COOKIES=1 (SESSION_COOKIE_SECURE) still forces Secure on plain HTTP too, for a proxy that does
    not say it terminated TLS. A browser keeps a __Host- cookie only when it is Secure, has Path=/ and no Domain,
    so it cannot be set by, or sent to, any other host of the domain.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or served_over_https()

    def get_cookie_name(self, app: Flask) -> str:
        name = super().get_cookie_name(app)
        prefixable = self.get_cookie_secure(app) and not app.config["SESSION_COOKIE_DOMAIN"]
        return HOST_PREFIX + name if prefixable and self.get_cookie_path(app) == "/" else name


# Sent by us, not Talisman: Talisman believes any X-Forwarded-Proto, and only ProxyFix may (PIPELINE_TRUSTED_PROXIES).
STRICT_TRANSPORT_SECURITY = f"max-age={ONE_YEAR_IN_SECS}; includeSubDomains"


def _headers_talisman_leaves(response: Response) -> Response:
    """HSTS on answers to HTTPS requests only; and no page another site opens may script our window, nor ours
    theirs (tabnabbing)."""
    if served_over_https():
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response (error pages, files and the API too) and harden the cookie.

    HTTPS is not forced here: whether plain HTTP is redirected is the deployment's call (its proxy does it).
    """
    app.session_interface = SessionCookies()
    Talisman(
        app,
        force_https=False,
        session_cookie_secure=False,  # Talisman would set it for every request; SessionCookies decides per request
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options=DENY,
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        strict_transport_security=False,  # _headers_talisman_leaves sends it, on HTTPS as ProxyFix judges it
        x_content_type_options=True,
    )
    app.after_request(_headers_talisman_leaves)
