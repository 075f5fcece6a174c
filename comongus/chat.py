"""Sending a message: the one path REST and Socket.IO share, and the shapes on the wire.

`send_message` stores first and broadcasts only what was committed, so a
message a client sees live is one it can always read back later.
"""
from __future__ import annotations

import logging
import threading
import zlib
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from .extensions import socketio
from .models import Message
from .store import store

log = logging.getLogger(__name__)

# Storing and broadcasting a room's message happen under the room's lock, so the
# room sees its messages in `seq` order and a joiner's history meets the live
# stream with no gap and no overlap. Striped: a fixed number of locks, any rooms.
_ROOM_LOCKS = [threading.Lock() for _ in range(64)]


class StorageUnavailable(Exception):
    """The database did not take the message; nothing was stored or broadcast."""


def room_lock(room: str):
    """The room's lock: this process's, and with REDIS_URL also the room's lock in Redis."""
    from .cluster import shared_room_lock  # not at the top: cluster -> announcer -> chat

    local = _ROOM_LOCKS[zlib.crc32(room.encode("utf-8", "surrogatepass")) % len(_ROOM_LOCKS)]
    return shared_room_lock(room, local)


def send_message(room: str, username: str, text: str, client_id: str | None = None) -> Message:
    """Store a message and deliver it live to the room; returns the stored message.

    A `client_id` already stored for this user and room returns that first message
    and delivers nothing again.
    """
    with room_lock(room):
        try:
            message, created = store.save_message(room, username, text, client_id)
        except SQLAlchemyError as error:
            log.error("could not store a message in room %r: %s", room, error.__class__.__name__)
            raise StorageUnavailable("The message could not be stored; try again.") from error
        if created:
            socketio.emit("message", socket_message(message), to=room)
    # Let the recipients' writers run before this connection's next message is
    # handled: a burst from one sender must not pile up in everyone's queue.
    socketio.sleep(0)
    return message


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def socket_message(message: Message) -> dict:
    """A stored message as the Socket.IO `message` event carries it."""
    return {"id": message.id, "seq": message.seq, "user": message.username,
            "text": message.text, "room": message.room, "date": _iso(message.created_at)}


def rest_message(message: Message) -> dict:
    """A stored message as the REST API shows it."""
    return {"id": message.id, "seq": message.seq, "username": message.username,
            "text": message.text, "roomname": message.room, "date": _iso(message.created_at)}


def admin_notice(room: str, text: str) -> dict:
    """A notice from `admin`: delivered live, never stored, so it has no id or seq."""
    return {"id": None, "seq": None, "user": "admin", "text": text, "room": room,
            "date": _iso(datetime.now(UTC).replace(tzinfo=None))}
