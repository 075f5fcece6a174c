"""The tuned Engine.IO send queue on eventlet.

The real-server tests run every packet through it; these pin down the edges a
chat would only show under load: many writers woken by one broadcast, a writer
that gives up waiting or is killed while it waits, a pong check for a session
closed meanwhile, pings and their checks in rounds.
"""
from __future__ import annotations

import time
import warnings
from types import SimpleNamespace

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet
    import eventlet.green.socket
    from eventlet.websocket import RFC6455WebSocket

import engineio
from engineio.packet import MESSAGE, Packet
from engineio.socket import Socket

from comongus.eventlet_tuning.send_queues import (
    TICK_SECONDS,
    DueRounds,
    Empty,
    SendQueue,
    _DirectWrite,
    _pongs_due,
)


def drain(queue, got, count):
    for _ in range(count):
        got.append(queue.get(timeout=30))
        queue.task_done()


def test_one_broadcast_wakes_every_waiting_writer_with_its_packets_in_order():
    queues = [SendQueue() for _ in range(200)]
    received = [[] for _ in queues]
    writers = [eventlet.spawn(drain, queue, got, 3)
               for queue, got in zip(queues, received, strict=True)]
    eventlet.sleep(0)  # every writer now waits in get()
    for packet in ("a", "b", "c"):
        for queue in queues:
            queue.put(packet)
        eventlet.sleep(0)
    for writer in writers:
        writer.wait()
    assert received == [["a", "b", "c"]] * len(queues)


def test_a_get_that_waits_past_its_timeout_raises_empty_and_the_queue_still_works():
    queue = SendQueue()
    started = time.monotonic()
    with pytest.raises(Empty):
        eventlet.spawn(queue.get, timeout=0.2).wait()
    assert 0.2 <= time.monotonic() - started < 5
    queue.put("later")
    assert eventlet.spawn(queue.get, timeout=1).wait() == "later"


def test_not_blocking_on_an_empty_queue_raises_empty_at_once():
    queue = SendQueue()
    with pytest.raises(Empty):
        queue.get(block=False)
    with pytest.raises(Empty):
        queue.get_nowait()
    queue.put(None)
    assert queue.qsize() == 1 and not queue.empty()
    assert queue.get_nowait() is None


def test_a_writer_killed_while_waiting_leaves_the_next_one_its_packet():
    queue = SendQueue()
    doomed = eventlet.spawn(queue.get)
    eventlet.sleep(0)
    doomed.kill()
    survivor = eventlet.spawn(queue.get, timeout=5)
    eventlet.sleep(0)
    queue.put("kept")
    assert survivor.wait() == "kept"


def test_join_waits_until_every_packet_is_marked_done():
    queue = SendQueue()
    for packet in ("one", "two", None):
        queue.put(packet)
    joined = eventlet.spawn(queue.join)
    got = []
    eventlet.spawn(drain, queue, got, 2).wait()
    eventlet.sleep(0)
    assert not joined.dead  # one packet is still not done
    eventlet.spawn(drain, queue, got, 1).wait()
    joined.wait()
    assert got == ["one", "two", None]
    with pytest.raises(ValueError):
        queue.task_done()


def websocket_pair(extensions=None):
    """A server-side eventlet WebSocket (with `extensions` agreed) and its client end."""
    server_end, client_end = eventlet.green.socket.socketpair()
    server = RFC6455WebSocket(server_end, {}, extensions=extensions)
    client = RFC6455WebSocket(client_end, {}, client=True, extensions=extensions)
    return server, client


def test_recipients_of_one_broadcast_share_a_frame_and_each_gets_its_own_packets():
    """A broadcast's frame is made once for its recipients, deflated ones made their own;
    whatever was shared, each reads exactly the packets sent to it."""
    session = SimpleNamespace(upgraded=True, upgrading=False)
    plain = [websocket_pair() for _ in range(3)]
    deflated = websocket_pair({"permessage-deflate": {}})
    writers = [_DirectWrite(session, server, share_frames=True)
               for server, _ in [*plain, deflated]]
    broadcast = Packet(MESSAGE, '2["message",{"text":"to all"}]')
    for writer in writers:
        assert writer.send(broadcast)
    assert writers[0].send(Packet(MESSAGE, '2["message",{"text":"to one"}]'))
    assert writers[1].send(broadcast)

    assert [plain[0][1].wait() for _ in range(2)] == [
        '42["message",{"text":"to all"}]', '42["message",{"text":"to one"}]']
    assert [plain[1][1].wait() for _ in range(2)] == ['42["message",{"text":"to all"}]'] * 2
    assert plain[2][1].wait() == '42["message",{"text":"to all"}]'
    frame = deflated[1].socket.recv(1024)
    assert frame[0] & 0x40  # compressed (RSV1): a frame of its own, not the shared one


def test_a_session_closed_after_its_pong_fell_due_is_not_checked_again(capsys):
    """Thousands of pong checks fall due at once when many clients stall; a session
    its client closed meanwhile must not make Engine.IO's check raise (a traceback
    in the log for each)."""
    session = Socket(engineio.Server(async_mode="eventlet"), "a-session")
    session.last_ping = time.time() - 60  # its pong is long overdue
    _pongs_due([session])  # the round: the check is now a task
    session.closed = True  # closed by its reader before that task runs
    eventlet.sleep(0.01)
    assert "SocketIsClosedError" not in capsys.readouterr().err


def test_a_pong_check_closes_only_the_session_whose_ping_went_unanswered():
    server = engineio.Server(async_mode="eventlet")
    silent, answered, pinged_just_now = (Socket(server, sid) for sid in ("s", "a", "n"))
    silent.last_ping = time.time() - server.ping_timeout - 1
    answered.last_ping = None  # its pong came
    pinged_just_now.last_ping = time.time()
    _pongs_due([silent, answered, pinged_just_now])
    eventlet.sleep(0.05)
    assert (silent.closed, answered.closed, pinged_just_now.closed) == (True, False, False)


def test_rounds_hand_over_each_open_session_once_when_due_and_skip_the_closed():
    """Sessions fall due in rounds of a tick: never early, at most a tick late,
    each once; a session closed or gone by then is left out."""
    server = SimpleNamespace(sockets={sid: SimpleNamespace(sid=sid, closed=False)
                                      for sid in "abcde"})
    due_at = {}
    rounds = DueRounds(server, lambda sessions: due_at.update(
        {session.sid: time.monotonic() for session in sessions}))
    added = time.monotonic()
    for sid, seconds in (("a", 0.2), ("b", 0.2), ("c", 0.45), ("d", 0.2), ("e", 0.45)):
        rounds.add(sid, seconds)
    server.sockets["d"].closed = True
    del server.sockets["e"]
    eventlet.sleep(0.45 + 2 * TICK_SECONDS)
    assert sorted(due_at) == ["a", "b", "c"]
    for sid, seconds in (("a", 0.2), ("b", 0.2), ("c", 0.45)):
        assert seconds <= due_at[sid] - added < seconds + 1
