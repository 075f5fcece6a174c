"""Room settings the owner sets: a lock (only the owner may send) and slow mode
(everyone else may send one message per `slowModeSeconds`).

The settings live in the `room_settings` table, so they outlive a restart, and
every process keeps what it read in memory. A change is announced to every
process as a server signal (`server_signals`), which drops the room's settings
from each one's memory, so its next send reads them again. With REDIS_URL a
process also reads them again after CACHE_SECONDS, which bounds how late it
sees a change whose signal it missed. Slow mode's "last sent" is
kept in Redis when there is one (a key per name that expires with the wait,
set atomically, so two processes cannot both let a message through), else in
memory.
"""
from __future__ import annotations

import logging
import math
import threading
import time

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import moderation_log, owner, server_signals
from .extensions import socketio
from .models import RoomSetting
from .refusals import Refusal, StorageUnavailable
from .store import store
from .validation import InvalidInput, clean_room

log = logging.getLogger(__name__)

bp = Blueprint("room_settings", __name__)


@bp.errorhandler(Refusal)
def refused(error: Refusal):
    """As every REST refusal: `{error, code, params?}` and its status."""
    return error.response()

MAX_SLOW_MODE_SECONDS = 3600
DEFAULTS = {"locked": False, "slowModeSeconds": 0}
MAX_REMEMBERED = 10_000  # rooms' settings or names' last sends kept in memory, at most
CACHE_SECONDS = 1.0  # with several processes, how long one trusts what it read
SIGNAL = "room_settings"  # the server signal of a change, with the room's name


class RoomLocked(Refusal):
    code = "room_locked"


class SlowMode(Refusal):
    code = "slow_mode"

    def __init__(self, wait: int) -> None:
        super().__init__(f"Slow mode is on: wait {wait} s before sending again.",
                         retryAfter=wait)
        self.retry_after = wait


class LocalState:
    """One process's memory: rooms' settings as last read, and names' last sends."""

    def __init__(self, cache_seconds: float | None) -> None:
        self.lock = threading.Lock()
        self.cache_seconds = cache_seconds  # None: kept until a change (one process)
        self.settings: dict[str, tuple[dict, float]] = {}  # room -> (settings, read at)
        self.next_send: dict[tuple[str, str], float] = {}  # (room, name) -> monotonic time

    def forget(self, room: str | None) -> None:
        """A change of `room`'s settings, from any process; None (signals may have been
        missed) forgets every room."""
        with self.lock:
            if isinstance(room, str):
                self.settings.pop(room, None)
            else:
                self.settings.clear()


def init_app(app) -> None:
    local = LocalState(CACHE_SECONDS if app.config["REDIS_URL"] else None)
    app.extensions["comongus.room_settings"] = local
    server_signals.on(app, SIGNAL, local.forget)
    if app.config["OWNER_PASSWORD"]:
        app.register_blueprint(bp)


def _local() -> LocalState:
    return current_app.extensions["comongus.room_settings"]


def settings_of(room: str) -> dict:
    """`{locked, slowModeSeconds}` of `room`. Raises SQLAlchemyError."""
    local = _local()
    remembered = local.settings.get(room)
    if remembered is not None and (local.cache_seconds is None
                                   or time.monotonic() - remembered[1] < local.cache_seconds):
        return dict(remembered[0])
    with store.engine.connect() as connection:
        settings = _settings(connection.execute(_SETTINGS.where(RoomSetting.room == room)).first())
    with local.lock:
        if len(local.settings) >= MAX_REMEMBERED:
            local.settings.clear()
        local.settings[room] = (settings, time.monotonic())
    return dict(settings)


_SETTINGS = select(RoomSetting.locked, RoomSetting.slow_mode_seconds)


def _settings(row) -> dict:
    """A `room_settings` row as the wire has it; no row is the defaults."""
    if row is None:
        return dict(DEFAULTS)
    return {"locked": bool(row.locked), "slowModeSeconds": row.slow_mode_seconds}


