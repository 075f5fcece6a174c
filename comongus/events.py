"""The Socket.IO events (contract v1.1, default namespace).

In, from a client:
    join {name, room, since?, token?}   ack(null, {user, users, history, settings, more?,
                                                   host?})
                                         | ack(reason, {code, params})
    sendMessage text | {text, clientId?} ack(null, message) | ack(reason, {code, params})
    typing true|false                    no ack
    leave                                ack(null)
    deleteMessage {id}                   the owner only: ack(null) | ack(reason, {code})
Out, to clients:
    message {id, seq, user, text, room, date}   chat messages; admin notices add
                                                {code, params}
    roomData {room, users: [{name}]}            when a room's members change
    typing {user, typing}                       to the others in the room
    messageDeleted {id, room}                   to the room, when the owner deletes a message
    roomSettings {room, locked, slowModeSeconds} to the room, when the owner changes them
    host {online, since}                        to every socket, when the owner comes or goes
                                                (only with OWNER_PASSWORD)

Each handler hands its event to the chat service (chat_service.py), which pays
for it from the connection's budget, validates it and does it; the handler
turns the result into the ack (null and the result) and a refusal into an error
ack (the reason, then its code and params). Room-wide presence notices go
through the announcer, never straight from a handler.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, abort, current_app, request

from . import chat_service, message_deletion, owner
from .extensions import socketio
from .refusals import Refusal


def init_app(app: Flask) -> None:
    """Give Socket.IO's path a URL rule, so each event's request context matches it.

    Flask-SocketIO runs every event in a request context made from the
    connection's handshake, and Flask matches that request's path against the
    app's routes. Without a rule for `/socket.io/`, werkzeug raises NotFound (or
    WebsocketMismatch) for every event, and the exception, its traceback and a
    dozen frames are cyclic garbage (about sixty objects an event): under load,
    the collections that free it hold every delivery up for tens of
    milliseconds several times a second. The Socket.IO middleware answers this
    path before Flask, so the rules' view never runs for a request.
    """
    for transport, websocket in (("polling", False), ("websocket", True)):  # the handshake's
        app.add_url_rule("/socket.io/", endpoint=f"socketio_{transport}",
                         view_func=_answered_by_socketio, strict_slashes=False,
                         websocket=websocket)


def _answered_by_socketio():
    abort(404)


def _ack(action: Callable[[str, Any], Any], payload: Any):
    """Do `action` for the sending connection: (None, its result), or why it was refused."""
    try:
        return None, action(request.sid, payload)
    except Refusal as refusal:
        return refusal.ack()


@socketio.on_error_default
def on_error(error):
    """A handler failed: the sender gets an error ack, the log gets the traceback."""
    current_app.logger.exception("handler for %r failed", request.event["message"])
    return Refusal("Something went wrong on the server; try again.", "server_error").ack()


@socketio.on("connect")
def on_connect(auth=None):
    """Any client connects; the chat gives it a budget, and it must join to chat. A
    handshake with the owner's session cookie (of this origin) is the owner's."""
    chat_service.current().connect(request.sid, owner.socket_sign_in(),
                                  request.remote_addr or "")


@socketio.on("join")
def on_join(payload=None):
    """A client takes a name in a room (or moves there). It gets the welcome and the ack
    with members and history; the room's others get "has joined" and the new list."""
    return _ack(chat_service.current().join, payload)


@socketio.on("sendMessage")
def on_send_message(payload=None):
    """A joined client says something. It gets the stored message in the ack; the whole
    room, sender included, gets `message`."""
    return _ack(chat_service.current().send, payload)


@socketio.on("typing")
def on_typing(is_typing=None):
    """A joined client starts or stops typing; the others in its room get `typing`, sparingly."""
    chat_service.current().typing(request.sid, is_typing)


@socketio.on("leave")
def on_leave(payload=None):
    """A client leaves its room but stays connected. It gets ack(null); the room, "has left"
    at once if it was the name's last connection."""
    chat_service.current().leave(request.sid)
    return (None,)


@socketio.on("deleteMessage")
def on_delete_message(payload=None):
    """The owner deletes a message; the room gets `messageDeleted`."""
    return _ack(message_deletion.delete_for, payload)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """A connection ended, for any reason; its room gets "has left" if it was the name's last,
    after a grace period for a name with a token (a reload comes back within it)."""
    chat_service.current().disconnect(request.sid)
