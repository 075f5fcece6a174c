"""Room-wide notices ("X has joined", "X has left") and `roomData`, from one background task.

Handlers never broadcast presence themselves. Sending from inside a handler is
what let a dying socket's disconnect handler run inside another socket's send,
recursively; and a room's member list sent after every join floods a full room
(1,000 joins x 1,000 members). So handlers queue a notice and mark the room
changed; this task sends notices in order and each room's list at most once per
interval, an interval that grows with the room.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

from flask import Flask, current_app

from . import presence
from .chat import admin_notice
from .extensions import socketio

log = logging.getLogger(__name__)


class Announcer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = app.config["ROOMDATA_INTERVAL"]
        self._lock = threading.Lock()
        self._notices: deque[tuple[str, str, str | None]] = deque()  # (room, text, skip_sid)
        self._due: dict[str, float] = {}  # changed room -> when its list may go out
        self._last_sent: dict[str, float] = {}
        self._wake = None
        self._task = None

    def joined(self, room: str, name: str, sid: str) -> None:
        """Tell the room's others that `name` came online, then send the new list."""
        self._queue(room, f"{name} has joined!", skip_sid=sid)

    def left(self, room: str, name: str) -> None:
        """Tell the room that `name` went offline, then send the new list."""
        self._queue(room, f"{name} has left.", skip_sid=None)

    def _queue(self, room: str, text: str, skip_sid: str | None) -> None:
        with self._lock:
            self._notices.append((room, text, skip_sid))
            if room not in self._due:
                size = len(presence.current().members(room))
                spacing = self.interval * (1 + size / 100)
                self._due[room] = max(time.monotonic(), self._last_sent.get(room, 0) + spacing)
            if self._task is None:
                self._wake = socketio.server.eio.create_event()
                self._task = socketio.start_background_task(self._run)
        self._wake.set()

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                self._wake.wait(timeout=self._send_due())
                self._wake.clear()

    def _send_due(self) -> float | None:
        """Send queued notices and the lists that are due; returns seconds to the next."""
        try:
            while self._notices:
                room, text, skip_sid = self._notices.popleft()
                socketio.emit("message", admin_notice(room, text), to=room, skip_sid=skip_sid)
                socketio.sleep(0)  # let the writers drain between broadcasts
            now = time.monotonic()
            with self._lock:
                due = [room for room, at in self._due.items() if at <= now]
                for room in due:
                    del self._due[room]
                    self._last_sent[room] = now
            for room in due:
                socketio.emit("roomData", room_data(room), to=room)
                socketio.sleep(0)
        except Exception:
            log.exception("announcing to rooms failed")
        with self._lock:
            for room in [r for r in self._last_sent if r not in self._due]:
                if time.monotonic() - self._last_sent[room] > 60:
                    del self._last_sent[room]
            if not self._due:
                return None
            return max(0.0, min(self._due.values()) - time.monotonic())


def room_data(room: str) -> dict:
    """The `roomData` payload: the room and who is in it."""
    return {"room": room, "users": [{"name": name} for name in presence.current().members(room)]}


def init_app(app: Flask) -> None:
    app.extensions["comongus.announcer"] = Announcer(app)


def current() -> Announcer:
    return current_app.extensions["comongus.announcer"]
