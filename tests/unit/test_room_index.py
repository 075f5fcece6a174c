"""The tuning's room index keeps python-socketio's room table exactly as stock does:
the same sequence of connects, joins, leaves, closed rooms and disconnects leaves
both managers with the same rooms, each socket with the same rooms, and an emit
to any room or socket with the same recipients."""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet  # noqa: F401

import pytest
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from comongus.eventlet_tuning.room_index import index_rooms

SIDS = [f"s{number}" for number in range(6)]
ROOMS = ["lobby", "kitchen", "porch"]
NAMESPACES = ["/", "/other"]

operations = st.lists(st.tuples(
    st.sampled_from(["connect", "enter", "leave", "close", "disconnect", "pending"]),
    st.sampled_from(SIDS), st.sampled_from(ROOMS), st.sampled_from(NAMESPACES)), max_size=60)


def apply(manager, operation) -> None:
    action, sid, room, namespace = operation
    connected = manager.rooms.get(namespace, {}).get(None, {})
    if action == "connect" and sid not in connected:
        manager.basic_enter_room(sid, namespace, None, eio_sid="e" + sid + namespace)
        manager.basic_enter_room(sid, namespace, sid, eio_sid="e" + sid + namespace)
    elif action == "enter" and sid in connected:
        manager.basic_enter_room(sid, namespace, room)
    elif action == "leave":
        manager.basic_leave_room(sid, namespace, room)
    elif action == "close":
        manager.basic_close_room(room, namespace)
    elif action == "disconnect":
        manager.basic_disconnect(sid, namespace)
    elif action == "pending" and sid in connected:
        manager.pending_disconnect.setdefault(namespace, []).append(sid)
        manager.callbacks[sid] = {1: print}


def table(manager) -> dict:
    return {namespace: {room: {sid: members[sid] for sid in members}
                        for room, members in rooms.items()}
            for namespace, rooms in manager.rooms.items()}


@settings(max_examples=300, deadline=None)
@given(operations)
def test_the_indexed_manager_keeps_the_same_rooms_as_stock(sequence):
    stock, indexed = socketio.Manager(), socketio.Manager()
    index_rooms(indexed)
    for operation in sequence:
        apply(stock, operation)
        apply(indexed, operation)
        assert table(indexed) == table(stock)
        assert indexed.callbacks == stock.callbacks
        assert indexed.pending_disconnect == stock.pending_disconnect
        for namespace in NAMESPACES:
            for sid in SIDS:
                assert indexed.get_rooms(sid, namespace) == stock.get_rooms(sid, namespace)
            for room in [*ROOMS, *SIDS, ROOMS[:2], [SIDS[0], ROOMS[0]]]:
                assert sorted(indexed.get_participants(namespace, room)) == \
                    sorted(stock.get_participants(namespace, room))


def test_no_one_else_enters_a_socket_s_own_room():
    manager = socketio.Manager()
    index_rooms(manager)
    for sid in ("s1", "s2"):
        apply(manager, ("connect", sid, "lobby", "/"))
    with pytest.raises(ValueError):
        manager.basic_enter_room("s2", "/", "s1")
    assert list(manager.get_participants("/", "s1")) == [("s1", "es1/")]


def test_a_manager_that_already_has_rooms_is_indexed_with_them():
    manager = socketio.Manager()
    for operation in [("connect", "s1", "lobby", "/"), ("enter", "s1", "lobby", "/")]:
        apply(manager, operation)
    index_rooms(manager)
    assert manager.get_rooms("s1", "/") == ["s1", "lobby"]
    manager.basic_disconnect("s1", "/")
    assert manager.rooms == {}
