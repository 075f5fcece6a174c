"""Who is online, in which room, under which name.

Presence knows nothing of SQL or sockets' wiring: it is a table of seats. A name
in a room is held by one token; every connection (socket id) with that token
shares the name, and the name leaves only with its last connection. Names are
compared by `name_key` (case and width do not count).

`MemoryPresence` serves one process; a Redis implementation (for several
processes) will sit behind the same interface.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from flask import Flask, current_app

from .validation import name_key


class NameTaken(Exception):
    """Someone else holds this name in this room."""


@dataclass(frozen=True)
class Seat:
    """Where one connection sits: its room and the name it speaks as."""

    room: str
    name: str


@dataclass(frozen=True)
class JoinResult:
    seat: Seat
    came_online: bool  # the name was not in the room before this connection
    went_offline: Seat | None  # the connection's previous seat, if it emptied it


class Presence(Protocol):
    def join(self, sid: str, room: str, name: str, token: str | None) -> JoinResult:
        """Seat connection `sid`; raises `NameTaken`. A seated `sid` moves."""

    def leave(self, sid: str) -> Seat | None:
        """Unseat `sid`; returns its seat if that was the name's last connection."""

    def seat_of(self, sid: str) -> Seat | None:
        """The seat of `sid`, or None when it has not joined."""

    def members(self, room: str) -> list[str]:
        """The names in `room`, in the order they came online."""

    def occupied_rooms(self) -> dict[str, list[str]]:
        """Every room with someone in it, with its names."""


@dataclass
class _Holder:
    name: str
    token: str | None
    sids: set[str] = field(default_factory=set)


class MemoryPresence:
    """Presence for a single process, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, _Holder]] = {}  # room -> name key -> holder
        self._seats: dict[str, tuple[str, str]] = {}  # sid -> (room, name key)

    def join(self, sid: str, room: str, name: str, token: str | None) -> JoinResult:
        key = name_key(name)
        with self._lock:
            if self._seats.get(sid) == (room, key):
                holder = self._rooms[room][key]
                return JoinResult(Seat(room, holder.name), False, None)
            holder = self._rooms.get(room, {}).get(key)
            if holder is not None and (token is None or holder.token != token):
                raise NameTaken(f"The name {holder.name!r} is taken in this room.")
            went_offline = self._unseat(sid)
            came_online = holder is None
            if came_online:
                holder = _Holder(name=name, token=token)
                self._rooms.setdefault(room, {})[key] = holder
            holder.sids.add(sid)
            self._seats[sid] = (room, key)
            return JoinResult(Seat(room, holder.name), came_online, went_offline)

    def leave(self, sid: str) -> Seat | None:
        with self._lock:
            return self._unseat(sid)

    def seat_of(self, sid: str) -> Seat | None:
        with self._lock:
            place = self._seats.get(sid)
            if place is None:
                return None
            room, key = place
            return Seat(room, self._rooms[room][key].name)

    def members(self, room: str) -> list[str]:
        with self._lock:
            return [holder.name for holder in self._rooms.get(room, {}).values()]

    def occupied_rooms(self) -> dict[str, list[str]]:
        with self._lock:
            return {room: [holder.name for holder in holders.values()]
                    for room, holders in self._rooms.items()}

    def _unseat(self, sid: str) -> Seat | None:
        place = self._seats.pop(sid, None)
        if place is None:
            return None
        room, key = place
        holders = self._rooms[room]
        holder = holders[key]
        holder.sids.discard(sid)
        if holder.sids:
            return None
        del holders[key]
        if not holders:
            del self._rooms[room]
        return Seat(room, holder.name)


def init_app(app: Flask) -> None:
    app.extensions["comongus.presence"] = MemoryPresence()


def current() -> Presence:
    """The presence table of the running app."""
    return current_app.extensions["comongus.presence"]
