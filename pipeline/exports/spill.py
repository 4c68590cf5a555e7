"""Rows set aside while one sheet is written and read back for a later one: on disk, so memory stays flat."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import Any


class Spill:
    """A temporary file of rows: `add` while reading one query, `rows` afterwards; removed when the block ends."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115  (closed by __exit__: the spill is a context manager)
        self.count = 0

    def add(self, row: tuple[Any, ...]) -> None:
        pickle.dump(row, self._file, pickle.HIGHEST_PROTOCOL)  # one pickle per row: no memo kept between rows
        self.count += 1

    def rows(self) -> Iterator[tuple[Any, ...]]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()