def check_may_send(room: str, username: str) -> None:
    """Raise RoomLocked or SlowMode unless `username` may send in `room` now; the
    owner always may. A message let through starts the sender's slow-mode wait."""
    if owner.is_host_name(username):
        return
    try:
        settings = settings_of(room)
    except SQLAlchemyError as error:
        raise StorageUnavailable("The room's settings cannot be read; try again.") from error
    if settings["locked"]:
        raise RoomLocked("This room is locked: only the host can write in it now.")
    seconds = settings["slowModeSeconds"]
    if seconds:
        wait = _take_turn(room, username.casefold(), seconds)
        if wait:
            raise SlowMode(wait)


def _take_turn(room: str, name: str, seconds: int) -> int:
    """0 if `name` may send in `room` now (and its wait starts), else the seconds left."""
    redis = current_app.extensions.get("comongus.redis")
    if redis is not None:
        key = f"{current_app.config['REDIS_PREFIX']}slow:{room}\0{name}"
        try:
            if redis.set(key, 1, nx=True, px=seconds * 1000):
                return 0
            return max(1, math.ceil(redis.pttl(key) / 1000))
        except Exception as error:  # Redis down: let it through rather than stop the chat
            log.warning("slow mode: Redis did not answer (%s)", error.__class__.__name__)
            return 0
    local = _local()
    now = time.monotonic()
    with local.lock:
        ready = local.next_send.get((room, name), 0.0)
        if ready > now:
            return max(1, math.ceil(ready - now))
        if len(local.next_send) >= MAX_REMEMBERED:
            local.next_send = {key: at for key, at in local.next_send.items() if at > now}
        local.next_send[(room, name)] = now + seconds
    return 0


def _clean(body) -> dict:
    if not isinstance(body, dict) or not body:
        raise InvalidInput("Send a JSON object with locked and/or slowModeSeconds.")
    unknown = set(body) - set(DEFAULTS)
    if unknown:
        raise InvalidInput("Unknown field: " + ", ".join(sorted(map(str, unknown)))
                           + ". Use locked or slowModeSeconds.")
    if "locked" in body and not isinstance(body["locked"], bool):
        raise InvalidInput("locked must be true or false.")
    seconds = body.get("slowModeSeconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int) \
            or not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
        raise InvalidInput(f"slowModeSeconds must be a whole number from 0 to "
                           f"{MAX_SLOW_MODE_SECONDS}.")
    return body


def change(room: str, changes: dict) -> dict:
    """Store the room's new settings, tell the room and every process, log it; returns
    them all. The settings not in `changes` are read in the same transaction, under
    the row's lock, so two changes at once (from two processes) do not undo each
    other."""
    for attempt in (1, 2):
        try:
            with store.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
                where = RoomSetting.room == room
                stored = connection.execute(_SETTINGS.where(where).with_for_update()).first()
                values = {**_settings(stored), **changes}
                row = {"locked": values["locked"], "slow_mode_seconds": values["slowModeSeconds"]}
                if stored is None:
                    connection.execute(insert(RoomSetting), {"room": room, **row})
                else:
                    connection.execute(update(RoomSetting).where(where).values(**row))
            break
        except IntegrityError:  # another process inserted the room's row first
            if attempt == 2:
                raise
    server_signals.send(SIGNAL, room)
    socketio.emit("roomSettings", {"room": room, **values}, to=room,
                  namespace="/")
    moderation_log.record("room_settings", room=room, **values)
    log.info("owner set room %r: %s", room, values)
    return values


@bp.put("/rooms/<path:room>/settings")
def put_settings(room: str):
    """The owner sets `{locked?, slowModeSeconds?}`: 200 and the room's settings."""
    owner.authorize()
    room = clean_room(room, "room")
    changes = _clean(request.get_json(silent=True) if request.is_json else None)
    try:
        values = change(room, changes)
    except SQLAlchemyError as error:
        raise StorageUnavailable("The settings could not be stored; try again.") from error
    return jsonify(room=room, **values)
