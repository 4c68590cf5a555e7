"""The Idempotency-Key request header (IETF draft-ietf-httpapi-idempotency-key-header): a retried POST acts once.

A client that sends `Idempotency-Key: "<unique value>"` with a state-changing POST and gets no answer (a timeout,
a dropped connection) sends the same request with the same key again. The first success is stored with the key,
the user and a fingerprint of the request (method, path and JSON body), in the same transaction as the change it
made, so either both are kept or neither is. A retry then answers the stored status and body (with
`Idempotent-Replayed: true`) and changes nothing. The same key with another request is refused (422); a retry while
the first is still being processed is refused (409). Keys are kept 24 hours.

Only successes are stored: a refused request (4xx) rolled back everything it did, so running its retry again is
safe, and a retry after the state changed (a gate's work done, someone else's change reloaded) may then succeed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ParamSpec

from flask import Response, request
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.auth.api import api_user
from pipeline.core.errors import Conflict, DomainError, InvalidInput
from pipeline.core.models import UTCDateTime, utcnow
from pipeline.extensions import db

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
MAX_LENGTH = 255
PURGE_BATCH = 100
# An sf-string (RFC 8941): printable ASCII in double quotes, with \" and \\ escaped; a bare value is taken as well.
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BARE = re.compile(r"[\x21\x23-\x7e]+")  # no quote: a quoted value must be a whole sf-string

P = ParamSpec("P")


class IdempotencyKey(db.Model):
    """A user's key and the first successful answer to the request it came with, kept for 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the method, the path and the body
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def parse_key(value: str) -> str:
    """The key an Idempotency-Key header carries, or a 400 naming the header."""
    text = value.strip()
    quoted = _SF_STRING.fullmatch(text)
    key = re.sub(r"\\(.)", r"\1", quoted.group(1)) if quoted else (text if _BARE.fullmatch(text) else "")
    if not 0 < len(key) <= MAX_LENGTH:
        raise DomainError(
            f"{HEADER} must be a string of 1 to {MAX_LENGTH} printable ASCII characters, such as "
            f'"8e03978e-40d5-43e8-bc93-6894a57f9324"'
        )
    return key


def fingerprint() -> str:
    """What makes two requests the same request: the method, the path with its query, and the JSON body's content."""
    body = request.get_json(silent=True)
    payload = request.get_data() if body is None else json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(b"\n".join([request.method.encode(), request.full_path.encode(), payload])).hexdigest()


def advisory_lock_id(user_id: int, key: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit number) that stands for one user's key."""
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claim(user_id: int, key: str) -> None:
    """Hold the key for this transaction, or refuse (409) while another request with it is being processed.

    PostgreSQL: a transaction-scoped advisory lock, released at commit, after which the stored answer is visible.
    SQLite has one writer at a time (requests that write begin IMMEDIATE), so the second request starts only
    after the first committed, and finds its answer.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    if not db.session.scalar(select(func.pg_try_advisory_xact_lock(advisory_lock_id(user_id, key)))):
        raise Conflict(f"a request with this {HEADER} is still being processed; retry it in a moment")


def _purge(now: datetime) -> None:
    """Forget expired keys, a batch at a time, skipping rows another request is deleting."""
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at < now - KEPT_FOR)
        .order_by(IdempotencyKey.id)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired.scalar_subquery())))


def _replay(stored: IdempotencyKey) -> Response:
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers[REPLAYED] = "true"
    return response


def idempotent(view: Callable[P, Any]) -> Callable[P, Any]:
    """Make an API POST honour the Idempotency-Key header; put it right under `@blp.route`."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        header = request.headers.get(HEADER)
        if header is None:
            return view(*args, **kwargs)
        key, user, now = parse_key(header), api_user(), utcnow()
        request_print = fingerprint()
        _claim(user.id, key)
        _purge(now)
        stored = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user.id,
                IdempotencyKey.key == key,
                IdempotencyKey.created_at >= now - KEPT_FOR,
            )
        )
        if stored is not None:
            if stored.fingerprint != request_print:
                raise InvalidInput(
                    {HEADER: f"this key was used for another request ({stored.method} {stored.path}); use a new key"},
                    f"{HEADER} reused with a different request",
                )
            return _replay(stored)
        response = view(*args, **kwargs)
        if isinstance(response, Response) and 200 <= response.status_code < 300:
            db.session.add(
                IdempotencyKey(
                    user_id=user.id,
                    key=key,
                    fingerprint=request_print,
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    body=response.get_data(as_text=True),
                    created_at=now,
                )
            )
            db.session.flush()
        return response

    wrapper._apidoc = _documented(getattr(view, "_apidoc", {}))  # type: ignore[attr-defined]
    return wrapper


def _documented(apidoc: dict[str, Any]) -> dict[str, Any]:
    """The view's OpenAPI description with the header among its parameters."""
    manual = dict(apidoc.get("manual_doc", {}))
    manual["parameters"] = [*manual.get("parameters", []), HEADER_PARAMETER]
    return {**apidoc, "manual_doc": manual}


HEADER_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_LENGTH + 2},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    "description": (
        "Makes a retry of this request safe (IETF draft-ietf-httpapi-idempotency-key-header): send a new unique "
        "value (a UUID, in double quotes as the draft writes it; a bare value is accepted) with each new request, "
        "and the same value when you send that request again. The first success is stored for 24 hours with your "
        "user and the request's method, path and body; a retry answers the stored status and body with "
        f"`{REPLAYED}: true` and changes nothing. The same key with another request answers 422; a retry while "
        "the first is still being processed answers 409. A refused request (4xx) stores nothing: its retry runs again."
    ),
}
