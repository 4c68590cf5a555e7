"""Configuration, read from the environment when the app is created (never at import time)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def sqlite_url(path: Path) -> str:
    """A SQLAlchemy URL for a SQLite file."""
    return f"sqlite:///{path}"


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder (never committed)."""
    from_env = os.environ.get("PIPELINE_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(key_file)
    return key_file.read_text().strip()


def stall_days(text: str) -> dict[str, int]:
    """PIPELINE_STALL_DAYS such as "qualify=10,propose=30": days in a stage before the board calls a deal stalled."""
    from pipeline.deals.method import STAGE_KEYS

    days: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        stage, _, value = part.partition("=")
        if stage.strip() not in STAGE_KEYS or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(
                f"PIPELINE_STALL_DAYS: {part!r} is not <stage>=<days> with a stage of {', '.join(STAGE_KEYS)}"
            )
        days[stage.strip()] = int(value)
    return days


def rate_limit(env: str, default: str) -> str:
    """A limit such as "5 per 15 minutes" from the environment, refused at start-up when it does not parse."""
    from limits import parse

    text = os.environ.get(env, default)
    try:
        parse(text)
    except ValueError:
        raise ValueError(f"{env}: {text!r} is not a limit such as '5 per 15 minutes'") from None
    return text


def flag(env: str) -> bool:
    """A yes/no setting from the environment: 1, true, yes or on mean yes."""
    return os.environ.get(env, "").strip().lower() in ("1", "true", "yes", "on")


def required_influences(value: str | Iterable[str]) -> frozenset[str]:
    """PIPELINE_REQUIRED_INFLUENCES such as "economic_buyer,coach": the roles a deal names before 报价 ("" = none)."""
    from pipeline.deals.method import INFLUENCE_ROLE_KEYS

    parts = value.split(",") if isinstance(value, str) else list(value)
    keys = [str(p).strip() for p in parts if str(p).strip()]
    unknown = [k for k in keys if k not in INFLUENCE_ROLE_KEYS]
    if unknown:
        raise ValueError(
            f"PIPELINE_REQUIRED_INFLUENCES: {', '.join(map(repr, unknown))} is not a role; "
            f"use comma-separated keys of {', '.join(INFLUENCE_ROLE_KEYS)}, or an empty value for no requirement"
        )
    return frozenset(keys)


def trusted_proxies(text: str) -> int:
    """PIPELINE_TRUSTED_PROXIES: how many reverse proxies in front of the app set X-Forwarded-* (0: trust none)."""
    value = text.strip() or "0"
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"PIPELINE_TRUSTED_PROXIES: {text!r} is not a number of proxies (0, 1, 2…)")
    return int(value)


def smtp_security(text: str) -> str:
    """PIPELINE_SMTP_SECURITY: none (a relay on the same host or network), starttls (port 587) or ssl (465)."""
    value = text.strip().lower()
    if value not in ("none", "starttls", "ssl"):
        raise ValueError(f"PIPELINE_SMTP_SECURITY: {text!r} is not none, starttls or ssl")
    return value


