"""Sending a message: the one path REST and Socket.IO share.

`send_message` stores first and broadcasts only what was committed, so a
message a client sees live is one it can always read back later.
"""
from __future__ import annotations

import logging
import threading
import zlib

from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from .cluster import shared_room_lock
from .extensions import socketio
from .store import store
from .wire import socket_message

log = logging.getLogger(__name__)

# Storing and broadcasting a room's message happen under the room's lock, so the
# room sees its messages in `seq` order and a joiner's history meets the live
# stream with no gap and no overlap. Striped: a fixed number of locks, any rooms.
_ROOM_LOCKS = [threading.Lock() for _ in range(64)]


class StorageUnavailable(Exception):
    """The database did not take the message; nothing was stored or broadcast."""


def room_lock(room: str):
    """The room's lock: this process's, and with REDIS_URL also the room's lock in Redis."""
    local = _ROOM_LOCKS[zlib.crc32(room.encode("utf-8", "surrogatepass")) % len(_ROOM_LOCKS)]
    return shared_room_lock(room, local)


def send_message(room: str, username: str, text: str, client_id: str | None = None) -> Row:
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
