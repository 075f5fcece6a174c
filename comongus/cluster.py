"""Several processes, one chat (with `REDIS_URL`): the Socket.IO message queue,
the presence lease upkeep, and the rooms' shared locks.

Without `REDIS_URL` nothing here does anything, and the app is one process with
everything in memory. With it:

- Flask-SocketIO's Redis message queue carries every emit to every process.
- One background task per process renews its presence lease every lease/3 s,
  announces the members of processes whose lease ran out ("has left" and
  `roomData`, from exactly one survivor), and puts this process's seats back
  if it was itself taken for dead (Redis or the process stalled too long).
- `room_lock` adds a Redis lock to the process's own lock, so two processes
  store-and-publish a room's messages one at a time, in `seq` order.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context
from socketio import RedisManager

from . import announcer, presence
from .extensions import socketio

log = logging.getLogger(__name__)

# A dead holder (SIGKILL inside "commit + publish") blocks its room this long at most.
ROOM_LOCK_TIMEOUT = 5.0
# A sender waits this long for another process's turn, then goes on without it.
ROOM_LOCK_WAIT = 2.0
ROOM_LOCK_POLL = 0.005
# After Redis failed to lock a room, senders go on without asking it for this long.
ROOM_LOCK_RETRY = 2.0


def socketio_options(config: dict[str, Any]) -> dict[str, Any]:
    """The message-queue arguments for `socketio.init_app`: none without `REDIS_URL`.

    A publish to a stalled Redis gives up after REDIS_TIMEOUT_SECONDS (twice:
    the manager retries once) instead of holding the sender's ack until Redis
    is back; the subscriber's blocking read ignores the socket timeout.
    """
    if not config.get("REDIS_URL"):
        return {}
    timeout = config["REDIS_TIMEOUT_SECONDS"]
    return {"client_manager": RedisManager(
        config["REDIS_URL"], channel=config["REDIS_PREFIX"] + "socketio",
        redis_options={"socket_timeout": timeout, "socket_connect_timeout": timeout})}


def init_app(app: Flask) -> None:
    """Register this process in presence and start its lease upkeep (after socketio.init_app)."""
    if not isinstance(app.extensions.get("comongus.presence"), presence.RedisPresence):
        return
    upkeep = LeaseUpkeep(app)
    app.extensions["comongus.cluster"] = upkeep
    upkeep.run_once()  # hold a lease before the first join
    socketio.start_background_task(upkeep.run)


class LeaseUpkeep:
    """The background task that keeps this process's lease and reaps the dead ones."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.presence: presence.RedisPresence = app.extensions["comongus.presence"]
        self._failing = False

    def run(self) -> None:
        while True:
            socketio.sleep(self.presence.interval)
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


class _LockHealth:
    """Log when the shared locks stop and start working, not once per message; and
    while Redis fails, let senders skip it for a while instead of each waiting for
    its timeout."""

    failing = False
    failed_at = 0.0

    @classmethod
    def report(cls, held: bool, room: str, why: str = "") -> None:
        if not held and not cls.failing:
            log.warning("room locks in Redis unavailable (room %r: %s); going on with this "
                        "process's locks only", room, why)
        elif held and cls.failing:
            log.info("room locks in Redis work again")
        cls.failing = not held
        if not held:
            cls.failed_at = time.monotonic()

    @classmethod
    def skip_redis(cls) -> bool:
        return cls.failing and time.monotonic() - cls.failed_at < ROOM_LOCK_RETRY


@contextmanager
def _with_shared_lock(local: threading.Lock, client, room: str, prefix: str) -> Iterator[None]:
    with local:  # one greenlet per process asks Redis; the others wait here
        shared = client.lock(prefix + "lock:" + room, timeout=ROOM_LOCK_TIMEOUT,
                             sleep=ROOM_LOCK_POLL, blocking_timeout=ROOM_LOCK_WAIT,
                             thread_local=False, raise_on_release_error=False)
        held = False
        if not _LockHealth.skip_redis():
            try:
                held = shared.acquire()
                _LockHealth.report(held, room, f"not free after {ROOM_LOCK_WAIT:.0f} s")
            except Exception as error:
                _LockHealth.report(held, room, error.__class__.__name__)
        try:
            yield
        finally:
            if held:
                try:
                    shared.release()
                except Exception as error:
                    log.warning("room %r: releasing the shared lock failed: %s",
                                room, error.__class__.__name__)


def shared_room_lock(room: str, local: threading.Lock):
    """`local`, or with `REDIS_URL` a lock that also holds the room's Redis lock.

    Without the shared lock, two processes' broadcasts for one room could reach
    Redis out of `seq` order. If Redis does not answer, the sender goes on
    with its local lock only: the message is stored either way, and clients
    put any crossed pair back in `seq` order.
    """
    if not has_app_context():
        return local
    client = current_app.extensions.get("comongus.redis")
    if client is None:
        return local
    return _with_shared_lock(local, client, room, current_app.config["REDIS_PREFIX"])
