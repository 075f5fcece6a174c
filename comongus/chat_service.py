"""The chat service: joining a room, sending, typing and leaving, for every transport.

Each request goes the same way: pay from the connection's budget, validate,
claim presence (once per join), take the room's lock, store, and tell the
announcer who changed. Socket.IO handlers (events.py) and REST views (rest.py)
only translate their transport to these calls and back: a result becomes an ack
or a JSON answer, a refusal (refusals.py: a sentence and a code) an error ack or
a 4xx/5xx.

A message is stored first and broadcast only once committed, so a message a
client sees live is one it can always read back later.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from . import (
    announcer,
    bans,
    departures,
    host_presence,
    inbox,
    join_history,
    notify,
    owner,
    presence,
    room_settings,
    server_signals,
)
from .extensions import socketio
from .limits import ConnectionBudget
from .packet_json import RawJSON
from .payloads import admin_notice, room_data, socket_message
from .refusals import Refusal, StorageUnavailable
from .room_locks import room_lock
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

log = logging.getLogger(__name__)

NAMESPACE = "/"
JOIN_FIELDS = {"name", "room", "since", "token"}
SEND_FIELDS = {"text", "clientId"}
POST_FIELDS = {"username", "text", "roomname", "clientId", "token"}
TOO_FAST = {
    "join": "You are changing rooms too fast; wait a moment.",
    "sendMessage": "You are sending too fast; wait a moment.",
}


class NameHeld(Refusal):
    """A post under a name someone holds in the room, without their token."""

    code = "name_taken"


def fields_of(payload: Any, allowed: set[str]) -> dict:
    """`payload` as an object with no other keys than `allowed`; raises InvalidInput."""
    if not isinstance(payload, dict):
        raise InvalidInput("Send an object with " + ", ".join(sorted(allowed)) + ".")
    unknown = set(payload) - allowed
    if unknown:
        raise InvalidInput("Unknown field: " + ", ".join(sorted(map(str, unknown))) + ".")
    return payload


class ChatService:
    """The chat of one app: its connections' budgets, and every join, send and leave."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config
        self.presence: presence.Presence = app.extensions["comongus.presence"]
        self.announcer: announcer.Announcer = app.extensions["comongus.announcer"]
        self.departures: departures.Departures = app.extensions["comongus.departures"]
        self.leave_grace = app.config["LEAVE_GRACE_SECONDS"]
        self._budgets: dict[str, ConnectionBudget] = {}  # socket id -> its budget
        self._owners: dict[str, str] = {}  # the owner's socket ids -> the id of their sign-in
        self._addresses: dict[str, str] = {}  # socket id -> the client address it connected from
        self._removed: dict[str, presence.Seat] = {}  # socket id -> the seat a ban took
        # socket id -> the Socket.IO room it is in: python-socketio answers "which rooms
        # is this socket in" by looking through every room, O(connections) per join.
        self._socket_rooms: dict[str, str] = {}

    # Connections ---------------------------------------------------------------

    def connect(self, sid: str, owner_sign_in: str | None = None, address: str = "") -> None:
        """Any client may connect; it gets a budget and must join to chat. The owner's
        connections (their handshake carried the session of sign-in `owner_sign_in`)
        join as OWNER_NAME. `address` (the client's) is what address bans match."""
        self._budgets[sid] = ConnectionBudget(self.config)
        self._addresses[sid] = address
        if owner_sign_in is not None:
            self._owners[sid] = owner_sign_in
            host_presence.owner_connected(sid)

    def is_owner(self, sid: str) -> bool:
        """Whether the connection's handshake carried the owner's session."""
        return sid in self._owners

    def close_signed_out(self, sign_in: str | None) -> None:
        """The owner signed out of `sign_in` (a server signal): close this process's
        connections it opened; None (signals may have been missed) closes none."""
        for sid in [sid for sid, owner_sign_in in self._owners.items() if owner_sign_in == sign_in]:
            log.info("closing sid %s: the owner signed out", sid)
            socketio.server.disconnect(sid, namespace=NAMESPACE)

    def disconnect(self, sid: str) -> None:
        """A connection ended, for any reason: it leaves its room. If it was its name's
        last and the name has a token, the name stays for LEAVE_GRACE_SECONDS in case
        it comes back (a reload); departures.py says "has left" if it does not."""
        self._budgets.pop(sid, None)
        self._addresses.pop(sid, None)
        self._removed.pop(sid, None)
        if self._owners.pop(sid, None) is not None:
            host_presence.owner_disconnected(sid)
        self._unseat(sid, self.leave_grace)

    def _pay(self, sid: str, event: str) -> bool:
        """Pay for `event`; False means refuse it. A connection that floods on and on is closed."""
        budget = self._budgets.get(sid)
        if budget is None or budget.spend(event):
            return True
        if budget.flooding():
            log.warning("closed sid %s: refused for %g s on end (a flood)",
                        sid, budget.flood_seconds)
            socketio.server.disconnect(sid, namespace=NAMESPACE)
        return False

    # Joining -------------------------------------------------------------------

    def join(self, sid: str, payload: Any) -> dict:
        """Seat `sid` by name in a room (or move it there); returns the join ack's body.

        The joiner gets the welcome; the others get "has joined" and the new list
        from the announcer, unless the name was already online through another tab.
        Raises Refusal, InvalidInput or presence.NameTaken.
        """
        if not self._pay(sid, "join"):
            raise Refusal(TOO_FAST["join"], "rate_limited")
        fields = fields_of(payload, JOIN_FIELDS)
        room = clean_room(fields.get("room"))
        since = clean_count(fields.get("since"), "since")
        if sid in self._owners:
            # The owner is the host under OWNER_NAME whatever it sends, every tab one seat.
            name, token = owner.owner_name(), owner.seat_token()
        else:
            name = _visitor_name(fields.get("name"))
            token = clean_token(fields.get("token"))
            bans.current().check(room, name, self._addresses.get(sid))
        joined = self.presence.join(sid, room, name, token)  # presence's one answer
        self._removed.pop(sid, None)  # seated again: no longer out by a ban
        seat = joined.seat
        if joined.went_offline is not None:
            self.announcer.left(joined.went_offline.room, joined.went_offline.name)
        if self._socket_rooms.get(sid, room) != room:
            self._leave_socket_room(sid)  # a move: the old room's broadcasts stop here
        socketio.emit("message", admin_notice(room, f"{seat.name}, welcome to room {room}.",
                                              "welcome", name=seat.name, room=room),
                      to=sid, namespace=NAMESPACE)
        members = room_data(room, joined.members)
        ack = {"user": {"name": seat.name, "room": room}, "users": members["users"]}
        host = host_presence.current()
        if host is not None:
            ack["host"] = host.state()
        if joined.again:
            try:
                ack["settings"] = room_settings.settings_of(room)
            except SQLAlchemyError as error:
                raise StorageUnavailable("The room is unavailable right now; "
                                         "try again.") from error
            # The same seat again: this socket has had every message of the room since
            # its first join (that ack's history, then live), so nothing is read again.
            return {**ack, "history": []}
        try:
            with room_lock(room):  # no message slips between the history and the live stream
                if sid not in self._budgets:  # disconnected while waiting for the lock
                    self._forget_seat_of_gone(sid, joined)
                    raise Refusal("Disconnected.")
                self._enter_socket_room(sid, room)
                history, more = self._history(room, since)
                ack["settings"] = room_settings.settings_of(room)
        except SQLAlchemyError as error:
            log.error("join: history unavailable in room %r: %s", room,
                      error.__class__.__name__)
            self._leave_socket_room(sid)
            self.presence.leave(sid)
            raise StorageUnavailable("The chat history is unavailable right now; "
                                     "try again.") from error
        if sid not in self._budgets:  # disconnected while the history was read
            self._leave_socket_room(sid)
            self._forget_seat_of_gone(sid, joined)
            raise Refusal("Disconnected.")
        if joined.came_online:
            self.announcer.joined(room, seat.name, sid)
            log.info("join room=%r name=%r sid=%s", room, seat.name, sid)
        else:
            socketio.emit("roomData", members, to=sid, namespace=NAMESPACE)
        ack["history"] = history
        if sid in self._owners:
            inbox.owner_joined(room)  # the owner has seen the room
        if more is not None:
            ack["more"] = more
        return ack

    def _forget_seat_of_gone(self, sid: str, joined: presence.JoinResult) -> None:
        """A connection that ended during its join leaves no seat behind. Usually its
        disconnect already took it; if this join claimed it after, it goes here, told
        as leaving only if its coming was (not: it came online with this join)."""
        gone = self.presence.leave(sid)
        if gone is not None and not joined.came_online:
            self.announcer.left(gone.room, gone.name)

    def _history(self, room: str, since: int | None) -> tuple[RawJSON | list, bool | None]:
        """The join ack's history, bounded in count and bytes; and, for a `since`
        replay, whether later messages were left out (to be paged over REST).

        The newest messages are the same for every join until something is stored,
        so they are read once per room and kept (join_history.py); a replay is one
        client's own."""
        config = self.config
        if since is None:
            return join_history.latest(room, lambda: [
                socket_message(message) for message in store.latest_messages(
                    room, limit=config["JOIN_HISTORY_LIMIT"],
                    max_bytes=config["HISTORY_MAX_BYTES"])]), None
        messages, more = store.room_messages_since(room, since, limit=config["REPLAY_LIMIT"],
                                                   max_bytes=config["HISTORY_MAX_BYTES"])
        return [socket_message(message) for message in messages], more

    # Sending -------------------------------------------------------------------

    def send(self, sid: str, payload: Any) -> dict:
        """A joined connection says something (`text` or `{text, clientId?}`); the whole
        room, sender included, gets it. Returns the stored message as sent."""
        if not self._pay(sid, "sendMessage"):
            raise Refusal(TOO_FAST["sendMessage"], "rate_limited")
        seat = self.presence.seat_of(sid)
        if seat is None:
            removed = self._removed.get(sid)
            if removed is not None:  # say why it is out, while the ban lasts
                bans.current().check(removed.room, removed.name, self._addresses.get(sid))
            raise Refusal("Join a room first.", "not_joined")
        if isinstance(payload, str):
            payload = {"text": payload}
        fields = fields_of(payload, SEND_FIELDS)
        text = clean_text(fields.get("text"))
        client_id = clean_client_id(fields.get("clientId"))
        if sid not in self._owners:
            bans.current().check(seat.room, seat.name, self._addresses.get(sid))
        return socket_message(self._deliver(seat.room, seat.name, text, client_id))

    def post(self, body: Any, as_owner: bool = False, address: str | None = None) -> Row:
        """A message from outside the chat (REST: `{username, text, roomname, clientId?,
        token?}`), under a name no one in the room holds, or with its holder's token;
        under the owner's name only `as_owner` (the owner's Bearer). A banned name, or
        a banned `address` (the poster's) unless `as_owner`, is refused."""
        if not isinstance(body, dict):
            raise InvalidInput("The body must be a JSON object: {username, text, roomname}.")
        unknown = set(body) - POST_FIELDS
        if unknown:
            raise InvalidInput("Unknown field: " + ", ".join(sorted(unknown)) + ".")
        missing = [field for field in ("username", "text", "roomname") if field not in body]
        if missing:
            raise InvalidInput("Missing: " + ", ".join(missing) + ".")
        if as_owner and owner.is_reserved(clean_name(body["username"], "username")):
            username, token = owner.owner_name(), owner.seat_token()
        else:
            username = _visitor_name(body["username"], "username")
            token = clean_token(body.get("token"))
        text = clean_text(body["text"])
        room = clean_room(body["roomname"], "roomname")
        if not owner.is_host_name(username):
            bans.current().check(room, username, None if as_owner else address)
        held = self.presence.holder(room, username)
        if held is not None and not _same_token(token, held.token):
            raise NameHeld(f"The name {held.name!r} is in this room now; only they can post "
                           "as it (send their token).", name=held.name)
        return self._deliver(room, username, text, clean_client_id(body.get("clientId")))

    def _deliver(self, room: str, username: str, text: str, client_id: str | None) -> Row:
        """Store a message and deliver it live to the room; returns the stored message.

        A `client_id` already stored for this user and room returns that first message
        and delivers nothing again.
        """
        try:
            room_settings.check_may_send(room, username)  # locked, slow mode; not the owner
        except Refusal:
            # A resend of a message stored before (its ack lost) is acked, not refused.
            earlier = client_id is not None and store.message_with_client_id(
                room, username, client_id)
            if not earlier:
                raise
            return earlier
        with room_lock(room):
            try:
                message, created = store.save_message(room, username, text, client_id)
            except SQLAlchemyError as error:
                log.error("could not store a message in room %r: %s", room,
                          error.__class__.__name__)
                raise StorageUnavailable("The message could not be stored; "
                                         "try again.") from error
            if created:
                socketio.emit("message", socket_message(message), to=room)
        if created:  # the owner's inbox and nudge, in the background: nothing here waits
            inbox.message_stored(message)
            notify.message_stored(message)
        # Let the recipients' writers run before this connection's next message is
        # handled: a burst from one sender must not pile up in everyone's queue.
        socketio.sleep(0)
        return message

    # Bans (bans.py) ---------------------------------------------------------------

    def visitor_connections(self) -> list[tuple[str, str]]:
        """This process's connections that are not the owner's: (socket id, address)."""
        return [(sid, address) for sid, address in list(self._addresses.items())
                if sid not in self._owners]

    def remove(self, sid: str) -> None:
        """Take `sid` out of its room at once (a ban): the room sees it leave now. Its
        sends are refused as `banned`, not `not_joined`, until it joins again."""
        seat = self.presence.seat_of(sid)
        self._unseat(sid, grace=0.0)
        if seat is not None and sid in self._budgets:
            self._removed[sid] = seat

    # Typing and leaving --------------------------------------------------------

    def typing(self, sid: str, is_typing: Any) -> None:
        """A joined connection starts or stops typing; the others in its room are told,
        sparingly. Nothing is answered, whatever happens."""
        if not self._pay(sid, "typing"):
            return
        seat = self.presence.seat_of(sid)
        if seat is None or not isinstance(is_typing, bool):
            return
        if not self._budgets[sid].typing_to_tell(is_typing):
            return
        socketio.emit("typing", {"user": seat.name, "typing": is_typing}, to=seat.room,
                      skip_sid=sid, namespace=NAMESPACE)

    def leave(self, sid: str) -> None:
        """`sid` leaves its room but may stay connected; always done, even over budget.
        Meant, so told at once: no grace."""
        self._pay(sid, "leave")  # a flood of leaves still counts
        self._unseat(sid, grace=0.0)

    def _enter_socket_room(self, sid: str, room: str) -> None:
        socketio.server.enter_room(sid, room, namespace=NAMESPACE)
        self._socket_rooms[sid] = room

    def _leave_socket_room(self, sid: str) -> None:
        room = self._socket_rooms.pop(sid, None)
        if room is not None:
            socketio.server.leave_room(sid, room, namespace=NAMESPACE)

    def _unseat(self, sid: str, grace: float) -> None:
        seat = self.presence.seat_of(sid)
        gone = self.presence.leave(sid, grace)
        self._leave_socket_room(sid)
        if gone is not None:
            self.announcer.left(gone.room, gone.name)
            log.info("leave room=%r name=%r sid=%s", gone.room, gone.name, sid)
        elif seat is not None and grace > 0:
            self.departures.began()
            log.info("away room=%r name=%r sid=%s: not told as leaving yet", seat.room,
                     seat.name, sid)


def _visitor_name(value: Any, field: str = "name") -> str:
    """A name anyone but the owner may take: a valid one that does not read as
    OWNER_NAME (compared as names are: case, width, look-alikes)."""
    name = clean_name(value, field)
    if owner.is_reserved(name):
        raise InvalidInput(f"{field} {name!r} is the host's.", "name_reserved", name=name)
    return name


def _same_token(given: str | None, held: str | None) -> bool:
    """Constant time, so the holder's token cannot be guessed a character at a time."""
    if given is None or held is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), held.encode("utf-8"))


def init_app(app: Flask) -> None:
    """The app's chat service and the timer of its grace periods (after presence and
    the announcer)."""
    departures.init_app(app)
    chat = app.extensions["comongus.chat"] = ChatService(app)
    server_signals.on(app, owner.SIGNED_OUT, chat.close_signed_out)


def current() -> ChatService:
    return current_app.extensions["comongus.chat"]
