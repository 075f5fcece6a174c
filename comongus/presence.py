"""Who is online, in which room, under which name.

Presence knows nothing of SQL or sockets' wiring: it is a table of seats. A name
in a room is held by one token; every connection (socket id) with that token
shares the name, and the name leaves only with its last connection, or, when
that connection ended on its own and the name has a token, once a grace period
passes with no connection back (departures.py). Names are compared by
`name_key` (case and width do not count).

`MemoryPresence` serves one process; `RedisPresence` (with `REDIS_URL`) serves
any number of processes sharing one Redis, behind the same interface.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    import redis

from .refusals import Refusal, StorageUnavailable
from .validation import name_key

log = logging.getLogger(__name__)


class NameTaken(Refusal):
    """Someone else holds this name in this room."""

    code = "name_taken"

    def __init__(self, name: str) -> None:
        super().__init__(f"The name {name!r} is taken in this room.", name=name)


class PresenceUnavailable(StorageUnavailable):
    """Redis did not answer, so the name could not be claimed or the room not listed:
    the join gets an error ack the client retries, REST a 503."""


@dataclass(frozen=True)
class Seat:
    """Where one connection sits: its room and the name it speaks as."""

    room: str
    name: str


@dataclass(frozen=True)
class Holding:
    """Who holds a name in a room: the name as shown and the token it was claimed with."""

    name: str
    token: str | None


@dataclass(frozen=True)
class JoinResult:
    """All a join needs to know, from one call: the joiner acks, notices and lists from it."""

    seat: Seat
    came_online: bool  # the name was not in the room before this connection
    went_offline: Seat | None  # the connection's previous seat, if it emptied it
    again: bool = False  # the connection already sat there: nothing changed
    members: list[str] = field(default_factory=list)  # the room's names after the join


class Presence(Protocol):
    def join(self, sid: str, room: str, name: str, token: str | None) -> JoinResult:
        """Seat connection `sid`; raises `NameTaken`. A seated `sid` moves.

        The result carries the room's members, so a join asks presence once.
        """

    def leave(self, sid: str, grace: float = 0.0) -> Seat | None:
        """Unseat `sid`; returns its seat if that was the name's last connection.

        With `grace` (seconds), the last connection of a name with a token leaves
        the name held and listed that long instead (None is returned): a join
        with its token takes it back; `departures_due` ends it.
        """

    def departures_due(self) -> tuple[list[Seat], float | None]:
        """Take out the names whose grace ended; returns them, and the seconds until
        the next grace ends (None: none is running)."""

    def seat_of(self, sid: str) -> Seat | None:
        """The seat of `sid`, or None when it has not joined."""

    def holder(self, room: str, name: str) -> Holding | None:
        """Who holds `name` (compared by `name_key`) in `room` now, or None."""

    def members(self, room: str) -> list[str]:
        """The names in `room`, in the order they came online."""

    def occupied_rooms(self) -> dict[str, list[str]]:
        """Every room with someone in it, with its names."""


@dataclass(slots=True)
class _Holder:
    name: str
    token: str | None
    # The name's connections (its tabs): a tuple, as most names have one and an
    # empty set alone takes 216 bytes.
    sids: tuple[str, ...] = ()


class MemoryPresence:
    """Presence for a single process, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, _Holder]] = {}  # room -> name key -> holder
        self._seats: dict[str, tuple[str, str]] = {}  # sid -> (room, name key)
        self._leaving: dict[tuple[str, str], float] = {}  # (room, name key) -> grace ends

    def join(self, sid: str, room: str, name: str, token: str | None) -> JoinResult:
        key = name_key(name)
        with self._lock:
            if self._seats.get(sid) == (room, key):
                holder = self._rooms[room][key]
                return JoinResult(Seat(room, holder.name), False, None, again=True,
                                  members=self._names(room))
            holder = self._rooms.get(room, {}).get(key)
            if holder is not None and (token is None or holder.token != token):
                raise NameTaken(holder.name)
            went_offline = self._unseat(sid)
            came_online = holder is None
            if came_online:
                holder = _Holder(name=name, token=token)
                self._rooms.setdefault(room, {})[key] = holder
            self._leaving.pop((room, key), None)  # back within its grace, if it was away
            if sid not in holder.sids:
                holder.sids += (sid,)
            self._seats[sid] = (room, key)
            return JoinResult(Seat(room, holder.name), came_online, went_offline,
                              members=self._names(room))

    def leave(self, sid: str, grace: float = 0.0) -> Seat | None:
        with self._lock:
            return self._unseat(sid, grace)

    def departures_due(self) -> tuple[list[Seat], float | None]:
        now = time.monotonic()
        with self._lock:
            ended = [place for place, ends in self._leaving.items() if ends <= now]
            departed = []
            for room, key in ended:
                del self._leaving[room, key]
                departed.append(self._remove(room, key))
            next_end = min(self._leaving.values(), default=None)
        return departed, None if next_end is None else max(0.0, next_end - now)

    def seat_of(self, sid: str) -> Seat | None:
        with self._lock:
            place = self._seats.get(sid)
            if place is None:
                return None
            room, key = place
            return Seat(room, self._rooms[room][key].name)

    def holder(self, room: str, name: str) -> Holding | None:
        with self._lock:
            holder = self._rooms.get(room, {}).get(name_key(name))
            return Holding(holder.name, holder.token) if holder else None

    def members(self, room: str) -> list[str]:
        with self._lock:
            return self._names(room)

    def _names(self, room: str) -> list[str]:
        return [holder.name for holder in self._rooms.get(room, {}).values()]

    def occupied_rooms(self) -> dict[str, list[str]]:
        with self._lock:
            return {room: [holder.name for holder in holders.values()]
                    for room, holders in self._rooms.items()}

    def _unseat(self, sid: str, grace: float = 0.0) -> Seat | None:
        place = self._seats.pop(sid, None)
        if place is None:
            return None
        room, key = place
        holder = self._rooms[room][key]
        holder.sids = tuple(other for other in holder.sids if other != sid)
        if holder.sids:
            return None
        if grace > 0 and holder.token is not None:
            self._leaving[room, key] = time.monotonic() + grace
            return None
        return self._remove(room, key)

    def _remove(self, room: str, key: str) -> Seat:
        holders = self._rooms[room]
        holder = holders.pop(key)
        if not holders:
            del self._rooms[room]
        return Seat(room, holder.name)


