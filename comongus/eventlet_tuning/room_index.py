"""python-socketio's client manager, with each socket's rooms at hand.

Upstream: follows `socketio.base_manager.BaseManager.basic_disconnect`, and
keeps an index beside its room table (`BaseManager.rooms`) through
`basic_enter_room`, `basic_leave_room` and `get_rooms`; a socket's own room,
which `pre_connect` enters, is listed by `get_participants` through bidict's
private `_fwdm`.

The manager keeps `rooms[namespace][room]`, sids by room, and nothing from a
sid to its rooms. So a disconnect copies the namespace's whole room table and
asks every room whether the sid is in it; and since every connection has a
room of its own (its sid), each disconnect costs O(connections): with 10,000
connected, 10,000 leaving took the larger part of the server's CPU. Here the
manager also keeps each (namespace, sid)'s rooms, in the order entered, updated
wherever upstream enters or leaves one (a room closed leaves through
`basic_leave_room` too), and a disconnect leaves exactly those rooms. A socket
is in a few rooms (the namespace's, its own and a chat room), so they are kept
as a tuple: a dict of three is about 180 bytes more, for every connection.

A socket's own room has one member for its whole life, yet upstream makes it a
`bidict` like any room: two dicts and an object, about 480 bytes. Here it is
an `OwnRoom`, the same reads and writes on two slots (`get_participants` reads
`_fwdm`; no one else may enter it, upstream checks).
"""
from __future__ import annotations


class OwnRoom:
    """A socket's own room: the one sid in it, and that socket's Engine.IO sid."""

    __slots__ = ("_sid", "_eio_sid")

    def __init__(self) -> None:
        self._sid = self._eio_sid = None

    def __setitem__(self, sid, eio_sid) -> None:
        if self._sid is not None and sid != self._sid:
            raise ValueError("a socket's own room has one member")
        self._sid, self._eio_sid = sid, eio_sid

    def __delitem__(self, sid) -> None:
        if sid is None or sid != self._sid:
            raise KeyError(sid)
        self._sid = self._eio_sid = None

    def __getitem__(self, sid):
        if sid is None or sid != self._sid:
            raise KeyError(sid)
        return self._eio_sid

    def __len__(self) -> int:
        return 0 if self._sid is None else 1

    def __iter__(self):
        return iter(() if self._sid is None else (self._sid,))

    @property
    def _fwdm(self) -> dict:
        """bidict's forward mapping, which upstream copies to list a room."""
        return {} if self._sid is None else {self._sid: self._eio_sid}


class IndexedRooms:
    """Mixed into the server's manager class: the same room table, plus `_rooms_of`."""

    _rooms_of: dict[tuple[str, str], tuple]

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        rooms = self.rooms.get(namespace)
        if room == sid and rooms is not None and room not in rooms:
            rooms[room] = OwnRoom()  # upstream puts the sid in it
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        _enter(self._rooms_of, (namespace, sid), room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        key = (namespace, sid)
        rooms = self._rooms_of.get(key)
        if rooms is not None:
            rooms = tuple(other for other in rooms if other != room)
            if rooms:
                self._rooms_of[key] = rooms
            else:
                del self._rooms_of[key]

    def basic_disconnect(self, sid, namespace, **kwargs):
        # Upstream's, but the rooms to leave come from the index, not from a
        # search through every room of the namespace.
        if namespace not in self.rooms:
            return
        for room in self._rooms_of.get((namespace, sid), ()):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


def index_rooms(manager) -> None:
    """Give `manager` (the Socket.IO server's, before it serves) the index."""
    cls = type(manager)
    manager.__class__ = type(f"Indexed{cls.__name__}", (IndexedRooms, cls), {})
    manager._rooms_of = {}
    for namespace, rooms in manager.rooms.items():
        for room, members in rooms.items():
            for sid in members:
                _enter(manager._rooms_of, (namespace, sid), room)


def _enter(rooms_of: dict, key: tuple[str, str], room) -> None:
    rooms = rooms_of.get(key, ())
    if room not in rooms:
        rooms_of[key] = (*rooms, room)
