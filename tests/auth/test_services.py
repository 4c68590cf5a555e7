"""Users, passwords and API tokens: every bad field named, only hashes stored, revoked access gone."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.auth.models import ApiToken, Team, User
from pipeline.auth.services import check_password, create_user, issue_token, user_for_token
from pipeline.core.errors import InvalidInput
from pipeline.core.models import utcnow
from pipeline.extensions import db


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "a b@example.com"}, {"email"}),
        ({"email": "REP@Example.com"}, {"email"}),  # already taken, whatever the case
        ({"role": "boss"}, {"role"}),
        ({"password": "short"}, {"password"}),
        ({"password": "x" * 129}, {"password"}),
        ({"name": "   "}, {"name"}),
        ({"locale": "fr"}, {"locale"}),
        (
            {"email": "nope", "name": "", "role": "owner", "password": "1234567", "locale": "de"},
            {"email", "name", "role", "password", "locale"},
        ),
    ],
)
def test_create_user_names_each_wrong_field_and_adds_nobody(
    people: Any, kwargs: dict[str, str], fields: set[str]
) -> None:
    before = user_count()
    values = {"email": "new@example.com", "name": "新同事", "role": "rep", "password": "good-pass-1", **kwargs}
    with pytest.raises(InvalidInput) as exc:
        create_user(**values)
    assert set(exc.value.fields) == fields
    assert exc.value.status == 422
    db.session.rollback()
    assert user_count() == before


def test_create_user_normalises_and_joins_the_team(people: Any) -> None:
    user = create_user("  New.Person@Example.COM ", " 刘洋 ", "lead", team="华北", password="good-pass-1", locale="en")
    db.session.commit()
    assert (user.email, user.name, user.role, user.locale, user.active) == (
        "new.person@example.com",
        "刘洋",
        "lead",
        "en",
        True,
    )
    team = db.session.scalar(select(Team).where(Team.name == "华北"))
    assert team is not None and team.lead_id == user.id
    assert user.team_id == team.id


def test_a_second_lead_does_not_replace_the_teams_lead(people: Any) -> None:
    create_user("lead3@example.com", "周经理", "lead", team="华东", password="good-pass-1")
    db.session.commit()
    assert people.lead.team is not None and people.lead.team.lead_id == people.lead.id


def test_passwords_are_stored_as_argon2id_hashes(people: Any) -> None:
    user = create_user("pw@example.com", "钱多多", password="correct horse battery")
    db.session.commit()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    other = create_user("pw2@example.com", "钱少少", password="correct horse battery")
    assert other.password_hash != stored  # salted


def test_check_password(people: Any) -> None:
    assert check_password(people.rep, "rep-pass-1")
    assert not check_password(people.rep, "rep-pass-2")
    assert not check_password(people.rep, "")
    nopw = create_user("nopw@example.com", "无密码")
    assert nopw.password_hash is None
    assert not check_password(nopw, "")
    assert not check_password(nopw, "anything-at-all")


def test_a_broken_hash_does_not_crash_the_check(people: Any) -> None:
    people.rep.password_hash = "plain-text-from-an-old-import"
    assert not check_password(people.rep, "plain-text-from-an-old-import")


def test_only_the_tokens_hash_is_stored(people: Any) -> None:
    token = issue_token(people.rep, "报表脚本")
    db.session.commit()
    rows = db.session.execute(select(ApiToken.token_hash, ApiToken.name, ApiToken.user_id)).all()
    assert [tuple(r) for r in rows] == [(hashlib.sha256(token.encode()).hexdigest(), "报表脚本", people.rep.id)]
    assert token not in rows[0].token_hash
    assert issue_token(people.rep) != token


def test_a_token_resolves_to_its_user_and_notes_its_use(people: Any) -> None:
    token = issue_token(people.rep)
    db.session.commit()
    assert user_for_token(token) == people.rep
    row = db.session.scalar(select(ApiToken))
    assert row is not None and row.last_used_at is not None
    assert user_for_token(token + "x") is None
    assert user_for_token("") is None


def test_a_revoked_token_resolves_to_nobody(people: Any) -> None:
    token, other = issue_token(people.rep), issue_token(people.rep)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    assert row is not None
    row.revoked_at = utcnow()
    db.session.commit()
    assert user_for_token(token) is None
    assert user_for_token(other) == people.rep


def test_a_disabled_users_token_resolves_to_nobody(people: Any) -> None:
    token = issue_token(people.lead)
    people.lead.active = False
    db.session.commit()
    assert user_for_token(token) is None
    assert not people.lead.is_active
