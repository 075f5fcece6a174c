"""The real thing: `python app.py` (eventlet) and `flask run` on a free port, driven by the
real python-socketio client over WebSocket and over long-polling."""
from __future__ import annotations

import re
import shlex
import socket
import sys
import threading

import pytest
import requests
import socketio
import websocket

from tests.helpers import (
    ROOT,
    ServerProcess,
    engineio_websocket,
    postgres_schema_url,
    read_events,
    start_server,
    wait_for,
)


class ChatClient:
    """A python-socketio client that records the events it receives."""

    def __init__(self, url, transports=("websocket", "polling")):
        self.sio = socketio.Client(reconnection=False)
        self.received = []
        self.sio.on("message", lambda m: self.received.append(("message", m)))
        self.sio.on("roomData", lambda d: self.received.append(("roomData", d)))
        self.sio.connect(url, transports=list(transports), wait_timeout=10)

    def call(self, event, data=None):
        return self.sio.call(event, data, timeout=10)

    def texts(self):
        return [m["text"] for event, m in list(self.received) if event == "message"]

    def chat_messages(self):
        return [m for event, m in list(self.received) if event == "message" and m["seq"]]

    def wait_for_text(self, text):
        wait_for(lambda: text in self.texts(), timeout=10, message=repr(text))

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def clients():
    opened = []

    def open_client(url, transports=("websocket", "polling")):
        opened.append(ChatClient(url, transports))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_two_people_chat_over_each_transport(live_server, clients, transport):
    alice = clients(live_server.url, [transport])
    bob = clients(live_server.url, [transport])
    assert alice.sio.transport() == transport
    assert alice.call("join", {"name": "Alice", "room": "lobby"})[0] is None
    assert bob.call("join", {"name": "Bob", "room": "lobby"})[0] is None
    alice.wait_for_text("Bob has joined!")
    error, message = bob.call("sendMessage", "hi Alice")
    assert error is None and message["user"] == "Bob"
    alice.wait_for_text("hi Alice")
    bob.close()
    alice.wait_for_text("Bob has left.")
    wait_for(lambda: alice.received[-1] == ("roomData", {"room": "lobby",
                                                         "users": [{"name": "Alice"}]}))
    stored = requests.get(live_server.url + "/messages").json()["results"]
    assert [(m["username"], m["text"]) for m in stored] == [("Bob", "hi Alice")]
    log = live_server.log()
    assert "join room='lobby' name='Alice'" in log and "leave room='lobby' name='Bob'" in log
    assert "hi Alice" not in log  # the log never holds what people wrote


def test_one_senders_burst_keeps_its_order(live_server, clients):
    sender = clients(live_server.url, ["websocket"])
    reader = engineio_websocket(live_server.url, timeout=10)
    reader.send('42["join",{"name":"Reader","room":"lobby"}]')
    sender.call("join", {"name": "Sender", "room": "lobby"})
    acks = []
    for i in range(15):  # fired without waiting for acks
        sender.sio.emit("sendMessage", f"m{i}", callback=lambda *args: acks.append(args))
    wait_for(lambda: len(acks) == 15, timeout=10, message="15 acks")
    by_text = {ack[1]["text"]: ack[1]["seq"] for ack in acks}
    assert [by_text[f"m{i}"] for i in range(15)] == list(range(1, 16))
    on_the_wire = read_events(reader, "message", 15, keep=lambda m: m["seq"] is not None)
    assert [m["text"] for m in on_the_wire] == [f"m{i}" for i in range(15)]
    reader.close()


def test_rejoin_with_since_gets_exactly_what_was_missed(live_server, clients):
    alice = clients(live_server.url)
    bob = clients(live_server.url)
    alice.call("join", {"name": "Alice", "room": "lobby", "token": "alice-token"})
    bob.call("join", {"name": "Bob", "room": "lobby"})
    for i in range(3):
        bob.call("sendMessage", f"seen {i}")
    wait_for(lambda: len(alice.chat_messages()) == 3)
    last_seen = alice.chat_messages()[-1]["seq"]
    alice.close()
    for i in range(4):
        bob.call("sendMessage", f"missed {i}")
    back = clients(live_server.url)
    error, joined = back.call("join", {"name": "Alice", "room": "lobby", "since": last_seen,
                                       "token": "alice-token"})
    assert error is None
    assert [m["text"] for m in joined["history"]] == [f"missed {i}" for i in range(4)]


@pytest.fixture(params=["sqlite", "postgresql"])
def server_env(request, tmp_path):
    """Server settings on a SQLite file and on the local PostgreSQL; no send limit in the way."""
    env = {"SEND_BURST": "10000", "MAX_PENDING_PACKETS": "1000"}
    if request.param == "sqlite":
        yield env
        return
    url, drop = postgres_schema_url()
    yield {**env, "DATABASE_URL": url}
    drop()


def test_history_survives_restart(tmp_path, clients, server_env):
    server = start_server(tmp_path, server_env)
    try:
        alice = clients(server.url)
        alice.call("join", {"name": "Alice", "room": "lobby"})
        for text in ("one", "two"):
            alice.call("sendMessage", text)
        alice.close()
        server.restart()
        bob = clients(server.url)
        error, joined = bob.call("join", {"name": "Bob", "room": "lobby"})
        assert [m["text"] for m in joined["history"]] == ["one", "two"]
        assert bob.call("sendMessage", "three")[1]["seq"] == 3
    finally:
        server.stop()


