"""Engine.IO sessions on a real server, over time and under load: heartbeats that keep
coming to a client that answers them, and frames that stay whole for a reader that falls
behind."""
from __future__ import annotations

import socket
import time

import requests

from tests.clients import engineio_websocket, read_events


def test_pings_keep_coming_on_time_to_a_client_that_answers(servers):
    server = servers({"PING_INTERVAL": "1", "PING_TIMEOUT": "1"})
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


def test_a_reader_that_falls_behind_gets_every_frame_whole_and_in_order(servers):
    """Frames written straight from a broadcast must not tear or overtake each other
    when the socket's buffer is full and the rest of a frame has to wait."""
    server = servers({"MAX_TEXT_LENGTH": "20000", "SEND_BURST": "10000",
                      "REST_POSTS_PER_SECOND": "0"})
    reader = engineio_websocket(
        server.url, timeout=30, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
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
