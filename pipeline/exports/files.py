"""Files that appear complete or not at all: written under a temporary name beside the target, then renamed."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

UNSAFE = re.compile(r"[^\w.@-]+")  # keeps letters of any script (华东一组), digits, _ . @ -


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path in `final`'s folder to write to; it becomes `final` only if the block completes.

    A failure (or a kill) never leaves a half-written file under the final name: the rename is atomic on one
    file system, and the file is synced to disk before it (so a power cut cannot leave it empty either).
    """
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, final)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise


def safe_name(text: str) -> str:
    """A piece of a file name from any text: runs of characters a file system or a mail client dislikes become -."""
    return UNSAFE.sub("-", text).strip("-.") or "-"
