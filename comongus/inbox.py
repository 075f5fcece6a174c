"""The owner's inbox: every room with messages the owner has not read, newest first.

How far the owner has read each room is a `seq` in the `owner_reads` table, so it
survives a restart and every process sees the same. A room is read up to its
latest message when the owner joins it, writes in it, or opens it on /owner
(`POST /owner/inbox/<room>/read`); while the owner is seated in a room, what is
written there is read as it arrives. The owner's own messages are never unread.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import owner
from .extensions import socketio
from .models import Message, OwnerRead, Room
from .refusals import Refusal
from .store import store
from .validation import InvalidInput, clean_room

log = logging.getLogger(__name__)

bp = Blueprint("inbox", __name__)
bp.register_error_handler(Refusal, Refusal.response)  # 404 without an owner, 401, 403


@bp.get("/owner/inbox")
def inbox_rooms():
    """Every room with messages the owner has not read, the newest first:
    `{results: [{roomname, unread, latest: {id, username, text, date}}]}`."""
    owner.authorize(state_changing=False)
    return jsonify(results=unread_rooms(owner.owner_name()))


@bp.post("/owner/inbox/<path:room>/read")
def inbox_read(room: str):
    """The owner has read `room` up to its latest message: 204."""
    owner.authorize()
    try:
        room = clean_room(room)
    except InvalidInput as error:
        return jsonify(error=str(error), code=error.code), 400
    mark_read(room)
    return "", 204

MAX_ROOMS = 200  # rooms listed at most: a page of them is more than an owner reads


def unread_rooms(owner_name: str) -> list[dict]:
    """`[{roomname, unread, latest: {id, username, text, date}}]`, the room with the
    newest unread message first."""
    read = OwnerRead.__table__
    unread = (select(Message.room, func.count().label("unread"),
                     func.max(Message.seq).label("latest_seq"))
              .select_from(Message.__table__.outerjoin(read, read.c.room == Message.room))
              .where(Message.seq > func.coalesce(read.c.read_seq, 0),
                     Message.username != owner_name,
                     Message.username != "")  # a deleted message (message_deletion.py)
              .group_by(Message.room).subquery())
    query = (select(unread.c.unread, Message.id, Message.room, Message.username,
                    Message.text, Message.created_at)
             .join(Message, and_(Message.room == unread.c.room,
                                 Message.seq == unread.c.latest_seq))
             .order_by(Message.id.desc()).limit(MAX_ROOMS))
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [{"roomname": row.room, "unread": row.unread,
             "latest": {"id": row.id, "username": row.username, "text": row.text,
                        "date": _iso(row.created_at)}} for row in rows]


def mark_read(room: str, seq: int | None = None) -> None:
    """The owner has read `room` up to `seq` (its latest message when None); never
    moves backwards."""
    with store.engine.begin() as connection:
        if seq is None:
            seq = connection.execute(select(Room.last_seq).where(Room.name == room)).scalar()
            if seq is None:
                return  # a room nobody wrote in
        moved = connection.execute(update(OwnerRead).where(
            OwnerRead.room == room, OwnerRead.read_seq < seq).values(read_seq=seq)).rowcount
        if moved:
            return
        if connection.execute(select(OwnerRead.room).where(OwnerRead.room == room)).first():
            return  # read that far already
        try:
            with connection.begin_nested():
                connection.execute(insert(OwnerRead), {"room": room, "read_seq": seq})
        except IntegrityError:
            pass  # another process marked it at the same moment


def owner_joined(room: str) -> None:
    """The owner joined `room` and got its history: read, in the background (the
    join's ack does not wait for the write)."""
    socketio.start_background_task(_in_background, current_app._get_current_object(),
                                   mark_read, room)


def message_stored(message) -> None:
    """A message was stored and broadcast: the owner's own, or one written while the
    owner sits in the room, is read at once (in the background: the ack never waits)."""
    if owner.enabled():
        socketio.start_background_task(_in_background, current_app._get_current_object(),
                                       _read_if_seen, message)


def _read_if_seen(message) -> None:
    if owner.is_host_name(message.username) or current_app.extensions[
            "comongus.presence"].holder(message.room, owner.owner_name()) is not None:
        mark_read(message.room, message.seq)


def _in_background(app, action, *args) -> None:
    with app.app_context():
        try:
            action(*args)
        except Exception as error:  # a database or Redis hiccup: the next read marks it
            log.warning("inbox: marking a room read failed: %s", error.__class__.__name__)


def _iso(created_at) -> str:
    return created_at.isoformat(timespec="milliseconds") + "Z"
