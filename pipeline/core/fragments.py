"""Pieces of a page drawn once per process and reused while what they show is unchanged (a content-keyed cache).

A fragment's key is everything it shows — the card's values, the page's language — so no change anywhere
needs to invalidate it: a changed deal is a different key, and old keys age out of the least-recently-used
cache. Values that differ per visitor (the CSRF token, the board's filter) never enter a fragment: they are
holes, filled as the page is put together. Each process keeps its own; nothing here is shared state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from threading import Lock

from markupsafe import Markup, escape


class FragmentCache:
    """Drawn fragments by key, the least recently used dropped past `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._drawn: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, draw: Callable[[], str]) -> str:
        """The fragment for `key`, drawn by `draw` the first time."""
        with self._lock:
            found = self._drawn.get(key)
            if found is not None:
                self._drawn.move_to_end(key)
                self.hits += 1
                return found
        drawn = str(draw())
        with self._lock:
            self.misses += 1
            self._drawn[key] = drawn
            if len(self._drawn) > self.size:
                self._drawn.popitem(last=False)
        return drawn

    def clear(self) -> None:
        with self._lock:
            self._drawn.clear()


def hole(name: str) -> str:
    """A marker standing in a fragment for a per-visitor value (never text a user could type: it has NULs)."""
    return f"\x00{name}\x00"


def fill(fragment: str, values: Mapping[str, str]) -> Markup:
    """A fragment with its holes filled by the visitor's values, escaped."""
    for name, value in values.items():
        fragment = fragment.replace(hole(name), str(escape(value)))
    return Markup(fragment)  # drawn by the template engine, autoescaped; the values escaped above