def defaults(instance_path: Path) -> dict[str, Any]:
    """Settings for a running app; tests and deployments override them."""
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("PIPELINE_DATABASE_URL") or sqlite_url(instance_path / "pipeline.db"),
        "PIPELINE_TIMEZONE": os.environ.get("PIPELINE_TIMEZONE", "Asia/Shanghai"),
        "PIPELINE_STALL_DAYS": stall_days(os.environ.get("PIPELINE_STALL_DAYS", "")),
        "PIPELINE_REQUIRED_INFLUENCES": required_influences(
            os.environ.get("PIPELINE_REQUIRED_INFLUENCES", "economic_buyer,coach")
        ),
        "PIPELINE_PAGE_SIZE": 50,
        "PIPELINE_MAX_PAGE_SIZE": 500,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("PIPELINE_TIMEZONE", "Asia/Shanghai"),
        "PIPELINE_LOCALES": ("zh", "en"),
        "API_TITLE": "pipeline",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "info": {"description": "商机管道 pipeline API v1. Authenticate with `Authorization: Bearer <token>`."},
        },
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Cookies scripts cannot read and other sites' forms do not carry. The session cookie is Secure (and named
        # __Host-session) by itself whenever the request came over HTTPS (core/security.py); PIPELINE_SECURE_COOKIES=1
        # forces Secure on plain HTTP too. Sign-in offers no "remember me", so no remember cookie is ever set.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": flag("PIPELINE_SECURE_COOKIES"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": flag("PIPELINE_SECURE_COOKIES"),
        # What several app instances share (the sign-in throttle, the API rate limits): redis://host:6379/0.
        # Unset, each process keeps its own (right for one process only). See pipeline/core/shared.py.
        "PIPELINE_REDIS_URL": os.environ.get("PIPELINE_REDIS_URL", ""),
        "PIPELINE_REDIS_KEY_PREFIX": os.environ.get("PIPELINE_REDIS_KEY_PREFIX", "pipeline"),
        # Failed sign-ins counted per account and per client address, API calls per token and per address. The
        # counters live in PIPELINE_REDIS_URL's Redis; a `limits` storage URI here overrides it ("" = not set).
        "PIPELINE_RATELIMIT_STORAGE": os.environ.get("PIPELINE_RATELIMIT_STORAGE", ""),
        "PIPELINE_RATELIMIT_KEY_PREFIX": os.environ.get("PIPELINE_RATELIMIT_KEY_PREFIX", ""),  # "" = the Redis prefix
        "PIPELINE_LOGIN_LIMIT_PER_ACCOUNT": rate_limit("PIPELINE_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "PIPELINE_LOGIN_LIMIT_PER_ADDRESS": rate_limit("PIPELINE_LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        "PIPELINE_API_RATE_LIMIT": rate_limit("PIPELINE_API_RATE_LIMIT", "600 per minute"),
        "PIPELINE_API_ANONYMOUS_RATE_LIMIT": rate_limit("PIPELINE_API_ANONYMOUS_RATE_LIMIT", "60 per minute"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port to believe (0 = none).
        "PIPELINE_TRUSTED_PROXIES": trusted_proxies(os.environ.get("PIPELINE_TRUSTED_PROXIES", "0")),
        # Where uploaded import files wait between preview and confirmation ("" = <instance>/imports); with
        # several instances on several machines, a directory they all mount.
        "PIPELINE_UPLOAD_DIR": os.environ.get("PIPELINE_UPLOAD_DIR", ""),
        "PIPELINE_CHECK_MIGRATED": True,
        # Where `pipeline export weekly --mail-to` sends the file: an SMTP relay (PIPELINE_SMTP_SECURITY none,
        # starttls or ssl); the password only ever from the environment.
        "PIPELINE_SMTP_HOST": os.environ.get("PIPELINE_SMTP_HOST", "localhost"),
        "PIPELINE_SMTP_PORT": int(os.environ.get("PIPELINE_SMTP_PORT", "25")),
        "PIPELINE_SMTP_SECURITY": smtp_security(os.environ.get("PIPELINE_SMTP_SECURITY", "none")),
        "PIPELINE_SMTP_USER": os.environ.get("PIPELINE_SMTP_USER", ""),
        "PIPELINE_SMTP_PASSWORD": os.environ.get("PIPELINE_SMTP_PASSWORD", ""),
        "PIPELINE_MAIL_FROM": os.environ.get("PIPELINE_MAIL_FROM", "pipeline@localhost"),
        "PIPELINE_MAIL_MAX_BYTES": int(os.environ.get("PIPELINE_MAIL_MAX_BYTES", str(20 * 1024 * 1024))),
        "PIPELINE_PASSWORD_PROFILE": "RFC_9106_LOW_MEMORY",
    }
