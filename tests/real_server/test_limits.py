"""What one client may cost the server: floods of sends, connections and handshakes, and a
client that stops reading. Each test would fail without its limit."""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.clients import BOTH_TRANSPORTS, engineio_websocket, open_from
from tests.helpers import wait_for


@pytest.mark.slow
def test_client_that_stops_reading_is_cut_and_catches_up_with_since(servers, clients):
    COUNT = 3000  # noqa: N806  (about 6 MB, past what the loopback's TCP buffers hold)
    server = servers({"MAX_CLIENT_BACKLOG": "100", "SEND_BURST": "100000",
                      "SEND_RATE_PER_SECOND": "100000"})
    slow = engineio_websocket(server.url, timeout=5,
                              sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    slow.send('420["join",{"name":"Slow","room":"busy"}]')
    reader = clients(server.url, ["websocket"])
    sender = clients(server.url, ["websocket"])
    reader.call("join", {"name": "Reader", "room": "busy"})
    sender.call("join", {"name": "Sender", "room": "busy"})
    # Slow never reads again: the TCP buffers fill (a few MB on loopback), then
    # the server's queue for it.
    text, acked = "x" * 1990, []
    for i in range(COUNT):  # at most 50 unacked, as a client with an outbox would
        wait_for(lambda: len(acked) > i - 50, timeout=30, message="acks")  # noqa: B023
        sender.sio.emit("sendMessage", {"text": f"{i:04d}{text}", "clientId": str(i)},
                        callback=lambda *args: acked.append(args))
    wait_for(lambda: "Slow has left." in reader.texts(), timeout=60, message="the cut")
    wait_for(lambda: len(reader.chat_messages()) == COUNT, timeout=60, message="every message")
    # (python-socketio hands each event to its own thread: compare by seq, not arrival)
    by_seq = sorted(reader.chat_messages(), key=lambda m: m["seq"])
    assert [int(m["text"][:4]) for m in by_seq] == list(range(COUNT))
    assert reader.sio.connected and sender.sio.connected
    assert "cut a slow consumer" in server.log()

    back = clients(server.url, BOTH_TRANSPORTS)
    error, joined = back.call("join", {"name": "Slow", "room": "busy", "since": 0})
    assert error is None
    replay = joined["history"]
    assert [m["seq"] for m in replay] == list(range(1, len(replay) + 1))
    caught_up, page = list(replay), True
    while page:  # the rest over REST, as the contract says
        page = requests.get(server.url + f"/messages?roomname=busy&limit=1000"
                            f"&after={caught_up[-1]['id']}").json()["results"]
        caught_up += page
    assert len(caught_up) == COUNT  # nothing lost to the cut
    slow.close()


@pytest.mark.slow
def test_connection_floods_from_one_address_do_not_lock_out_a_newcomer(servers, clients):
    server = servers({"MAX_CONNECTIONS_PER_ADDRESS": "30", "SOCKET_TIMEOUT": "5",
                      "HANDSHAKE_BURST": "20", "HANDSHAKES_PER_SECOND": "1"})
    attacker = "127.0.0.2"
    held = []
    try:
        # Slowloris: request headers that never end.
        for _ in range(10):
            connection = open_from(attacker, server.port)
            connection.sendall(b"GET /messages HTTP/1.1\r\nHost: x\r\nX-a: ")
            held.append(connection)
        # Engine.IO handshakes that never connect a namespace.
        statuses = []
        for _ in range(60):
            connection = open_from(attacker, server.port)
            connection.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                               b"Host: x\r\nConnection: close\r\n\r\n")
            statuses.append(connection.recv(100).split(b" ")[1])
            connection.close()
        assert statuses.count(b"200") <= 25 and statuses.count(b"429") >= 35
        # Idle sockets, far more than the address may hold.
        for _ in range(100):
            held.append(open_from(attacker, server.port))
        over_cap = open_from(attacker, server.port)
        over_cap.settimeout(5)
        assert over_cap.recv(100).startswith(b"HTTP/1.1 503")

        started = time.monotonic()
        newcomer = clients(server.url, BOTH_TRANSPORTS)
        assert newcomer.call("join", {"name": "New", "room": "lobby"})[0] is None
        assert newcomer.call("sendMessage", "made it")[0] is None
        assert time.monotonic() - started < 2, "the newcomer waited behind the flood"
        newcomer.close()
    finally:
        for connection in held:
            connection.close()


def test_idle_socket_is_closed_after_the_socket_timeout(servers):
    server = servers({"SOCKET_TIMEOUT": "1"})
    idle = socket.create_connection(("127.0.0.1", server.port))
    idle.settimeout(10)
    assert idle.recv(100) == b""  # closed by the server, not by our timeout


def test_sigterm_closes_sessions_and_exits_cleanly(servers, clients):
    server = servers()
    client = clients(server.url, ["websocket"])
    client.call("join", {"name": "Alice", "room": "lobby"})
    server.stop()
    assert server.process.returncode == 0
    wait_for(lambda: not client.sio.connected, timeout=5, message="the client to see the close")
    assert "SIGTERM: closing 1 sessions" in server.log()


def test_session_that_never_joins_the_namespace_is_closed(servers):
    """A handshake alone must not hold a session until its heartbeats time out."""
    import websocket

    server = servers({"NAMESPACE_CONNECT_TIMEOUT": "1"})
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0{")  # the Engine.IO handshake, then nothing from us
    started = time.monotonic()
    frames = []
    try:
        while True:
            frame = ws.recv()
            if not frame:
                break
            frames.append(frame)
    except (websocket.WebSocketConnectionClosedException, OSError):
        pass
    assert "1" in frames or not ws.connected  # closed by the server, well before 25 s
    assert time.monotonic() - started < 8


def test_connection_that_piles_up_packets_is_closed(servers):
    """A client handing over packets faster than its handler can take them is cut, not queued.

    A WebSocket's frames are read one at a time, the handler running between
    them; a long-polling POST hands over all its packets (up to 16) at once.
    """
    server = servers({"MAX_PENDING_PACKETS": "5", "SEND_BURST": "100000",
                      "SEND_RATE_PER_SECOND": "100000"})
    url = server.url + "/socket.io/?EIO=4&transport=polling"
    url += "&sid=" + json.loads(requests.get(url, timeout=5).text[1:])["sid"]
    requests.post(url, data="40", timeout=5)
    assert requests.get(url, timeout=5).text.startswith("40{")
    packets = ['42["join",{"name":"Burst","room":"lobby"}]'] + \
        [f'42["sendMessage","m{i}"]' for i in range(15)]
    requests.post(url, data="\x1e".join(packets), timeout=10)
    wait_for(lambda: "packets waiting" in server.log(), timeout=10, message="the cut")
    stored = requests.get(server.url + "/messages?limit=1000").json()["results"]
    assert len(stored) < 15
    assert requests.get(server.url + "/healthz").status_code == 200
