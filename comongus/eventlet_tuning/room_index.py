"""python-socketio's client manager, with each socket's rooms at hand.

Upstream: follows `socketio.base_manager.BaseManager.basic_disconnect`, and
keeps an index beside its room table (`BaseManager.rooms`) through
`basic_enter_room`, `basic_leave_room` and `get_rooms`.

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
"""
from __future__ import annotations


class IndexedRooms:
    """Mixed into the server's manager class: the same room table, plus `_rooms_of`."""

    _rooms_of: dict[tuple[str, str], tuple]

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
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