# The Lua below runs inside Redis, one script at a time, so a claim, a leave or
# a reap is atomic across every process. Keys (P = REDIS_PREFIX):
#   P.."room:"..room      hash  name key -> {name, token?, order, count, leaving?}
#   P.."rooms"            set   rooms with someone in them
#   P.."seats:"..pid      hash  socket id -> [room, name key], one per process
#   P.."procs"            set   process ids that hold seats
#   P.."lease:"..pid      string with a TTL: the process is alive
#   P.."reaped:"..pid     a tombstone: the process was taken for dead
#   P.."order"            counter for the join order
#   P.."leaving"          sorted set: [room, name key] of a name in its grace (count 0),
#                         scored by when the grace ends (ms, Redis's clock, so every
#                         process agrees); the holder's `leaving` says the same
_UNSEAT = """
local P = ARGV[1]
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function remove(room, key)
  local roomkey = P .. 'room:' .. room
  redis.call('HDEL', roomkey, key)
  if redis.call('EXISTS', roomkey) == 0 then redis.call('SREM', P .. 'rooms', room) end
end
local function unseat(pid, sid, grace_ms)
  local seats = P .. 'seats:' .. pid
  local place = redis.call('HGET', seats, sid)
  if not place then return nil end
  redis.call('HDEL', seats, sid)
  place = cjson.decode(place)
  local roomkey = P .. 'room:' .. place[1]
  local raw = redis.call('HGET', roomkey, place[2])
  if not raw then return nil end
  local holder = cjson.decode(raw)
  holder.count = holder.count - 1
  if holder.count <= 0 and grace_ms > 0 and holder.token then
    holder.count = 0
    holder.leaving = now_ms() + grace_ms
    redis.call('ZADD', P .. 'leaving', holder.leaving, cjson.encode({place[1], place[2]}))
  end
  if holder.count > 0 or holder.leaving then
    redis.call('HSET', roomkey, place[2], cjson.encode(holder))
    return nil
  end
  remove(place[1], place[2])
  return {place[1], holder.name}
end
"""

