"""Deleting a message: the owner takes one back, and every reader sees a tombstone.

The row stays, so the room's `seq` stays gap-free, but what it said is gone from
the database: its username and text are overwritten with empty strings (no name
can be empty, so an empty username is what marks a tombstone) and its clientId
is dropped. Every reader (join history, a `since` replay, GET /messages, the
board) then shows it as `{id, seq, deleted: true, user/username: "", text: ""}`
(payloads.py), and the room gets `messageDeleted {id, room}` at once.

Deleting a tombstone again answers 204 and changes nothing: the owner's
"delete" is done either way, and a retry after a lost answer is not an error.
"""
from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from . import chat_service, moderation_log, owner
from .extensions import socketio
from .models import Message
from .refusals import Refusal, StorageUnavailable
from .room_locks import room_lock
from .store import store
from .validation import MAX_COUNT, InvalidInput

log = logging.getLogger(__name__)

bp = Blueprint("message_deletion", __name__)
bp.register_error_handler(Refusal, Refusal.response)


class NotFound(Refusal):
    code = "not_found"


def is_tombstone(username: str) -> bool:
    """Whether a stored message was deleted (its username emptied)."""
    return username == ""


def delete(message_id) -> None:
    """Delete a stored message (the owner's call: check before). Raises NotFound for
    an unknown id, StorageUnavailable if the database does not answer."""
    if isinstance(message_id, bool) or not isinstance(message_id, int) \
            or not 1 <= message_id <= MAX_COUNT:
        raise InvalidInput(f"id must be a whole number from 1 to {MAX_COUNT}.")
    try:
        with store.engine.connect() as connection:
            found = connection.execute(select(Message.room, Message.username)
                                       .where(Message.id == message_id)).first()
        if found is None:
            raise NotFound(f"There is no message {message_id}.")
        if is_tombstone(found.username):
            return
        # Under the room's lock: a join reads its history either before (and then
        # gets messageDeleted live) or after (and reads the tombstone).
        with room_lock(found.room):
            with store.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
                connection.execute(update(Message).where(Message.id == message_id)
                                   .values(username="", text="", client_id=None))
            socketio.emit("messageDeleted", {"id": message_id, "room": found.room},
                          to=found.room, namespace=chat_service.NAMESPACE)
        moderation_log.record("delete", id=message_id, room=found.room)
    except SQLAlchemyError as error:
        log.error("could not delete message %s: %s", message_id, error.__class__.__name__)
        raise StorageUnavailable("The message could not be deleted; try again.") from error
    log.info("owner deleted message %s in room %r", message_id, found.room)


def delete_for(sid: str, payload) -> None:
    """Socket.IO `deleteMessage {id}`: the owner's connections only."""
    if not chat_service.current().is_owner(sid):
        raise Refusal("Only the owner may delete messages.", "forbidden")
    delete(chat_service.fields_of(payload, {"id"}).get("id"))


@bp.delete("/messages/<int:message_id>")
def delete_message(message_id: int):
    """The owner deletes a message: 204 (also if it was deleted already), 404 if unknown."""
    owner.authorize()
    delete(message_id)
    return "", 204
