"""The history a join's ack carries, read once per room while nothing new is stored.

Every join's ack holds the room's newest messages (JOIN_HISTORY_LIMIT of them,
HISTORY_MAX_BYTES at most). When a lecture starts, hundreds join one room within
seconds, and each join read the same rows again and encoded them again: a query
and the JSON of up to fifty messages per join, a large part of what a join costs
the server. Here each room's history is kept as the JSON text the ack
will carry (`RawJSON`, packet_json.py), with the store's change counter it was
read under (`store.change_counter`: anything committed, by any process, changes
it), and it is served again only while the counter has not moved. So a history
is never staler than the database: a message or a deletion from another process
shows at the next join.

The counter is read before the rows: a commit that lands in between changes it,
and the next join reads again. What is kept is bounded in characters across all
rooms; the rooms least recently joined go first.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask, current_app

from .bounded_lru import BoundedLRU
from .packet_json import RawJSON

# The kept histories together stay under this many characters (room names included).
KEEP_CHARACTERS = 8 * 1024 * 1024
ENTRY_OVERHEAD = 200  # what a kept room costs beyond its strings: tuple, RawJSON, dict slot


class JoinHistories:
    """Each room's last join history as JSON text, with the change counter it was read under."""

    def __init__(self, version: Callable[[], object],
                 max_characters: int = KEEP_CHARACTERS) -> None:
        self._version = version
        self._kept = BoundedLRU(max_characters)  # room -> (version, history), in characters

    def latest(self, room: str, read: Callable[[], list[dict]]) -> RawJSON:
        """`room`'s history for a join's ack: the kept one if nothing was committed
        since it was read, else `read()` (the messages as the ack shows them), kept.

        Call it under the room's lock, as the join does, so no message of this
        process slips between the history and the live stream.
        """
        try:
            version = self._version()
        except Exception:  # the read says why the database is unavailable, as a join expects
            version = None
        if version is not None:
            kept = self._kept.get(room)
            if kept is not None and kept[0] == version:
                return kept[1]
        history = RawJSON(json.dumps(read(), separators=(",", ":")))
        if version is not None:
            self._kept.put(room, (version, history),
                           ENTRY_OVERHEAD + len(room) + len(history.text))
        return history

    @property
    def characters(self) -> int:
        """What the kept histories weigh, in characters (at most `max_characters`)."""
        return self._kept.weight


def init_app(app: Flask) -> None:
    app.extensions["comongus.join_histories"] = JoinHistories(app.extensions["comongus.changes"])


def latest(room: str, read: Callable[[], list[dict]]) -> RawJSON:
    """`room`'s history for a join's ack: see `JoinHistories.latest`."""
    return current_app.extensions["comongus.join_histories"].latest(room, read)