_JOIN = _UNSEAT + """
local pid, sid, room, key, name, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local has_token, lease_ms, with_members = ARGV[8] == '1', ARGV[9], ARGV[10] == '1'
local seats = P .. 'seats:' .. pid
local roomkey = P .. 'room:' .. room
local raw = redis.call('HGET', roomkey, key)
local holder = raw and cjson.decode(raw)
local place = redis.call('HGET', seats, sid)
if place and holder then
  place = cjson.decode(place)
  if place[1] == room and place[2] == key then
    return {'same', holder.name, 0, with_members and redis.call('HVALS', roomkey) or {}}
  end
end
if holder and (not has_token or holder.token ~= token) then return {'taken', holder.name} end
local gone = unseat(pid, sid, 0)
local came = 0
if holder then
  holder.count = holder.count + 1
  if holder.leaving then  -- back within its grace: nobody is told anything
    holder.leaving = nil
    redis.call('ZREM', P .. 'leaving', cjson.encode({room, key}))
  end
else
  holder = {name = name, count = 1, order = redis.call('INCR', P .. 'order')}
  if has_token then holder.token = token end
  came = 1
end
redis.call('HSET', roomkey, key, cjson.encode(holder))
redis.call('SADD', P .. 'rooms', room)
redis.call('HSET', seats, sid, cjson.encode({room, key}))
redis.call('SADD', P .. 'procs', pid)
if redis.call('EXISTS', P .. 'lease:' .. pid) == 0 then
  redis.call('SET', P .. 'lease:' .. pid, '1', 'PX', lease_ms)
end
local members = with_members and redis.call('HVALS', roomkey) or {}
if gone then return {'ok', holder.name, came, members, gone[1], gone[2]} end
return {'ok', holder.name, came, members}
"""

_LEAVE = _UNSEAT + """
local gone = unseat(ARGV[2], ARGV[3], tonumber(ARGV[4]))
if gone then return gone end
return {}
"""

# Take out the names whose grace ended (at most ARGV[2] of them), whichever process
# asks: each is returned to exactly one. Returns {departed, ms until the next ends or -1}.
_DEPART = _UNSEAT + """
local now, departed = now_ms(), {}
local ended = redis.call('ZRANGEBYSCORE', P .. 'leaving', '-inf', now, 'LIMIT', 0, ARGV[2])
for _, member in ipairs(ended) do
  redis.call('ZREM', P .. 'leaving', member)
  local place = cjson.decode(member)
  local raw = redis.call('HGET', P .. 'room:' .. place[1], place[2])
  local holder = raw and cjson.decode(raw)
  if holder and holder.count == 0 then
    remove(place[1], place[2])
    departed[#departed + 1] = place[1]
    departed[#departed + 1] = holder.name
  end
end
local next_end = redis.call('ZRANGE', P .. 'leaving', 0, 0, 'WITHSCORES')[2]
return {departed, next_end and math.max(0, tonumber(next_end) - now) or -1}
"""

