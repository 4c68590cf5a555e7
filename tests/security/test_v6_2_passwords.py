"""ASVS 5.0 V6.2 password security and V11.4.2 password storage: Argon2id with current parameters, 8 to 128
characters of any kind, checked exactly as typed.

V6.3.1 (slowing down guessing, per account and per address, shared between instances) is proven in
tests/auth/test_throttle.py: test_after_too_many_failures_even_the_right_password_is_refused_unchecked,
test_counts_are_per_account_until_the_address_limit, test_counts_are_per_address,
test_two_app_instances_share_the_counts_through_redis.
"""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from pipeline.auth.services import MAX_PASSWORD, MIN_PASSWORD, check_password, create_user, hash_password
from pipeline.core.errors import InvalidInput
from pipeline.extensions import db
from tests.conftest import People

ARGON2_HASH = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
# OWASP's Password Storage Cheat Sheet: Argon2id with at least 19 MiB of memory, 2 iterations, 1 lane.
OWASP_MINIMUM = {"m": 19 * 1024, "t": 2, "p": 1}


def parameters(stored: str) -> dict[str, int]:
    found = ARGON2_HASH.match(stored)
    assert found, stored
    return dict(zip("mtp", map(int, found.groups()), strict=True))


def test_production_hashes_are_argon2id_with_owasp_parameters(app: Flask) -> None:
    """V11.4.2: the configured hasher is the memory-hard Argon2id, its parameters are in each hash (so a later
    increase rehashes at the next sign-in) and meet OWASP's minimum; tests alone use a cheaper profile."""
    app.config["PIPELINE_PASSWORD_PROFILE"] = "RFC_9106_LOW_MEMORY"  # what a deployment runs with by default
    stored = hash_password("correct horse battery")
    found = parameters(stored)
    assert all(found[k] >= OWASP_MINIMUM[k] for k in OWASP_MINIMUM), found
    assert found["m"] == 64 * 1024  # RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes
    PasswordHasher().verify(stored, "correct horse battery")  # a standard Argon2 verifier reads it as it is


def test_every_stored_password_hash_is_argon2id(people: People) -> None:
    """V11.4.2: what the users table holds is an Argon2id hash with a salt, never the password."""
    db.session.expire_all()
    hashes = [people.rep.password_hash, people.admin.password_hash]
    assert all(h is not None and h.startswith("$argon2id$") for h in hashes)
    assert "rep-pass-1" not in (people.rep.password_hash or "")


def test_a_rehash_follows_stronger_parameters_at_the_next_sign_in(
    app: Flask, client: FlaskClient, people: People
) -> None:
    """V11.4.2 "configured based on current guidance": when the parameters go up, old hashes are upgraded."""
    app.config["PIPELINE_PASSWORD_PROFILE"] = "RFC_9106_LOW_MEMORY"
    assert client.post("/login", data={"email": people.rep.email, "password": "rep-pass-1"}).status_code == 302
    db.session.expire_all()
    assert parameters(people.rep.password_hash or "")["m"] == 64 * 1024


@pytest.mark.parametrize(
    "password",
    [
        "8chars!!",  # V6.2.1: eight is enough
        "a" * 64,  # V6.2.9: at least 64 are permitted
        "p" * MAX_PASSWORD,
        "aaaaaaaa",  # V6.2.5: no composition rules
        "我的密码是八个字",  # any script
        "pass 🔑 word",  # emoji and spaces inside
        "  spaced both ends  ",  # V6.2.8: leading and trailing spaces are part of it
        "Ünïcödé-Pässwörd",
    ],
    ids=["8", "64", "128", "no-rules", "chinese", "emoji", "edge-spaces", "accents"],
)
def test_passwords_of_8_to_128_characters_of_any_kind_work_exactly_as_typed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, password: str
) -> None:
    """V6.2.1, V6.2.5, V6.2.8, V6.2.9: set through the command, signed in with through the form, byte for byte;
    the same text changed in any way (trimmed, upper-cased, one character cut) is refused."""
    result = runner.invoke(
        args=["users", "create", "pw@example.com", "--name", "密码", "--role", "rep", "--password", password]
    )
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"email": "pw@example.com", "password": password}).status_code == 302
    client.post("/logout")
    for variant in {password.strip(), password.upper(), password[:-1]} - {password}:
        refused = client.post("/login", data={"email": "pw@example.com", "password": variant})
        assert refused.status_code == 422, repr(variant)


@pytest.mark.parametrize("length", [MIN_PASSWORD - 1, MAX_PASSWORD + 1])
def test_a_password_shorter_than_8_or_longer_than_128_is_refused_naming_the_field(people: People, length: int) -> None:
    """V6.2.1: seven characters are refused; past 128 (a cap that keeps hashing bounded) too, saying the rule."""
    assert (MIN_PASSWORD, MAX_PASSWORD) == (8, 128)
    with pytest.raises(InvalidInput) as refused:
        create_user("short@example.com", "短", "rep", password="x" * length)
    assert refused.value.fields == {"password": "a password has 8 to 128 characters"}


def test_the_sign_in_form_masks_the_password_and_lets_password_managers_fill_it(client: FlaskClient) -> None:
    """V6.2.6, V6.2.7: type=password, and autocomplete hints instead of blocking paste or managers."""
    html = client.get("/login").get_data(as_text=True)
    field = re.search(r"<input[^>]*name=\"password\"[^>]*>", html)
    assert field, html
    assert 'type="password"' in field.group(0) and 'autocomplete="current-password"' in field.group(0)
    assert "onpaste" not in html


def test_checking_a_password_needs_the_hash_not_the_password(people: People) -> None:
    """V11.4.2: a wrong password, an empty one, or a user without a password never checks true."""
    assert check_password(people.rep, "rep-pass-1")
    assert not check_password(people.rep, "rep-pass-2")
    assert not check_password(people.rep, "")
    people.rep.password_hash = None
    assert not check_password(people.rep, "rep-pass-1")
