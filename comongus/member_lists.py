"""A room's member list, `[{name}, ...]`, as JSON text kept from one send to the next.

Every join's ack and every `roomData` carry the room's whole list (the wire
contract). Built as dicts for each packet, a list of 5,000 names cost more CPU
than everything else a join does, so a room of thousands could not fill. Here
each room's text is kept with the names it was made from: the same names reuse
it, names added at the end (the usual join: presence lists names in the order
they came online) extend it, anything else builds it anew. It goes into packets
as `RawJSON` (`packet_json.py`).
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

from flask import Flask, current_app

from . import owner
from .packet_json import RawJSON

# Lists shorter than this are built each time: cheap, and not worth the memory.
KEEP_FROM_NAMES = 50
# The kept texts together stay under this many characters; the least recently used go.
KEEP_CHARACTERS = 32 * 1024 * 1024


def entries(names: list[str]) -> list[dict]:
    """A room's list of people, `[{name}]`; the owner's entry adds `host: true`."""
    host = owner.host_name()  # once: asking per name cost more than the rest of a join
    return [{"name": name, "host": True} if name == host else {"name": name}
            for name in names]


def _encoded(names: list[str]) -> str:
    return json.dumps(entries(names), separators=(",", ":"))


class MemberLists:
    """Each big room's last list: the names and their text, under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, tuple[list[str], str]] = OrderedDict()
        self._characters = 0

    def encoded(self, room: str, names: list[str]) -> RawJSON | list[dict]:
        """`room`'s list of `names`, as the packet will carry it."""
        if len(names) < KEEP_FROM_NAMES:
            self._forget(room)
            return entries(names)
        with self._lock:
            kept = self._kept.get(room)
        text = self._updated(kept, names)
        with self._lock:
            self._drop(room)
            self._kept[room] = (list(names), text)
            self._characters += len(text)
            while self._characters > KEEP_CHARACTERS and len(self._kept) > 1:
                self._drop(next(iter(self._kept)))
        return RawJSON(text)

    @staticmethod
    def _updated(kept: tuple[list[str], str] | None, names: list[str]) -> str:
        if kept is not None:
            kept_names, text = kept
            count = len(kept_names)
            if names == kept_names:
                return text
            if len(names) > count and names[:count] == kept_names:
                return text[:-1] + "," + _encoded(names[count:])[1:]
        return _encoded(names)

    def _forget(self, room: str) -> None:
        if room in self._kept:
            with self._lock:
                self._drop(room)

    def _drop(self, room: str) -> None:
        kept = self._kept.pop(room, None)
        if kept is not None:
            self._characters -= len(kept[1])


def init_app(app: Flask) -> None:
    app.extensions["comongus.member_lists"] = MemberLists()


def encoded(room: str, names: list[str]) -> RawJSON | list[dict]:
    """`room`'s member list for a packet: see `MemberLists.encoded`."""
    return current_app.extensions["comongus.member_lists"].encoded(room, names)
