"""`pipeline init` and `pipeline users …`: set a database up, add people, set passwords, hand out API tokens."""

from __future__ import annotations

import json
import os
import re
import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from pipeline.auth.models import Role, Team, User
from pipeline.auth.services import create_user, disable_user, issue_token, revoke_tokens, set_password
from pipeline.cli import describe, one_transaction, table
from pipeline.core.audit import AuditEvent, record
from pipeline.core.database import current_revision, head_revision
from pipeline.core.errors import DomainError, InvalidInput, NotFound
from pipeline.extensions import db

ADMIN_PASSWORD_ENV = "PIPELINE_ADMIN_PASSWORD"

users = AppGroup("users", help="Add and list the people who use the pipeline; issue and revoke API tokens.")

# Every change to who may do what is in the audit log, with the operating-system account that ran the command.
USER_CREATED, USER_DISABLED, PASSWORD_SET = "user.create", "user.disable", "user.password"
TOKEN_ISSUED, TOKEN_REVOKED = "token.issue", "token.revoke"


def _granted(user: User) -> None:
    """Log a new user: their role, team and whether they may sign in with a password."""
    record(
        USER_CREATED,
        via="cli",
        subject=user.email,
        subject_id=user.id,
        role=user.role,
        team=user.team.name if user.team else None,
        password=user.password_hash is not None,
    )


def _interactive() -> bool:
    """Whether someone is at the keyboard to answer a prompt."""
    return sys.stdin is not None and sys.stdin.isatty()


def user_by_email(email: str) -> User:
    """The user with this e-mail (any case), or a refusal naming it."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with e-mail {email.strip().lower()}")
    return user


def _first_admin() -> User | None:
    return db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))


def _admin_password(given: str | None) -> str:
    """The first admin's password: the option, else the environment, else a hidden prompt at a terminal."""
    if given:
        return given
    if os.environ.get(ADMIN_PASSWORD_ENV):
        return os.environ[ADMIN_PASSWORD_ENV]
    if _interactive():
        return str(click.prompt("Admin password", hide_input=True, confirmation_prompt=True))
    raise click.ClickException(f"no admin password: pass --admin-password or set {ADMIN_PASSWORD_ENV}")


@click.command("init")
@click.option("--admin-email", help="E-mail of the first admin (needed only while there is no admin).")
@click.option("--admin-name", default="管理员", show_default=True, help="Name of the first admin.")
@click.option("--admin-password", help=f"Password of the first admin (or set {ADMIN_PASSWORD_ENV}).")
@with_appcontext
def init_command(admin_email: str | None, admin_name: str, admin_password: str | None) -> None:
    """Migrate the database to the newest schema and create the first admin; safe to run again."""
    if current_revision(db.engine) != head_revision():
        from flask_migrate import upgrade  # alembic only in the processes that migrate

        upgrade()
    url = db.engine.url.render_as_string(hide_password=True)
    click.echo(f"database {url} is at migration {current_revision(db.engine)}")
    admin = _first_admin()
    if admin is not None:
        click.echo(f"an admin already exists: {admin.email}")
        return
    if not admin_email:
        if not _interactive():
            raise click.ClickException("there is no admin yet: pass --admin-email (and --admin-password)")
        admin_email = str(click.prompt("Admin e-mail"))
    password = _admin_password(admin_password)
    try:
        admin = create_user(admin_email, admin_name, Role.ADMIN, password=password)
        _granted(admin)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(describe(exc)) from None
    click.echo(f"created the first admin: {admin.email}")


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name, e.g. 王芳.")
@click.option("--role", required=True, metavar="rep|lead|admin", help="rep, lead or admin.")
@click.option("--team", help="Team name; created when it does not exist yet.")
@click.option("--password", help="Sign-in password (8 to 128 characters); without it the user signs in by token.")
@click.option("--locale", default="zh", show_default=True, metavar="zh|en", help="Language of the pages.")
@one_transaction
def create_command(email: str, name: str, role: str, team: str | None, password: str | None, locale: str) -> None:
    """Add a user; every wrong field is named."""
    if team is not None and not team.strip():
        raise InvalidInput({"team": "a team name cannot be blank"})
    user = create_user(email, name, role, team=team, password=password, locale=locale)
    _granted(user)
    team_note = f", team {user.team.name}" if user.team else ""
    click.echo(f"created {user.role} {user.email} ({user.name}{team_note})")


