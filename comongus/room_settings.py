"""Room settings the owner sets: a lock (only the owner may send) and slow mode
(everyone else may send one message per `slowModeSeconds`).

The settings live in the `room_settings` table, so they outlive a restart. With
REDIS_URL set every send reads them from the database, the one place every
process agrees on; with one process (no REDIS_URL) that process is the only
writer, so it keeps what it read or wrote in memory. Slow mode's "last sent" is
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

from . import moderation_log, owner
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


class RoomLocked(Refusal):
    code = "room_locked"


class SlowMode(Refusal):
    code = "slow_mode"

    def __init__(self, wait: int) -> None:
        super().__init__(f"Slow mode is on: wait {wait} s before sending again.",
                         retryAfter=wait)
        self.retry_after = wait


class LocalState:
    """One process's memory: rooms' settings (no REDIS_URL only) and last sends."""

    def __init__(self, cache_settings: bool) -> None:
        self.lock = threading.Lock()
        self.settings: dict[str, dict] | None = {} if cache_settings else None
        self.next_send: dict[tuple[str, str], float] = {}  # (room, name) -> monotonic time


def init_app(app) -> None:
    app.extensions["comongus.room_settings"] = LocalState(not app.config["REDIS_URL"])
    if app.config["OWNER_PASSWORD"]:
        app.register_blueprint(bp)


def _local() -> LocalState:
    return current_app.extensions["comongus.room_settings"]


def settings_of(room: str) -> dict:
    """`{locked, slowModeSeconds}` of `room`. Raises SQLAlchemyError."""
    local = _local()
    if local.settings is not None and room in local.settings:
        return dict(local.settings[room])
    with store.engine.connect() as connection:
        row = connection.execute(select(RoomSetting.locked, RoomSetting.slow_mode_seconds)
                                 .where(RoomSetting.room == room)).first()
    settings = dict(DEFAULTS) if row is None else {"locked": bool(row.locked),
                                                    "slowModeSeconds": row.slow_mode_seconds}
    _remember(local, room, settings)
    return dict(settings)


def _remember(local: LocalState, room: str, settings: dict) -> None:
    if local.settings is None:
        return
    with local.lock:
        if len(local.settings) >= MAX_REMEMBERED:
            local.settings.clear()
        local.settings[room] = dict(settings)


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
    """Store the room's new settings, tell the room, log it; returns them all."""
    values = {**settings_of(room), **changes}
    row = {"locked": values["locked"], "slow_mode_seconds": values["slowModeSeconds"]}
    for attempt in (1, 2):
        try:
            with store.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
                done = connection.execute(update(RoomSetting).where(RoomSetting.room == room)
                                          .values(**row)).rowcount
                if not done:
                    connection.execute(insert(RoomSetting), {"room": room, **row})
            break
        except IntegrityError:  # another process inserted the room's row first
            if attempt == 2:
                raise
    _remember(_local(), room, values)
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