# Renew this process's lease; then, unless this process itself missed a renewal
# (Redis or this process stalled, so every lease may look expired), remove the
# seats of every process whose lease expired. Only a round that comes a normal
# gap after the last one reaps: calls a stalled Redis queued (their clients gave
# up on them) run back to back when it resumes, before the other processes have
# had a round to renew.
# Returns {status, reaped, departed, how many seats Redis holds for this process}.
_TICK = _UNSEAT + """
local pid, lease_ms, min_ttl, max_ttl = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local status = 'ok'
if redis.call('DEL', P .. 'reaped:' .. pid) == 1 then status = 'reaped' end
local ttl = redis.call('PTTL', P .. 'lease:' .. pid)
redis.call('SET', P .. 'lease:' .. pid, '1', 'PX', lease_ms)
redis.call('SADD', P .. 'procs', pid)
local reaped, departed = {}, {}
if status == 'ok' and ttl >= min_ttl and ttl <= max_ttl then
  for _, other in ipairs(redis.call('SMEMBERS', P .. 'procs')) do
    if other ~= pid and redis.call('EXISTS', P .. 'lease:' .. other) == 0 then
      for _, sid in ipairs(redis.call('HKEYS', P .. 'seats:' .. other)) do
        local gone = unseat(other, sid, 0)
        if gone then
          departed[#departed + 1] = gone[1]
          departed[#departed + 1] = gone[2]
        end
      end
      redis.call('DEL', P .. 'seats:' .. other)
      redis.call('SREM', P .. 'procs', other)
      redis.call('SET', P .. 'reaped:' .. other, '1', 'EX', 86400)
      reaped[#reaped + 1] = other
    end
  end
elseif ttl < min_ttl and ttl ~= -2 then
  status = 'late'
end
return {status, reaped, departed, redis.call('HLEN', P .. 'seats:' .. pid)}
"""

# This process stops: every seat it holds leaves at once (a name with a token
# goes into its grace, as when its connection drops), and the process is gone
# from Redis without waiting for its lease to run out. Returns the departed.
_RETIRE = _UNSEAT + """
local pid, grace_ms, departed = ARGV[2], tonumber(ARGV[3]), {}
for _, sid in ipairs(redis.call('HKEYS', P .. 'seats:' .. pid)) do
  local gone = unseat(pid, sid, grace_ms)
  if gone then
    departed[#departed + 1] = gone[1]
    departed[#departed + 1] = gone[2]
  end
end
redis.call('DEL', P .. 'seats:' .. pid, P .. 'lease:' .. pid)
redis.call('SREM', P .. 'procs', pid)
return departed
"""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


