"""Host presence: whether the owner is here, and since when, for every visitor.

The owner is online while any Socket.IO connection whose handshake carried the
owner's session is open: in a room (/chat, /intro, /embed) or not (the /owner
page holds one). `since` is when that last changed; the owner's last connection closing counts
only after LEAVE_GRACE_SECONDS with none back (a reload, a move between pages).
Every connected socket gets `host {online, since}` when it changes; the join
ack and `GET /host` carry it.

`MemoryHostPresence` serves one process. With `REDIS_URL`, `RedisHostPresence`
keeps each process's count of owner connections in Redis under a lease the
process renews, so a process that dies takes its connections with it; the
process that flips the shared state broadcasts the change through the
Socket.IO message queue, so every process's sockets hear it once.
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from flask import Flask, current_app

from .extensions import socketio

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HostPresence:
    """This process's owner connections; subclasses say what they make of them."""

    def __init__(self) -> None:
        self._sids: set[str] = set()
        self._lock = threading.Lock()

    def connected(self, sid: str) -> dict | None:
        """An owner connection opened; returns the new state if it changed."""
        with self._lock:
            self._sids.add(sid)
            return self._settle()

    def disconnected(self, sid: str) -> None:
        """An owner connection closed; `settle` (after the grace) says if the host went."""
        with self._lock:
            self._sids.discard(sid)

    def settle(self) -> dict | None:
        """The new state if it changed since last told."""
        with self._lock:
            return self._settle()

    def _settle(self) -> dict | None:
        raise NotImplementedError

    def state(self) -> dict:
        raise NotImplementedError


class MemoryHostPresence(HostPresence):
    """The owner's connections of this one process."""

    def __init__(self) -> None:
        super().__init__()
        self._state = {"online": False, "since": _now()}

    def _settle(self) -> dict | None:
        online = bool(self._sids)
        if online == self._state["online"]:
            return None
        self._state = {"online": online, "since": _now()}
        return dict(self._state)

    def state(self) -> dict:
        """`{online, since}` now."""
        return dict(self._state)


# Renews this process's lease and count, drops the counts of processes whose lease
# ran out, and flips the shared state if "any owner connection anywhere" changed.
# Returns {changed, online, since}.
_SETTLE = """
local prefix, pid, count, lease_ms, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local procs = prefix .. 'host:procs'
if count > 0 then
  redis.call('HSET', procs, pid, count)
  redis.call('SET', prefix .. 'host:alive:' .. pid, 1, 'PX', lease_ms)
else
  redis.call('HDEL', procs, pid)
end
local online = '0'
for _, other in ipairs(redis.call('HKEYS', procs)) do
  if redis.call('EXISTS', prefix .. 'host:alive:' .. other) == 1 then
    online = '1'
  else
    redis.call('HDEL', procs, other)
  end
end
local state = redis.call('GET', prefix .. 'host:state')
if state and string.sub(state, 1, 1) == online then
  return {0, online, string.sub(state, 3)}
end
if not state and online == '0' then
  redis.call('SET', prefix .. 'host:state', '0|' .. now)
  return {0, online, now}
end
redis.call('SET', prefix .. 'host:state', online .. '|' .. now)
return {1, online, now}
"""


class RedisHostPresence(HostPresence):
    """The owner's connections of every process sharing one Redis. `settle` also
    renews this process's lease and reaps the dead (every lease/3 s, and after a
    disconnect's grace)."""

    def __init__(self, client, prefix: str, process_id: str, lease_seconds: float) -> None:
        super().__init__()
        self.redis = client
        self.prefix = prefix
        self.process_id = process_id
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.interval = lease_seconds / 3
        self._settle_script = client.register_script(_SETTLE)
        self._last = {"online": False, "since": _now()}
        self._failing = False

    def _settle(self) -> dict | None:
        try:
            changed, online, since = self._settle_script(args=[
                self.prefix, self.process_id, len(self._sids), self.lease_ms, _now()])
        except Exception as error:  # redis errors, timeouts: the next upkeep tries again
            if not self._failing:
                log.warning("host presence: Redis failed: %s", error.__class__.__name__)
            self._failing = True
            return None
        self._failing = False
        self._last = {"online": _text(online) == "1", "since": _text(since)}
        return dict(self._last) if changed else None

    def state(self) -> dict:
        """`{online, since}` as Redis has it (as last seen, while Redis does not answer)."""
        try:
            raw = self.redis.get(self.prefix + "host:state")
        except Exception:
            return dict(self._last)
        if raw is not None:
            raw = _text(raw)
            self._last = {"online": raw[0] == "1", "since": raw[2:]}
        return dict(self._last)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def init_app(app: Flask) -> None:
    """Host presence, when there is an owner (after presence and socketio.init_app)."""
    if not app.config["OWNER_PASSWORD"]:
        return
    client = app.extensions.get("comongus.redis")
    if client is None:
        app.extensions["comongus.host_presence"] = MemoryHostPresence()
        return
    process_id = app.extensions["comongus.presence"].process_id
    host = RedisHostPresence(client, app.config["REDIS_PREFIX"], process_id,
                             app.config["PRESENCE_LEASE_SECONDS"])
    app.extensions["comongus.host_presence"] = host
    announce(host.settle())
    socketio.start_background_task(_keep_lease, host)


def _keep_lease(host: RedisHostPresence) -> None:
    while True:
        socketio.sleep(host.interval)
        try:
            announce(host.settle())
        except Exception:  # this loop must outlive any error, or the lease runs out
            log.exception("host presence upkeep failed")


def owner_connected(sid: str) -> None:
    """An owner connection opened: the host is here, at once."""
    announce(current().connected(sid))


def owner_disconnected(sid: str) -> None:
    """An owner connection closed. The host goes away only if no owner connection is
    back after LEAVE_GRACE_SECONDS, so the owner moving between pages or reloading
    one does not flicker "away" to every visitor."""
    host = current()
    host.disconnected(sid)
    grace = current_app.config["LEAVE_GRACE_SECONDS"]
    if grace <= 0:
        announce(host.settle())
    else:
        socketio.start_background_task(_settle_after, host, grace)


def _settle_after(host: HostPresence, grace: float) -> None:
    socketio.sleep(grace)
    try:
        announce(host.settle())
    except Exception:  # a failed broadcast must not kill the server's task pool quietly
        log.exception("host presence: announcing the host's going failed")


def announce(state: dict | None) -> None:
    """Tell every connected socket, on every process, that the host came or went."""
    if state is not None:
        socketio.emit("host", state, namespace="/")
        log.info("host %s", "online" if state["online"] else "away")


def current() -> HostPresence | None:
    """The app's host presence, or None when there is no owner."""
    return current_app.extensions.get("comongus.host_presence")
