"""Each room's lock: messages of a room are stored and broadcast one at a time.

Under the room's lock a message is stored and broadcast, so the room sees its
messages in `seq` order, and a joiner's history meets the live stream with no
gap and no overlap. The lock is this process's (striped: a fixed number of
locks serves any number of rooms) and, with `REDIS_URL`, also the room's lock
in Redis, so two processes store-and-publish a room's messages one at a time.
"""
from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

_ROOM_LOCKS = [threading.Lock() for _ in range(64)]

# A dead holder (SIGKILL inside "commit + publish") blocks its room this long at most.
ROOM_LOCK_TIMEOUT = 5.0
# A sender waits this long for another process's turn, then goes on without it.
ROOM_LOCK_WAIT = 2.0
ROOM_LOCK_POLL = 0.005
# After Redis failed to lock a room, senders go on without asking it for this long.
ROOM_LOCK_RETRY = 2.0


def room_lock(room: str):
    """The room's lock: this process's, and with REDIS_URL also the room's lock in Redis."""
    local = _ROOM_LOCKS[zlib.crc32(room.encode("utf-8", "surrogatepass")) % len(_ROOM_LOCKS)]
    return shared_room_lock(room, local)


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