def _pairs(flat: list) -> list[Seat]:
    return [Seat(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]


@dataclass(frozen=True)
class _Local:
    seat: Seat
    key: str
    token: str | None


@dataclass
class Upkeep:
    """What one round of lease upkeep changed, for the caller to announce."""

    departed: list[Seat] = field(default_factory=list)  # names gone offline
    returned: list[tuple[str, Seat]] = field(default_factory=list)  # (sid, seat) online again
    lost: list[str] = field(default_factory=list)  # sids whose name someone else took meanwhile
    reaped: list[str] = field(default_factory=list)  # ids of processes taken for dead
    was_reaped: bool = False  # this process had been taken for dead


class _RedisHealth:
    """One log line when presence's Redis calls start failing and one when they work
    again, however many requests meet the failure in between."""

    def __init__(self) -> None:
        self.failing = False

    def failed(self, error: Exception) -> PresenceUnavailable:
        if not self.failing:
            self.failing = True
            log.warning("presence: Redis is not answering (%s: %s); joins and the room "
                        "list are refused until it does", error.__class__.__name__, error)
        return PresenceUnavailable("The chat is unavailable right now; try again.")

    def answered(self) -> None:
        if self.failing:
            self.failing = False
            log.info("presence: Redis answers again")


class RedisPresence:
    """Presence shared by every process on one Redis.

    Each process has an id and a lease it renews (`upkeep`, from a background
    task every lease/3 s); its seats live in Redis under that id, so a
    survivor can remove them when the lease runs out. The process keeps a
    mirror of its own seats: `seat_of` (asked on every message) stays local,
    and the seats can be put back if this process was taken for dead.
    """

    def __init__(self, client: redis.Redis, prefix: str, lease_seconds: float) -> None:
        self.redis = client
        self.prefix = prefix
        self.process_id = uuid.uuid4().hex[:16]
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.interval = lease_seconds / 3
        self._join = client.register_script(_JOIN)
        self._leave = client.register_script(_LEAVE)
        self._depart = client.register_script(_DEPART)
        self._tick = client.register_script(_TICK)
        self._retire = client.register_script(_RETIRE)
        self._lock = threading.Lock()
        self._local: dict[str, _Local] = {}
        self._dirty = False  # a Redis call failed: the mirror and Redis may differ
        self._health = _RedisHealth()

    def join(self, sid: str, room: str, name: str, token: str | None) -> JoinResult:
        key = name_key(name)
        with self._lock:
            try:
                reply = self._claim(sid, room, key, name, token, with_members=True)
            except Exception as error:  # redis errors, timeouts
                self._dirty = True
                raise self._health.failed(error) from error
            self._health.answered()
            status, held_as = _text(reply[0]), _text(reply[1])
            if status == "taken":
                raise NameTaken(held_as)
            seat, members = Seat(room, held_as), _names_in_order(reply[3])
            if status == "same":
                # Again only if this process knew the seat: its mirror may lack it
                # after a failed call, and then the joiner is served afresh.
                before = self._local.get(sid)
                self._local.setdefault(sid, _Local(seat, key, token))
                again = before is not None and before.seat == seat
                return JoinResult(seat, False, None, again=again, members=members)
            self._local[sid] = _Local(seat, key, token)
            went_offline = _pairs(reply[4:6])[0] if len(reply) > 4 else None
            return JoinResult(seat, bool(reply[2]), went_offline, members=members)

    def _claim(self, sid: str, room: str, key: str, name: str, token: str | None,
               with_members: bool = False) -> list:
        return self._join(args=[self.prefix, self.process_id, sid, room, key, name, token or "",
                                "1" if token is not None else "0", self.lease_ms,
                                "1" if with_members else "0"])

    def leave(self, sid: str, grace: float = 0.0) -> Seat | None:
        with self._lock:
            if self._local.pop(sid, None) is None and not self._dirty:
                return None
            try:
                gone = self._leave(args=[self.prefix, self.process_id, sid, int(grace * 1000)])
            except Exception as error:
                self._dirty = True  # upkeep removes it and announces the departure
                self._health.failed(error)
                return None
            return _pairs(gone)[0] if gone else None

    def seat_of(self, sid: str) -> Seat | None:
        local = self._local.get(sid)
        return local.seat if local else None

    def holder(self, room: str, name: str) -> Holding | None:
        try:
            raw = self.redis.hget(self.prefix + "room:" + room, name_key(name))
        except Exception as error:  # redis errors, timeouts
            log.warning("presence: lookup in room %r failed: %s", room, error.__class__.__name__)
            raise PresenceUnavailable("Who is online cannot be checked right now; "
                                      "try again.") from error
        if raw is None:
            return None
        held = json.loads(_text(raw))
        return Holding(held["name"], held.get("token"))

    def members(self, room: str) -> list[str]:
        """Raises PresenceUnavailable while Redis does not answer."""
        try:
            holders = self.redis.hgetall(self.prefix + "room:" + room)
        except Exception as error:
            raise self._health.failed(error) from error
        self._health.answered()
        return _names_in_order(holders.values())

    def occupied_rooms(self) -> dict[str, list[str]]:
        """Raises PresenceUnavailable while Redis does not answer."""
        try:
            rooms = [_text(room) for room in self.redis.smembers(self.prefix + "rooms")]
            pipe = self.redis.pipeline(transaction=False)
            for room in rooms:
                pipe.hgetall(self.prefix + "room:" + room)
            answers = pipe.execute()
        except Exception as error:
            raise self._health.failed(error) from error
        self._health.answered()
        listed = {room: _names_in_order(holders.values())
                  for room, holders in zip(rooms, answers, strict=True)}
        return {room: names for room, names in listed.items() if names}

    DEPARTURES_PER_CALL = 500  # a longer script would hold up every other Redis call

    def departures_due(self) -> tuple[list[Seat], float | None]:
        """Raises PresenceUnavailable while Redis does not answer."""
        try:
            departed, wait_ms = self._depart(args=[self.prefix, self.DEPARTURES_PER_CALL])
        except Exception as error:
            raise self._health.failed(error) from error
        self._health.answered()
        seats = _pairs(departed)
        if len(seats) == self.DEPARTURES_PER_CALL:
            return seats, 0.0  # more may have ended: look again at once
        return seats, None if wait_ms < 0 else wait_ms / 1000

    def upkeep(self) -> Upkeep:
        """Renew this process's lease, reap dead processes, put back lost seats.

        Raises redis errors; the caller tries again at the next round.
        """
        interval_ms = int(self.interval * 1000)
        min_ttl, max_ttl = self.lease_ms - 2 * interval_ms, self.lease_ms - interval_ms // 2
        status, reaped, departed, seats_held = self._tick(
            args=[self.prefix, self.process_id, self.lease_ms, min_ttl, max_ttl])
        result = Upkeep(departed=_pairs(departed), reaped=[_text(pid) for pid in reaped])
        if _text(status) == "late":
            log.warning("presence: lease renewed late (Redis or this process stalled); "
                        "not reaping this round")
        result.was_reaped = _text(status) == "reaped"
        # A count that differs means Redis lost or kept seats this process does not
        # have (a failed call, or a Redis that restarted empty): put it right.
        if result.was_reaped or self._dirty or seats_held != len(self._local):
            self._reconcile(result)
        return result

    def retire(self, grace: float) -> list[Seat]:
        """Take every seat of this process out of Redis in one call, as it stops; the
        names that went offline. Raises redis errors (the lease then runs out, and a
        survivor reaps the seats)."""
        with self._lock:
            self._local.clear()  # nothing for an upkeep round to put back
            departed = self._retire(args=[self.prefix, self.process_id, int(grace * 1000)])
        return _pairs(departed)

    def _reconcile(self, result: Upkeep) -> None:
        """Make Redis hold exactly this process's live seats (the mirror)."""
        departed, returned, lost = len(result.departed), len(result.returned), len(result.lost)
        with self._lock:
            self._dirty = True
            stored = self.redis.hgetall(self.prefix + "seats:" + self.process_id)
            places = {_text(sid): json.loads(_text(place)) for sid, place in stored.items()}
            for sid in places.keys() - self._local.keys():
                gone = self._leave(args=[self.prefix, self.process_id, sid, 0])
                result.departed.extend(_pairs(gone))
            for sid, local in list(self._local.items()):
                if places.get(sid) == [local.seat.room, local.key]:
                    continue
                reply = self._claim(sid, local.seat.room, local.key, local.seat.name, local.token)
                if _text(reply[0]) == "taken":
                    del self._local[sid]
                    result.lost.append(sid)
                elif _text(reply[0]) == "ok" and reply[2]:
                    result.returned.append((sid, local.seat))
            self._dirty = False
        departed, returned = len(result.departed) - departed, len(result.returned) - returned
        lost = len(result.lost) - lost
        if departed or returned or lost:
            log.warning("presence: Redis differed from this process's seats: %d names left, "
                        "%d put back, %d lost to others", departed, returned, lost)


def _names_in_order(holders) -> list[str]:
    """The names of a room's holders (their stored JSON), in the order they came online."""
    decoded = [json.loads(_text(raw)) for raw in holders]
    return [holder["name"] for holder in sorted(decoded, key=lambda holder: holder["order"])]


def redis_client(url: str, timeout: float = 1.0, name: str | None = None) -> redis.Redis:
    """A Redis client for presence and the rooms' locks (`name`: its connections'
    CLIENT SETNAME).

    Timeouts bound how long a join, a send or /healthz waits for a stalled
    Redis; surrogatepass because a room or name may hold any code point the
    validation lets through.
    """
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                encoding_errors="surrogatepass", health_check_interval=30,
                                client_name=name)


def init_app(app: Flask) -> None:
    """MemoryPresence for one process; RedisPresence when `REDIS_URL` is set."""
    url = app.config.get("REDIS_URL")
    if not url:
        app.extensions["comongus.presence"] = MemoryPresence()
        return
    client = redis_client(url, app.config["REDIS_TIMEOUT_SECONDS"])
    app.extensions["comongus.redis"] = client
    app.extensions["comongus.presence"] = RedisPresence(
        client, app.config["REDIS_PREFIX"], app.config["PRESENCE_LEASE_SECONDS"])

def current() -> Presence:
    """The presence table of the running app."""
    return current_app.extensions["comongus.presence"]
