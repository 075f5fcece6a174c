"""Engine.IO sessions on eventlet: the send queue and the ping timer.

The real-server tests run every packet through them; these pin down the edges a
chat would only show under load or over time: many writers woken by one
broadcast, a writer that gives up waiting or is killed while it waits, and
heartbeats that keep coming to a client that answers them.
"""
from __future__ import annotations

import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet

from comongus.eventlet_tuning.send_queues import Empty, SendQueue
from tests.helpers import engineio_websocket, start_server


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


def test_pings_keep_coming_on_time_to_a_client_that_answers(tmp_path):
    server = start_server(tmp_path, {"PING_INTERVAL": "1", "PING_TIMEOUT": "1"})
    try:
        ws = engineio_websocket(server.url, timeout=5)
        pings = 0
        started = time.monotonic()
        while time.monotonic() - started < 4.5:
            if ws.recv() == "2":
                pings += 1
                ws.send("3")
        assert pings >= 3
        ws.send('420["join",{"name":"Ann","room":"heartbeat"}]')
        while not (frame := ws.recv()).startswith("430"):
            assert frame in ("2", "40") or frame.startswith("42[")
        assert '"history"' in frame  # still connected: the join was answered
    finally:
        server.stop()


def test_a_reader_that_falls_behind_gets_every_frame_whole_and_in_order(tmp_path):
    """Frames written straight from a broadcast must not tear or overtake each other
    when the socket's buffer is full and the rest of a frame has to wait."""
    import socket as stdlib_socket

    import requests

    from tests.helpers import read_events

    server = start_server(tmp_path, {"MAX_TEXT_LENGTH": "20000", "SEND_BURST": "10000",
                                    "REST_POSTS_PER_SECOND": "0"})
    try:
        reader = engineio_websocket(
            server.url, timeout=30,
            sockopt=[(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_RCVBUF, 4096)])
        reader.send('420["join",{"name":"Slow","room":"flood"}]')
        read_events(reader, "roomData", 1)  # joined; now it stops reading
        texts = [f"{number:04d}" + "x" * 19_996 for number in range(1, 201)]
        with requests.Session() as http:
            for text in texts:  # 4 MB for a reader with a 4 KB window
                posted = http.post(f"{server.url}/messages", timeout=30, json={
                    "username": "Fast", "text": text, "roomname": "flood"})
                assert posted.status_code == 201
        got = read_events(reader, "message", len(texts), keep=lambda m: m["user"] == "Fast")
        assert [m["seq"] for m in got] == list(range(1, len(texts) + 1))
        assert [m["text"] for m in got] == texts
    finally:
        server.stop()