def test_a_page_read_again_shows_what_another_process_stored(tmp_path, server_env):
    """GET /messages answers repeat reads from memory; a write by another process on the
    same database must still show at once, through either process."""
    first = start_server(tmp_path, server_env)
    second = start_server(tmp_path, server_env)
    try:
        def texts(server, query=""):
            response = requests.get(f"{server.url}/messages{query}", timeout=10)
            assert response.status_code == 200
            return [m["text"] for m in response.json()["results"]]

        for query in ("", "?roomname=lobby&limit=2"):
            assert texts(first, query) == texts(first, query) == []
        for number, (writer, reader) in enumerate([(second, first), (first, second)] * 2):
            text = f"stored by the other process, {number}"
            posted = requests.post(f"{writer.url}/messages", timeout=10, json={
                "username": "Ann", "text": text, "roomname": "lobby"})
            assert posted.status_code == 201
            assert texts(reader)[-1] == text
            assert texts(reader, "?roomname=lobby&limit=2")[-1] == text
    finally:
        first.stop()
        second.stop()


def test_every_acked_message_survives_sigkill_exactly_once(tmp_path, clients, server_env):
    server = start_server(tmp_path, server_env)
    alice = clients(server.url, ["websocket"])
    alice.call("join", {"name": "Alice", "room": "lobby"})
    acked, enough = [], threading.Event()

    def on_ack(error=None, message=None):
        if error is None:
            acked.append(message)
        if len(acked) >= 40:
            enough.set()

    for i in range(200):
        alice.sio.emit("sendMessage", {"text": f"m{i}", "clientId": f"c{i}"}, callback=on_ack)
    assert enough.wait(20), "the server acked fewer than 40 messages"
    server.kill()
    acked_now = list(acked)
    alice.close()
    server.start()
    try:
        stored = requests.get(server.url + "/messages?limit=1000").json()["results"]
        stored_ids = [m["id"] for m in stored]
        assert len(stored_ids) == len(set(stored_ids))
        assert {m["id"] for m in acked_now} <= set(stored_ids)
        assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
        assert len({m["text"] for m in stored}) == len(stored)
    finally:
        server.stop()


def test_websocket_compression_offer_is_refused(live_server):
    """Browsers offer permessage-deflate; accepting it starves a full room's heartbeats."""
    ws = websocket.create_connection(
        live_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
        timeout=5)
    try:
        assert ws.getstatus() == 101
        assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
        assert ws.recv().startswith("0{")  # the Engine.IO open packet, uncompressed
    finally:
        ws.close()


def test_a_client_sending_request_after_request_does_not_hold_up_another(live_server):
    """Keep-alive connections take turns: a queue of requests on one connection is
    not all answered before another connection's single request."""
    request = b"GET /healthz HTTP/1.1\r\nHost: chat\r\n\r\n"
    queued = 600  # ~50 ms of work; their answers fit in the socket buffers, so the server
    # never waits to send (waiting would let the other connection in anyway)
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as busy, \
            socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as other:
        other.sendall(request)  # served once, so its connection waits for its next request
        assert other.recv(4096).startswith(b"HTTP/1.1 200")
        busy.sendall(request * queued)
        answered_busy = busy.recv(65536)  # the server is working through the queue
        other.sendall(request)
        assert other.recv(4096).startswith(b"HTTP/1.1 200")
        busy.setblocking(False)
        try:
            while chunk := busy.recv(65536):
                answered_busy += chunk
        except BlockingIOError:
            pass
    assert answered_busy.count(b"HTTP/1.1 200") < queued


def test_flask_run_serves_chat_for_development(tmp_path, clients):
    server = ServerProcess(tmp_path, command=[
        sys.executable, "-m", "flask", "--app", "app", "run", "--port", "{port}"]).start()
    try:
        alice = clients(server.url, ["websocket"])
        bob = clients(server.url, ["polling"])
        alice.call("join", {"name": "Alice", "room": "dev"})
        bob.call("join", {"name": "Bob", "room": "dev"})
        alice.call("sendMessage", "works in development")
        bob.wait_for_text("works in development")
        assert alice.sio.transport() == "websocket"
    finally:
        server.stop()


def test_procfile_web_process_listens_on_platform_port(tmp_path):
    """A platform sets PORT and nothing else: the server listens on every interface."""
    line = (ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: ")
    command = [sys.executable if part == "python" else part
               for part in shlex.split(line[len("web: "):])]
    server = ServerProcess(tmp_path, env={"HOST": ""}, command=command).start()
    try:
        assert requests.get(server.url + "/healthz").status_code == 200
        assert re.search(r"http://0\.0\.0\.0:\d+ \(eventlet\)", server.log())
    finally:
        server.stop()


def test_cors_origins_setting_limits_socketio(tmp_path):
    server = start_server(tmp_path, {"CORS_ORIGINS": "https://school.example"})
    try:
        allowed = socketio.Client(reconnection=False)
        allowed.connect(server.url, headers={"Origin": "https://school.example"}, wait_timeout=5)
        assert allowed.connected
        allowed.disconnect()
        foreign = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            foreign.connect(server.url, headers={"Origin": "https://evil.example"},
                            wait_timeout=5)
    finally:
        server.stop()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_oversized_packet_cuts_the_connection_and_stores_nothing(tmp_path, clients, transport):
    server = start_server(tmp_path, {"MAX_SOCKET_PACKET_BYTES": "10000"})
    try:
        alice = clients(server.url, [transport])
        alice.call("join", {"name": "Alice", "room": "lobby"})
        alice.sio.emit("sendMessage", "x" * 20000)
        wait_for(lambda: requests.get(server.url + "/rooms").json()["results"] == [],
                 timeout=10, message="the cut connection to leave the room")
        assert requests.get(server.url + "/messages").json()["results"] == []
        assert requests.get(server.url + "/healthz").status_code == 200
    finally:
        server.stop()
