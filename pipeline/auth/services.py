"""Create users and teams, check and change passwords, end sessions, issue and resolve API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import func, select

from pipeline.auth.models import ApiToken, Role, Team, User
from pipeline.core.errors import Conflict, InvalidInput
from pipeline.core.models import utcnow
from pipeline.extensions import db

DEFAULT_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # Argon2id, memory-hard: the OWASP first choice


def _hasher() -> PasswordHasher:
    """The Argon2id hasher for the configured profile (tests use a cheap one; production never should)."""
    name = current_app.config.get("PIPELINE_PASSWORD_PROFILE") if has_app_context() else None
    return PasswordHasher.from_parameters(getattr(profiles, name or DEFAULT_HASH_PROFILE))


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
TOKEN_PREFIX = "pl_"
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """True when `password` is the user's; rehash transparently when the parameters have moved on."""
    if not user.password_hash:
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def _check_password_length(password: str) -> str | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    return None


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session cookie names the old epoch, which loads no one any more."""
    user.session_epoch = User.session_epoch + 1  # in SQL, so two bumps at once both count
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """Give the user a new password and end every session signed in with the old one."""
    problem = _check_password_length(password)
    if problem:
        raise InvalidInput({"password": problem})
    user.password_hash = hash_password(password)
    end_sessions(user)


def disable_user(user: User) -> None:
    """Lock the user out of the pages and the API at once (their open sessions end too); their records stay."""
    if user.role == Role.ADMIN and user.active:
        others = db.session.scalar(
            select(User.id).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        if others is None:
            raise Conflict(f"{user.email} is the last active admin; create another admin first")
    user.active = False
    end_sessions(user)


def team_named(name: str) -> Team:
    """The team of this name, created when it does not exist yet."""
    team = db.session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def create_user(
    email: str,
    name: str,
    role: str = Role.REP,
    team: str | None = None,
    password: str | None = None,
    locale: str = "zh",
) -> User:
    """Add a user, checking every field and naming each one that is wrong."""
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(email):
        errors["email"] = f"{email!r} is not an e-mail address"
    elif db.session.scalar(select(func.count()).where(User.email == email)):
        errors["email"] = f"a user with e-mail {email} already exists"
    if not name.strip():
        errors["name"] = "a name is required"
    if role not in tuple(Role):
        errors["role"] = f"role must be one of {', '.join(Role)}"
    if password is not None and (problem := _check_password_length(password)):
        errors["password"] = problem
    if locale not in ("zh", "en"):
        errors["locale"] = "locale must be zh or en"
    if errors:
        raise InvalidInput(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password else None,
    )
    if team:
        user.team = team_named(team.strip())
    db.session.add(user)
    db.session.flush()
    if role == Role.LEAD and user.team is not None and user.team.lead_id is None:
        user.team.lead = user
    return user


def token_digest(token: str) -> str:
    """What is stored of a token (and what counts its calls): its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str = "") -> str:
    """Create an API token for `user` and return it; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=token_digest(token), name=name))
    db.session.flush()
    return token


def revoke_tokens(user: User, name: str | None = None) -> list[ApiToken]:
    """Revoke the user's API tokens still in force (only those called `name` when given); they stop working at once."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    tokens = list(db.session.scalars(query.where(ApiToken.name == name) if name is not None else query))
    now = utcnow()
    for row in tokens:
        row.revoked_at = now
    db.session.flush()
    return tokens


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
        row.last_used_at = now  # coarse on purpose: a read-only call should not write on every request
    return row.user
