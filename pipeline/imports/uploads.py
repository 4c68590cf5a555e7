"""An uploaded file kept between the preview and the confirmation, under a random token.

Only the user who uploaded it can use it; it is removed after the import, or after a day if never confirmed.
The preview and the confirmation are separate requests, which a load balancer may send to different
instances: the folder is PIPELINE_UPLOAD_DIR, which several instances on several machines must share
(one network mount), or the instance folder's imports/ when they all run on one machine.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app

from pipeline.auth.models import User
from pipeline.core.errors import NotFound
from pipeline.exports.files import atomic_path

KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".vcf")


@dataclass(frozen=True)
class Upload:
    """A kept file: where it is and what the user called it."""

    token: str
    path: Path
    filename: str


def folder() -> Path:
    """Where uploads wait: PIPELINE_UPLOAD_DIR, else <instance>/imports; readable by the app only."""
    path = Path(current_app.config["PIPELINE_UPLOAD_DIR"] or Path(current_app.instance_path) / "imports")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _meta(token: str) -> Path:
    return folder() / f"{token}.json"


def keep(user: User, stream: IO[bytes], filename: str) -> Upload:
    """Store the upload under a new token (the file first, then its owner's note: both appear whole or not at all)."""
    sweep()
    token = secrets.token_urlsafe(24)
    path = folder() / token
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    path.chmod(0o600)
    with atomic_path(_meta(token)) as tmp:
        tmp.write_text(json.dumps({"user_id": user.id, "filename": filename, "at": time.time()}), encoding="utf-8")
    return Upload(token, path, filename)


def kept(user: User, token: str) -> Upload:
    """The user's upload under this token; NotFound for anyone else's, an expired or an unknown one."""
    if not TOKEN.fullmatch(token or ""):
        raise NotFound("upload not found")
    try:
        meta = json.loads(_meta(token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound("upload not found") from None
    path = folder() / token
    if meta.get("user_id") != user.id or time.time() - meta.get("at", 0) > KEEP_SECONDS or not path.is_file():
        raise NotFound("upload not found")
    return Upload(token, path, str(meta.get("filename") or token))


def discard(token: str) -> None:
    """Remove an upload (after its import)."""
    for path in (folder() / token, _meta(token)):
        with suppress(FileNotFoundError):
            path.unlink()


def sweep(now: float | None = None) -> int:
    """Remove uploads older than a day; the number removed."""
    removed = 0
    moment = time.time() if now is None else now
    for path in folder().iterdir():
        with suppress(FileNotFoundError):
            if moment - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
                removed += 1
    return removed
