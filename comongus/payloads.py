"""The payloads clients see: a stored message as Socket.IO and REST show it, and admin notices."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Row

from . import member_lists, owner


def iso_date(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def socket_message(message: Row) -> dict:
    """A stored message as the Socket.IO `message` event carries it; the owner's add
    `host: true`."""
    return _marked({"id": message.id, "seq": message.seq, "user": message.username,
                    "text": message.text, "room": message.room,
                    "date": iso_date(message.created_at)}, message.username)


def _marked(payload: dict, name: str) -> dict:
    """`payload` with `host: true` if `name` is the owner's. A stored message is the
    owner's when its username is OWNER_NAME: nobody else can post under it. A
    deleted message (its username emptied: message_deletion.py) adds `deleted: true`."""
    if owner.is_host_name(name):
        payload["host"] = True
    elif name == "":
        payload["deleted"] = True
    return payload


# A message's JSON beyond its three strings: keys, id, seq and date.
MESSAGE_JSON_OVERHEAD = 100


def json_size(message: Row) -> int:
    """About how many bytes a stored message takes in a packet or a page (JSON with
    non-ASCII escaped, as python-socketio and Flask write it): for byte budgets."""
    return (MESSAGE_JSON_OVERHEAD + len(json.dumps(message.text))
            + len(json.dumps(message.username)) + len(json.dumps(message.room)))


def rest_message(message: Row) -> dict:
    """A stored message as the REST API shows it; the owner's add `host: true`."""
    return _marked({"id": message.id, "seq": message.seq, "username": message.username,
                    "text": message.text, "roomname": message.room,
                    "date": iso_date(message.created_at)}, message.username)


def admin_notice(room: str, text: str, code: str, /, **params) -> dict:
    """A notice from `admin`: delivered live, never stored, so it has no id or seq.

    `text` is in English for v1 clients; `code` and `params` let others say it in
    their user's language (`welcome` {name, room}, `joined` and `left` {names}).
    """
    return {"id": None, "seq": None, "user": "admin", "text": text, "room": room,
            "date": iso_date(datetime.now(UTC).replace(tzinfo=None)), "code": code,
            "params": params}


def room_data(room: str, names: list[str]) -> dict:
    """The `roomData` payload: the room and who is in it (`member_lists.py`)."""
    return {"room": room, "users": member_lists.encoded(room, names)}
