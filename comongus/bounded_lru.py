"""A least-recently-used table bounded by what its entries weigh, for what is kept
because it was read (pages, join histories): anyone can make new entries, so
the whole is capped, not only each one."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class BoundedLRU:
    """Values by key, each with its weight; the least recently used go first once
    the weights pass `max_weight` or the entries `max_entries`. Thread-safe."""

    def __init__(self, max_weight: int, max_entries: int | None = None) -> None:
        self.max_weight = max_weight
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    @property
    def weight(self) -> int:
        """What the entries weigh together (at most `max_weight`)."""
        return self._weight

    def get(self, key: Hashable) -> object | None:
        """The value kept for `key`, now the most recently used, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: object, weight: int) -> None:
        """Keep `value` for `key`, unless it alone weighs more than the whole bound."""
        if weight > self.max_weight:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._entries[key] = (value, weight)
            self._weight += weight
            while self._weight > self.max_weight or (
                    self.max_entries is not None and len(self._entries) > self.max_entries):
                _, (_, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped
