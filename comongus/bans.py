"""Bans: the owner keeps a name, or a client address, out of one room or every room
for a number of minutes.

A ban is a row of the `bans` table, so it survives a restart and every process
reads the same ones. A name matches as names are compared (case, width,
look-alikes: `validation.reading_keys`); an address matches by its client key
(`limits.client_key`: an IPv4 address, or an IPv6 /64 as one), the address each
connection had when it connected, or a REST post's.

Creating a ban removes the matching connections at once, in every process: it
goes out as a server signal (`server_signals`: Redis pub/sub with `REDIS_URL`),
and each process removes its own connections that the ban matches. Each removed
connection gets `message` from `admin`, code `banned`, and leaves its room at
once (the room sees it leave); the connection stays open, so the client can say why, and its next
join in a banned room is refused. The owner's connections and the owner's name
are never banned. Every ban and every lift goes into the moderation log
(`ban` and `lift_ban`, with the ban as `GET /bans` shows it).

Every join, send and REST post is checked against the bans in force, read from
the database and kept for CACHE_SECONDS; a new or lifted ban clears that cache
in every process through the same signal, so the short cache only bounds how
late an expiry or a change made outside the server is seen. A process that may
have missed signals (its Redis subscription was lost) checks its connections
against every ban in force when it subscribes again.
"""
from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from . import moderation_log, owner, server_signals
from .extensions import socketio
from .limits import client_key
from .models import Ban as BanRow
from .payloads import admin_notice
from .refusals import Refusal, StorageUnavailable
from .store import store
from .validation import InvalidInput, clean_name, clean_room, reading_keys

log = logging.getLogger(__name__)

bp = Blueprint("bans", __name__)
bp.register_error_handler(Refusal, Refusal.response)  # `{error, code}` and the code's status

CACHE_SECONDS = 1.0
MAX_MINUTES = 525_600  # a year
MAX_ADDRESS_LENGTH = 64
BAN_FIELDS = {"name", "address", "room", "minutes"}
SIGNAL = "bans"  # the server signal of a new or lifted ban
_BAN_ROWS = select(*BanRow.__table__.columns)


class Banned(Refusal):
    """A join, send or post by a banned name or address; `until` says how long."""

    code = "banned"


class OwnerUnbannable(Refusal):
    """A ban on the owner's name: the owner can never be banned."""

    code = "owner_unbannable"


class BanNotFound(Refusal):
    code = "not_found"


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Ban:
    """One ban in force, with the name's reading keys worked out once."""

    id: int
    name: str | None
    address: str | None
    room: str | None
    expires: datetime
    keys: frozenset[str]

    @classmethod
    def of(cls, row: Any) -> Ban:
        keys = reading_keys(row.name) if row.name is not None else frozenset()
        return cls(row.id, row.name, row.address, row.room, row.expires_at, keys)

    def matches(self, room: str, name: str | None, address: str | None) -> bool:
        """Whether this ban keeps `name` (or `address`, a client key) out of `room` now."""
        if self.room is not None and self.room != room:
            return False
        if self.expires <= _utcnow():
            return False
        if self.name is not None:
            return name is not None and not self.keys.isdisjoint(reading_keys(name))
        return address is not None and address == self.address

    def payload(self) -> dict:
        """The ban as REST shows it: `{id, name?, address?, room?, expires}`."""
        body: dict[str, Any] = {"id": self.id}
        for field in ("name", "address", "room"):
            if getattr(self, field) is not None:
                body[field] = getattr(self, field)
        body["expires"] = _iso(self.expires)
        return body


class Bans:
    """The bans in force for one app, cached briefly; creating, lifting and enforcing them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._cache: list[Ban] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    # Reading and checking -----------------------------------------------------------

    def in_force(self) -> list[Ban]:
        """Every ban not yet expired, from the cache if it is fresh."""
        with self._lock:
            fresh = self._cache is not None and time.monotonic() - self._loaded_at < CACHE_SECONDS
            cached = self._cache
        if not fresh:
            now = _utcnow()
            try:
                with store.engine.connect() as connection:
                    rows = connection.execute(_BAN_ROWS.where(BanRow.expires_at > now)
                                              .order_by(BanRow.id)).all()
            except SQLAlchemyError as error:
                log.error("bans unavailable: %s", error.__class__.__name__)
                raise StorageUnavailable("The chat cannot check its bans right now; "
                                      "try again.") from error
            cached = [Ban.of(row) for row in rows]
            with self._lock:
                self._cache, self._loaded_at = cached, time.monotonic()
        return [ban for ban in cached if ban.expires > _utcnow()]

    def forget(self) -> None:
        """Read the bans again at the next check (one was created or lifted)."""
        with self._lock:
            self._cache = None

    def check(self, room: str, name: str | None, address: str | None) -> None:
        """Raise Banned if `name` or `address` (a raw address) may not be in `room` now."""
        key = client_key(address) if address else None
        for ban in self.in_force():
            if ban.matches(room, name, key):
                where = f"room {room}" if ban.room is not None else "this chat"
                raise Banned(f"You are banned from {where} until {_iso(ban.expires)}.",
                             until=_iso(ban.expires))

    # Creating and lifting -----------------------------------------------------------

    def create(self, name: str | None, address: str | None, room: str | None,
               minutes: int) -> Ban:
        """Store a ban and remove its matching connections in every process."""
        now = _utcnow()
        with store.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
            row = connection.execute(insert(BanRow).returning(*BanRow.__table__.columns), {
                "name": name, "address": address, "room": room, "created_at": now,
                "expires_at": now + timedelta(minutes=minutes)}).one()
        ban = Ban.of(row)
        log.info("ban %s: name=%r address=%r room=%r until %s", ban.id, name, address, room,
                 _iso(ban.expires))
        self._broadcast({"action": "ban", "id": ban.id})
        return ban

    def lift(self, ban_id: int) -> Ban | None:
        """End a ban in force early; returns it, or None if there is none with that id."""
        with store.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
            row = connection.execute(delete(BanRow).where(
                BanRow.id == ban_id, BanRow.expires_at > _utcnow())
                .returning(*BanRow.__table__.columns)).first()
        if row is None:
            return None
        log.info("ban %s lifted", ban_id)
        self._broadcast({"action": "lift", "id": ban_id})
        return Ban.of(row)

    # Every process ------------------------------------------------------------------

    def _broadcast(self, data: dict) -> None:
        """Tell every process (this one included) of a new or lifted ban."""
        server_signals.send(SIGNAL, data)

    def heard(self, data: Any) -> None:
        """A new or lifted ban, from any process, or None after signals may have been
        missed: read the bans again, and remove this process's connections that a
        new ban (after a gap, any ban in force) matches."""
        self.forget()
        if data is None:
            for ban in self.in_force():
                self._remove(ban)
            return
        if not isinstance(data, dict) or data.get("action") != "ban":
            return
        ban = next((ban for ban in self.in_force() if ban.id == data.get("id")), None)
        if ban is not None:
            self._remove(ban)

    def _remove(self, ban: Ban) -> None:
        chat = self.app.extensions["comongus.chat"]
        for sid, address in chat.visitor_connections():
            seat = chat.presence.seat_of(sid)
            key = client_key(address) if address else None
            if seat is None or not ban.matches(seat.room, seat.name, key):
                continue
            where = f"room {ban.room}" if ban.room is not None else "every room"
            params = {"name": seat.name, "until": _iso(ban.expires)}
            if ban.room is not None:
                params["room"] = ban.room
            socketio.emit("message", admin_notice(
                seat.room, f"{seat.name}, the host has banned you from {where} until "
                f"{_iso(ban.expires)}.", "banned", **params), to=sid)
            chat.remove(sid)
            log.info("removed sid %s (%r) from room %r: ban %s", sid, seat.name, seat.room,
                     ban.id)


def init_app(app: Flask) -> None:
    """The bans of the app and their routes (after Socket.IO and the chat service)."""
    bans = Bans(app)
    app.extensions["comongus.bans"] = bans
    server_signals.on(app, SIGNAL, bans.heard)
    app.register_blueprint(bp)


def current() -> Bans:
    return current_app.extensions["comongus.bans"]


# Routes ---------------------------------------------------------------------------

def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be a whole number from 1 to {MAX_MINUTES}.",
                           "minutes_invalid", max=MAX_MINUTES)
    return value


def _address(value: Any) -> str:
    """A client address to ban, as its client key (an IPv6 address bans its /64)."""
    if not isinstance(value, str) or len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidInput("address must be an IP address.", "address_invalid")
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        raise InvalidInput("address must be an IP address.", "address_invalid") from None
    return client_key(value.strip())


@bp.post("/bans")
def create_ban():
    """`{name?, address?, room?, minutes}` (exactly one of name and address): 201 and the ban."""
    owner.authorize()
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object: {name or address, room?, minutes}.")
    unknown = set(body) - BAN_FIELDS
    if unknown:
        raise InvalidInput("Unknown field: " + ", ".join(sorted(map(str, unknown))) + ".")
    if ("name" in body) == ("address" in body):
        raise InvalidInput("Ban a name or an address: give exactly one of them.",
                           "ban_target_invalid")
    minutes = _minutes(body.get("minutes"))
    room = clean_room(body["room"]) if "room" in body else None
    name = address = None
    if "name" in body:
        name = clean_name(body["name"])
        if owner.is_reserved(name):
            raise OwnerUnbannable("The host cannot be banned.", name=name)
    else:
        address = _address(body["address"])
    made = current().create(name, address, room, minutes).payload()
    _log("ban", made)
    return jsonify(made), 201


@bp.get("/bans")
def list_bans():
    """The bans in force, oldest first: `{"results": [{id, name?, address?, room?, expires}]}`."""
    owner.authorize(state_changing=False)
    return jsonify(results=[ban.payload() for ban in current().in_force()])


@bp.delete("/bans/<int:ban_id>")
def lift_ban(ban_id: int):
    """Lift a ban in force early: 204, or 404."""
    owner.authorize()
    lifted = current().lift(ban_id)
    if lifted is None:
        raise BanNotFound("There is no ban in force with that id.")
    _log("lift_ban", lifted.payload())
    return "", 204


def _log(action: str, ban: dict) -> None:
    """Record a ban or a lift in the moderation log. It has taken effect whatever
    happens here, so a log that cannot be written is an error in the server's log,
    not a failed request."""
    try:
        moderation_log.record(action, **ban)
    except SQLAlchemyError as error:
        log.error("moderation log: could not record %s of ban %s: %s", action, ban["id"],
                  error.__class__.__name__)
