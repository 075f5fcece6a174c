"""Quiet reloads: a name whose last connection ends stays for a grace period, and is told
as leaving only if none of its token's connections comes back in that time.

A reload, a phone switching networks or a server restart closes a connection
and opens another a moment later; told at once, every one of them would read
"Alice has left." then "Alice has joined!" in the room. So a connection that
ends (not an explicit `leave`, not a move) of a name joined with a token leaves
the name in presence, listed and held, for `LEAVE_GRACE_SECONDS`. A join with
that token in the meantime takes it back: nobody is told anything. When the
grace ends with no connection back, this timer takes the name out of presence
and tells the announcer, which says "has left" and sends the list without it.

One task per process sleeps until the earliest grace ends. With `REDIS_URL` the
grace periods live in Redis: the return may come through another process, and
whichever process takes an ended grace out of Redis (one script, so exactly
one) announces it. A name whose process died during its grace is taken out by
another process's lease upkeep (presence_leases.py), within a lease/3 s more.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app

from . import announcer
from .extensions import socketio
from .presence import PresenceUnavailable

log = logging.getLogger(__name__)

# After a failed look (Redis away), the next one comes this many seconds later.
RETRY_SECONDS = 1.0


class Departures:
    """The timer of one app's grace periods; started by the first one to begin."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.presence = app.extensions["comongus.presence"]
        self._server = None
        self._wake = None

    def began(self) -> None:
        """A connection ended without its name leaving: a grace may have begun."""
        if self._server is None:
            # This app's own Socket.IO server: the module-level `socketio` is rebound
            # by every create_app() (tests build many apps in one process).
            self._server = socketio.server
            self._wake = self._server.eio.create_event()
            self._server.start_background_task(self._run)
        self._wake.set()

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                try:
                    wait = self.sweep()
                except Exception:  # this loop must outlive any error, or nobody leaves
                    log.exception("grace periods: announcing a departure failed")
                    wait = RETRY_SECONDS
                self._wake.wait(timeout=wait)
                self._wake.clear()

    def sweep(self) -> float | None:
        """Announce the names whose grace ended; returns seconds until the next one ends
        (None: no grace is running)."""
        try:
            ended, wait = self.presence.departures_due()
        except PresenceUnavailable:  # logged once by presence; look again soon
            return RETRY_SECONDS
        for seat in ended:
            announcer.current().left(seat.room, seat.name)
            log.info("leave room=%r name=%r (not back within its grace)", seat.room, seat.name)
        return wait


def init_app(app: Flask) -> None:
    app.extensions["comongus.departures"] = Departures(app)


def current() -> Departures:
    return current_app.extensions["comongus.departures"]