@users.command("token")
@click.argument("email")
@click.option("--name", "token_name", default="cli", show_default=True, help="What the token is for.")
@one_transaction
def token_command(email: str, token_name: str) -> None:
    """Print a new API token for a user: only the token, so it can be piped."""
    user = user_by_email(email)
    if not user.active:
        raise click.ClickException(f"user {user.email} is disabled; a token would not work")
    token = issue_token(user, token_name)
    record(TOKEN_ISSUED, via="cli", subject=user.email, subject_id=user.id, name=token_name)
    click.echo(token)


@users.command("revoke")
@click.argument("email")
@click.option("--name", "token_name", help="Revoke only the tokens with this name (as given to `users token`).")
@one_transaction
def revoke_command(email: str, token_name: str | None) -> None:
    """Revoke a user's API tokens (all of them, or those of one name); calls with them are refused at once."""
    user = user_by_email(email)
    revoked = revoke_tokens(user, token_name)
    if not revoked:
        raise click.ClickException(
            f"{user.email} has no API token in force" + (f" named {token_name!r}" if token_name is not None else "")
        )
    record(
        TOKEN_REVOKED,
        via="cli",
        subject=user.email,
        subject_id=user.id,
        tokens=[t.id for t in revoked],
        name=token_name,
    )
    click.echo(f"revoked {len(revoked)} API token(s) of {user.email}")


@users.command("list")
@one_transaction
def list_command() -> None:
    """List every user with role, team and whether they may sign in."""
    rows = db.session.execute(
        select(User.email, User.name, User.role, Team.name, User.active)
        .outerjoin(Team, User.team_id == Team.id)
        .order_by(User.email)
    ).all()
    click.echo(
        table(
            ("email", "name", "role", "team", "status"),
            [(e, n, r, t or "-", "active" if a else "disabled") for e, n, r, t, a in rows],
        )
    )


@users.command("disable")
@click.argument("email")
@one_transaction
def disable_command(email: str) -> None:
    """Lock a user out of the pages and the API at once, ending their open sessions; their records stay."""
    user = user_by_email(email)
    if not user.active:
        click.echo(f"{user.email} is already disabled")
        return
    disable_user(user)
    record(USER_DISABLED, via="cli", subject=user.email, subject_id=user.id)
    click.echo(f"disabled {user.email}")


@users.command("password")
@click.argument("email")
@click.option("--password", help="The new password (8 to 128 characters); asked for, hidden, when left out.")
@one_transaction
def password_command(email: str, password: str | None) -> None:
    """Set a user's password; every session signed in with the old one ends."""
    user = user_by_email(email)
    if password is None:
        if not _interactive():
            raise click.ClickException("no password: pass --password or run this at a terminal")
        password = str(click.prompt("New password", hide_input=True, confirmation_prompt=True))
    set_password(user, password)
    record(PASSWORD_SET, via="cli", subject=user.email, subject_id=user.id)
    click.echo(f"changed the password of {user.email}; their open sessions have ended")


_C1_CONTROLS = re.compile("[\x7f-\x9f]")  # JSON escapes C0 controls itself; DEL and C1 (CSI, …) too, here


def _printable(text: str) -> str:
    """JSON text with DEL and the C1 controls \\u-escaped as well, so no byte of it is a terminal command."""
    return _C1_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@click.command("audit")
@click.option("--action", help="Only this action, or every action under a prefix ending in '.', such as 'auth.'.")
@click.option("--actor", help="Only the entries of this actor: a user's e-mail, 'anonymous', or 'cli:<account>'.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="How many, newest first.")
@one_transaction
def audit_command(action: str | None, actor: str | None, limit: int) -> None:
    """Show the audit log, newest first: when (UTC), who, how, what, and the details (as JSON, control characters
    escaped, so nothing a request wrote can rewrite the terminal)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(
            AuditEvent.action.startswith(action) if action.endswith(".") else AuditEvent.action == action
        )
    if actor:
        query = query.where(AuditEvent.actor == actor.strip().lower())
    rows = [
        (
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.via,
            e.action,
            _printable(json.dumps(e.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))),
        )
        for e in db.session.scalars(query)
    ]
    click.echo(table(("at (UTC)", "actor", "via", "action", "details"), rows))


def register(app: Flask) -> None:
    """Attach `init`, `users` and `audit` to `app.cli`."""
    app.cli.add_command(init_command)
    app.cli.add_command(users)
    app.cli.add_command(audit_command)
