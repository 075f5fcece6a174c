"""Room-wide notices ("X has joined!", "X has left.") and `roomData`, from one background task.

Handlers never broadcast presence themselves. Sending from inside a handler is
what let a dying socket's disconnect handler run inside another socket's send,
recursively; and a notice plus a member list per join floods a full room
(1,000 joins x 1,000 members, twice). So handlers report changes here, and this
task sends each changed room, at most once per interval (one that grows with
the room), its notices and then its new list. A few joins in one interval get
a notice each ("Alice has joined!", to all but Alice); a burst gets one notice
naming everyone in its `names` ("Alice, Bob, ... and Zoe have joined!", its
English text naming the first ten and counting the others), sent to everyone,
the joiners too, so each learns of the others. Leaves likewise. In one interval a
name is told at most once as joining and once as leaving, joins first: one that
comes and goes is told as both, one that goes and comes back as neither, so
however often a connection flips rooms its name costs each room two mentions.
Every notice carries its code, `joined` or `left`, with `names`: all it names.

The announcer is told who changed; it asks presence only for the list it sends,
once per send, and spaces a room's sends by the size of the last list it sent.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from . import presence
from .extensions import socketio
from .payloads import admin_notice, room_data

log = logging.getLogger(__name__)

# Up to this many joins (or leaves) of one room in one interval get a notice each.
NOTICES_BEFORE_A_BURST = 3
# A burst notice's English text names at most this many; `names` has them all.
NAMES_IN_A_TEXT = 10


@dataclass
class _RoomChanges:
    latest: float  # the room's next send may not wait past this (its spacing)
    due: float  # when it goes out: an interval after the last change, or `latest`
    joined: dict[str, str] = field(default_factory=dict)  # name -> the joiner's sid
    left: dict[str, None] = field(default_factory=dict)  # the names, in the order they left


def _names(names: list[str]) -> str:
    """Names for an English notice: "Alice and Bob", "Alice, Bob and Cid", "A, … and 990 others".

    The text is what a v1 client shows: a burst into a big room must not make it
    a line of thousands of names.
    """
    if len(names) == 1:
        return names[0]
    if len(names) > NAMES_IN_A_TEXT + 1:
        return f"{', '.join(names[:NAMES_IN_A_TEXT])} and {len(names) - NAMES_IN_A_TEXT:,} others"
    return ", ".join(names[:-1]) + " and " + names[-1]


class Announcer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = app.config["ROOMDATA_INTERVAL"]
        self._lock = threading.Lock()
        self._changes: dict[str, _RoomChanges] = {}
        self._last_sent: dict[str, float] = {}
        self._sizes: dict[str, int] = {}  # room -> how many names its last list had
        self._server = None
        self._wake = None
        self._task = None

    def joined(self, room: str, name: str, sid: str) -> None:
        """`name` came online in `room` through connection `sid`."""
        with self._lock:
            changes = self._changed(room)
            came_back = name in changes.left and name not in changes.joined
            changes.left.pop(name, None)  # its going, if any, goes untold
            if not came_back:
                changes.joined[name] = sid
        self._wake.set()

    def left(self, room: str, name: str) -> None:
        """`name` went offline in `room` (its last connection left)."""
        with self._lock:
            self._changed(room).left[name] = None
        self._wake.set()

    def _changed(self, room: str) -> _RoomChanges:
        """The room's pending changes, due once it has been quiet for an interval.

        A room quiet for its spacing goes out at once; in a storm of changes it
        goes out every spacing (which grows with the room, as a list's cost grows
        with its square), and an interval after the storm ends.
        """
        now = time.monotonic()
        changes = self._changes.get(room)
        if changes is None:
            spacing = self.interval * (1 + self._sizes.get(room, 0) / 100)
            latest = max(now, self._last_sent.get(room, 0.0) + spacing)
            due = now if latest == now else min(latest, now + self.interval)
            changes = self._changes[room] = _RoomChanges(latest, due)
        elif changes.due > now:
            changes.due = min(changes.latest, now + self.interval)
        if self._task is None:
            # This app's own Socket.IO server: the module-level `socketio` is rebound
            # by every create_app() (tests build many apps in one process).
            self._server = socketio.server
            self._wake = self._server.eio.create_event()
            self._task = self._server.start_background_task(self._run)
        return changes

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                self._wake.wait(timeout=self._send_due())
                self._wake.clear()

    def _send_due(self) -> float | None:
        """Send the rooms that are due; returns seconds until the next one (None: none)."""
        now = time.monotonic()
        with self._lock:
            due = [(room, changes) for room, changes in self._changes.items()
                   if changes.due <= now]
            for room, _changes in due:
                del self._changes[room]
                self._last_sent[room] = now
            self._forget_quiet_rooms(now)
            next_due = min((c.due for c in self._changes.values()), default=None)
        for room, changes in due:
            try:
                self._announce(room, changes)
            except Exception:
                log.exception("announcing to room %r failed", room)
        return None if next_due is None else max(0.0, next_due - time.monotonic())

    def _announce(self, room: str, changes: _RoomChanges) -> None:
        joined, left = list(changes.joined), list(changes.left)
        if len(joined) <= NOTICES_BEFORE_A_BURST:
            for name, sid in changes.joined.items():
                self._broadcast(room, "message", admin_notice(
                    room, f"{name} has joined!", "joined", names=[name]), skip_sid=sid)
        else:
            # Everyone, the joiners too: each must learn of the others in the burst.
            self._broadcast(room, "message", admin_notice(
                room, f"{_names(joined)} have joined!", "joined", names=joined))
        if len(left) <= NOTICES_BEFORE_A_BURST:
            for name in left:
                self._broadcast(room, "message", admin_notice(
                    room, f"{name} has left.", "left", names=[name]))
        else:
            self._broadcast(room, "message", admin_notice(
                room, f"{_names(left)} have left.", "left", names=left))
        try:
            names = presence.current().members(room)
        except presence.PresenceUnavailable:  # logged once by presence; the next change
            return                            # of the room sends its list
        with self._lock:
            self._sizes[room] = len(names)
        self._broadcast(room, "roomData", room_data(room, names))

    def _broadcast(self, room: str, event: str, data: dict, skip_sid=None) -> None:
        self._server.emit(event, data, to=room, skip_sid=skip_sid, namespace="/")
        self._server.sleep(0)  # let the writers drain between broadcasts

    def _forget_quiet_rooms(self, now: float) -> None:
        """Drop the send times of rooms quiet for a minute, so the table stays small."""
        if len(self._last_sent) > 1000:
            for room in [r for r, at in self._last_sent.items()
                         if now - at > 60 and r not in self._changes]:
                del self._last_sent[room]
                self._sizes.pop(room, None)


def init_app(app: Flask) -> None:
    app.extensions["comongus.announcer"] = Announcer(app)


def current() -> Announcer:
    return current_app.extensions["comongus.announcer"]
