"""The Socket.IO events (contract v1, default namespace).

In, from a client:
    join {name, room, since?, token?}   ack(null, {user, users, history}) | ack(reason)
    sendMessage text | {text, clientId?} ack(null, message) | ack(reason)
    typing true|false                    no ack
    leave                                ack(null)
Out, to clients:
    message {id, seq, user, text, room, date}   chat messages and admin notices
    roomData {room, users: [{name}]}            when a room's members change
    typing {user, typing}                       to the others in the room

Handlers first pay for the event from the connection's budget (over it: an
error ack, for typing nothing; a leave is always done), then validate, call presence and the store,
and emit. Room-wide presence notices go through the announcer, never straight
from a handler.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_socketio import disconnect, emit, join_room, leave_room, rooms
from sqlalchemy.exc import SQLAlchemyError

from . import announcer, presence
from .announcer import room_data
from .chat import StorageUnavailable, room_lock, send_message
from .extensions import socketio
from .limits import ConnectionBudget
from .store import store
from .validation import (
    InvalidInput,
    clean_client_id,
    clean_count,
    clean_name,
    clean_room,
    clean_text,
    clean_token,
)
from .wire import admin_notice, socket_message

# One budget per connection (socket id) of this process.
_budgets: dict[str, ConnectionBudget] = {}

NOT_JOINED = "Join a room first."
TOO_FAST = {
    "join": "You are changing rooms too fast; wait a moment.",
    "sendMessage": "You are sending too fast; wait a moment.",
}


def _fields(payload: Any, allowed: set[str]) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("Send an object with " + ", ".join(sorted(allowed)) + ".")
    unknown = set(payload) - allowed
    if unknown:
        raise InvalidInput("Unknown field: " + ", ".join(sorted(map(str, unknown))) + ".")
    return payload


@socketio.on_error_default
def on_error(error):
    """A handler failed: the sender gets an error ack, the log gets the traceback."""
    current_app.logger.exception("handler for %r failed", request.event["message"])
    return "Something went wrong on the server; try again."


def _over_budget(event: str) -> bool:
    """Pay for `event`; True means refuse it. A connection that floods on and on is closed."""
    budget = _budgets.get(request.sid)
    if budget is None or budget.spend(event):
        return False
    if budget.flooding():
        current_app.logger.warning("closed sid %s: refused for %g s on end (a flood)",
                                   request.sid, budget.flood_seconds)
        disconnect()
    return True


@socketio.on("connect")
def on_connect(auth=None):
    """Any client may connect; it gets a budget and must join to chat."""
    _budgets[request.sid] = ConnectionBudget(current_app.config)


@socketio.on("join")
def on_join(payload=None):
    """A client takes a name in a room (or moves there); acks with members and history.

    The joiner gets the welcome; the others get "has joined" and the new list
    from the announcer, unless the name was already online through another tab.
    """
    if _over_budget("join"):
        return TOO_FAST["join"]
    try:
        fields = _fields(payload, {"name", "room", "since", "token"})
        name = clean_name(fields.get("name"))
        room = clean_room(fields.get("room"))
        since = clean_count(fields.get("since"), "since")
        token = clean_token(fields.get("token"))
        seated_before = presence.current().seat_of(request.sid)
        joined = presence.current().join(request.sid, room, name, token)
    except (InvalidInput, presence.NameTaken) as error:
        return str(error)

    sid, seat = request.sid, joined.seat
    if joined.went_offline is not None:
        announcer.current().left(joined.went_offline.room, joined.went_offline.name)
    for old_room in rooms():
        if old_room not in (sid, room):
            leave_room(old_room)
    emit("message", admin_notice(room, f"{seat.name}, welcome to room {room}."))
    if seated_before == seat:
        # The same seat again: this socket has had every message of the room since
        # its first join (that ack's history, then live), so nothing is read again.
        return None, {"user": {"name": seat.name, "room": room},
                      "users": room_data(room)["users"], "history": []}
    try:
        with room_lock(room):  # no message slips between the history and the live stream
            join_room(room)
            history, more = _history(room, since)
    except SQLAlchemyError as error:
        current_app.logger.error("join: history unavailable in room %r: %s", room,
                                 error.__class__.__name__)
        leave_room(room)
        presence.current().leave(sid)
        return "The chat history is unavailable right now; try again."
    if presence.current().seat_of(sid) != seat:  # disconnected while the history was read
        leave_room(room)
        return "Disconnected."
    try:
        members = room_data(room)
    except presence.PresenceUnavailable as error:  # logged once by presence
        leave_room(room)
        presence.current().leave(sid)
        return str(error)
    if joined.came_online:
        announcer.current().joined(room, seat.name, sid)
        current_app.logger.info("join room=%r name=%r sid=%s", room, seat.name, sid)
    else:
        emit("roomData", members)
    joined_room = {"user": {"name": seat.name, "room": room}, "users": members["users"],
                   "history": [socket_message(message) for message in history]}
    if more is not None:
        joined_room["more"] = more
    return None, joined_room


def _history(room: str, since: int | None) -> tuple[list, bool | None]:
    """The join ack's history, bounded in count and bytes; and, for a `since`
    replay, whether later messages were left out (to be paged over REST)."""
    config = current_app.config
    if since is None:
        return store.latest_messages(room, limit=config["JOIN_HISTORY_LIMIT"],
                                     max_bytes=config["HISTORY_MAX_BYTES"]), None
    return store.room_messages_since(room, since, limit=config["REPLAY_LIMIT"],
                                     max_bytes=config["HISTORY_MAX_BYTES"])


@socketio.on("sendMessage")
def on_send_message(payload=None):
    """A joined client says something; the whole room, sender included, gets `message`."""
    if _over_budget("sendMessage"):
        return TOO_FAST["sendMessage"]
    seat = presence.current().seat_of(request.sid)
    if seat is None:
        return NOT_JOINED
    try:
        if isinstance(payload, str):
            payload = {"text": payload}
        fields = _fields(payload, {"text", "clientId"})
        text = clean_text(fields.get("text"))
        client_id = clean_client_id(fields.get("clientId"))
    except InvalidInput as error:
        return str(error)
    try:
        message = send_message(seat.room, seat.name, text, client_id)
    except StorageUnavailable as error:
        return str(error)
    return None, socket_message(message)


@socketio.on("typing")
def on_typing(is_typing=None):
    """A joined client starts or stops typing; the others in its room are told, sparingly."""
    if _over_budget("typing"):
        return
    seat = presence.current().seat_of(request.sid)
    if seat is None or not isinstance(is_typing, bool):
        return
    if not _budgets[request.sid].typing_to_tell(is_typing):
        return
    emit("typing", {"user": seat.name, "typing": is_typing}, to=seat.room,
         include_self=False)


@socketio.on("leave")
def on_leave(payload=None):
    """A client leaves its room but stays connected."""
    _over_budget("leave")  # the contract acks every leave; a flood of them still counts
    _unseat(request.sid)
    return (None,)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """A connection ended, for any reason: it leaves its room."""
    _budgets.pop(request.sid, None)
    _unseat(request.sid)


def _unseat(sid: str) -> None:
    seat = presence.current().seat_of(sid)
    gone = presence.current().leave(sid)
    if seat is not None:
        leave_room(seat.room)
    if gone is not None:
        announcer.current().left(gone.room, gone.name)
        current_app.logger.info("leave room=%r name=%r sid=%s", gone.room, gone.name, sid)
