"""Presence leases (with `REDIS_URL`): several processes, one table of who is online.

One background task per process renews its presence lease every lease/3 s,
announces the members of processes whose lease ran out ("has left" and
`roomData`, from exactly one survivor), and puts this process's seats back if
it was itself taken for dead (Redis or the process stalled too long). Each
round also wakes the grace-period timer (departures.py), so a name whose
process died during its grace still leaves. Without `REDIS_URL` presence lives
in this process's memory and needs no lease.
"""
from __future__ import annotations

import logging

from flask import Flask

from . import announcer, presence
from .extensions import socketio

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register this process in presence and start its lease upkeep (after socketio.init_app)."""
    if not isinstance(app.extensions.get("comongus.presence"), presence.RedisPresence):
        return
    upkeep = LeaseUpkeep(app)
    app.extensions["comongus.presence_leases"] = upkeep
    upkeep.run_once()  # hold a lease before the first join
    socketio.start_background_task(upkeep.run)


def retire(app: Flask) -> None:
    """This process stops: its seats leave presence at once (with `REDIS_URL`; in
    memory they go with the process)."""
    upkeep = app.extensions.get("comongus.presence_leases")
    if upkeep is not None:
        upkeep.retire()


class LeaseUpkeep:
    """The background task that keeps this process's lease and reaps the dead ones."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.presence: presence.RedisPresence = app.extensions["comongus.presence"]
        self._failing = False
        self._retired = False

    def run(self) -> None:
        while True:
            socketio.sleep(self.presence.interval)
            if self._retired:
                return
            try:
                self.run_once()
            except Exception:  # this loop must outlive any error, or the lease runs out
                log.exception("presence lease upkeep: announcing failed")

    def run_once(self) -> None:
        try:
            result = self.presence.upkeep()
        except Exception as error:  # Redis away: the next round tries again
            if not self._failing:
                log.warning("presence lease upkeep failed: %s: %s",
                            error.__class__.__name__, error)
            self._failing = True
            return
        if self._failing:
            log.info("presence lease upkeep works again")
            self._failing = False
        with self.app.app_context():
            self._announce(result)
        # Grace periods live in Redis: any process may end them, this one included
        # when the process that began one is gone.
        self.app.extensions["comongus.departures"].began()

    def retire(self) -> None:
        """Take this process's seats out of Redis and announce who left; a name with a
        token gets its grace (a client reconnecting to another process keeps it)."""
        self._retired = True
        try:
            departed = self.presence.retire(self.app.config["LEAVE_GRACE_SECONDS"])
        except Exception as error:  # Redis away: the lease runs out and a survivor reaps
            log.warning("presence: could not retire this process's seats (%s: %s); they "
                        "leave when its lease runs out", error.__class__.__name__, error)
            return
        with self.app.app_context():
            for seat in departed:
                announcer.current().left(seat.room, seat.name)
        # A survivor's departures task ends the graces; this process's is stopping.
        log.info("presence: retired this process's seats; %d names left", len(departed))

    def _announce(self, result: presence.Upkeep) -> None:
        for process_id in result.reaped:
            log.info("reaped process %s: its lease expired", process_id)
        if result.was_reaped:
            log.warning("this process (%s) had been taken for dead; put back %d seats, lost %d",
                        self.presence.process_id, len(result.returned), len(result.lost))
        for seat in result.departed:
            announcer.current().left(seat.room, seat.name)
            log.info("leave room=%r name=%r (process gone)", seat.room, seat.name)
        for sid, seat in result.returned:
            announcer.current().joined(seat.room, seat.name, sid)
        for sid in result.lost:  # its name went to someone else: let the client rejoin
            socketio.server.disconnect(sid)
