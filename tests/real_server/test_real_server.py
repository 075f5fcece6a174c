"""The real thing: `python app.py` (eventlet, or the server SERVER names) and `flask run` on a
free port, driven by the
real python-socketio client over WebSocket and over long-polling."""
from __future__ import annotations

import re
import shlex
import socket
import sys
import threading
from itertools import count

import pytest
import requests
import socketio
import websocket

from tests.clients import BOTH_TRANSPORTS, engineio_websocket, read_events
from tests.helpers import ROOT, SERVER, wait_for
from tests.owner_helpers import BEARER, OWNER


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_two_people_chat_over_each_transport(servers, clients, transport):
    server = servers()
    alice = clients(server.url, [transport])
    bob = clients(server.url, [transport])
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
    stored = requests.get(server.url + "/messages").json()["results"]
    assert [(m["username"], m["text"]) for m in stored] == [("Bob", "hi Alice")]
    log = server.log()
    assert "join room='lobby' name='Alice'" in log and "leave room='lobby' name='Bob'" in log
    assert "hi Alice" not in log  # the log never holds what people wrote


def test_one_senders_burst_keeps_its_order(servers, clients):
    server = servers()
    sender = clients(server.url, ["websocket"])
    reader = engineio_websocket(server.url, timeout=10)
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


def test_rejoin_with_since_gets_exactly_what_was_missed(servers, clients):
    server = servers()
    alice = clients(server.url, BOTH_TRANSPORTS)
    bob = clients(server.url, BOTH_TRANSPORTS)
    alice.call("join", {"name": "Alice", "room": "lobby", "token": "alice-token"})
    bob.call("join", {"name": "Bob", "room": "lobby"})
    for i in range(3):
        bob.call("sendMessage", f"seen {i}")
    wait_for(lambda: len(alice.chat_messages()) == 3)
    last_seen = alice.chat_messages()[-1]["seq"]
    alice.close()
    for i in range(4):
        bob.call("sendMessage", f"missed {i}")
    back = clients(server.url, BOTH_TRANSPORTS)
    error, joined = back.call("join", {"name": "Alice", "room": "lobby", "since": last_seen,
                                       "token": "alice-token"})
    assert error is None
    assert [m["text"] for m in joined["history"]] == [f"missed {i}" for i in range(4)]


@pytest.fixture
def server_env(database_url):
    """Server settings on a SQLite file and on the local PostgreSQL; no send limit in the way."""
    return {"SEND_BURST": "10000", "MAX_PENDING_PACKETS": "1000", "DATABASE_URL": database_url}


def test_history_survives_restart(servers, clients, server_env):
    server = servers(server_env)
    alice = clients(server.url, BOTH_TRANSPORTS)
    alice.call("join", {"name": "Alice", "room": "lobby"})
    for text in ("one", "two"):
        alice.call("sendMessage", text)
    alice.close()
    server.restart()
    bob = clients(server.url, BOTH_TRANSPORTS)
    error, joined = bob.call("join", {"name": "Bob", "room": "lobby"})
    assert [m["text"] for m in joined["history"]] == ["one", "two"]
    assert bob.call("sendMessage", "three")[1]["seq"] == 3


def test_a_page_read_again_shows_what_another_process_stored(servers, server_env):
    """GET /messages answers repeat reads from memory; a write by another process on the
    same database must still show at once, through either process."""
    first = servers(server_env)
    second = servers(server_env)

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


def test_a_join_shows_what_another_process_stored_or_deleted(servers, clients, server_env):
    """Joins into a room read its history once and keep it while nothing is committed;
    a message posted, or deleted by the owner, through another process on the same
    database shows at the next join."""
    first = servers({**server_env, **OWNER})
    second = servers({**server_env, **OWNER})
    joiners = count()

    def history():
        reader = clients(first.url, ["websocket"])
        error, joined = reader.call("join", {"name": f"Reader{next(joiners)}", "room": "lobby"})
        assert error is None
        reader.close()
        return [(m["text"], m.get("deleted", False)) for m in joined["history"]]

    def post(text):
        posted = requests.post(f"{second.url}/messages", timeout=10, json={
            "username": "Ann", "text": text, "roomname": "lobby"})
        assert posted.status_code == 201
        return posted.json()["id"]

    oops = post("oops")
    assert history() == history() == [("oops", False)]
    post("fine")
    assert history() == history() == [("oops", False), ("fine", False)]
    deleted = requests.delete(f"{second.url}/messages/{oops}", headers=BEARER, timeout=10)
    assert deleted.status_code == 204
    assert history() == [("", True), ("fine", False)]


def test_every_acked_message_survives_sigkill_exactly_once(servers, clients, server_env):
    server = servers(server_env)
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
    stored = requests.get(server.url + "/messages?limit=1000").json()["results"]
    stored_ids = [m["id"] for m in stored]
    assert len(stored_ids) == len(set(stored_ids))
    assert {m["id"] for m in acked_now} <= set(stored_ids)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assert len({m["text"] for m in stored}) == len(stored)


def test_websocket_compression_offer_is_refused(servers):
    """Browsers offer permessage-deflate; accepting it starves a full room's heartbeats."""
    server = servers()
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
        timeout=5)
    try:
        assert ws.getstatus() == 101
        assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
        assert ws.recv().startswith("0{")  # the Engine.IO open packet, uncompressed
    finally:
        ws.close()


def read_one_response(connection) -> bytes:
    """One whole HTTP response with a Content-Length: its headers and body may come
    in separate reads (gevent writes them apart)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(
            re.search(rb"(?i)content-length: *(\d+)", data).group(1)):
        chunk = connection.recv(4096)
        assert chunk, f"the connection closed mid-response: {data!r}"
        data += chunk
    return data


def test_a_client_sending_request_after_request_does_not_hold_up_another(servers):
    """Keep-alive connections take turns: a queue of requests on one connection is
    not all answered before another connection's single request."""
    server = servers()
    request = b"GET /healthz HTTP/1.1\r\nHost: chat\r\n\r\n"
    queued = 600  # ~50 ms of work; their answers fit in the socket buffers, so the server
    # never waits to send (waiting would let the other connection in anyway)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as busy, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
        other.sendall(request)  # served once, so its connection waits for its next request
        assert read_one_response(other).startswith(b"HTTP/1.1 200")
        busy.sendall(request * queued)
        answered_busy = busy.recv(65536)  # the server is working through the queue
        other.sendall(request)
        assert read_one_response(other).startswith(b"HTTP/1.1 200")
        busy.setblocking(False)
        try:
            while chunk := busy.recv(65536):
                answered_busy += chunk
        except BlockingIOError:
            pass
    assert answered_busy.count(b"HTTP/1.1 200") < queued


def test_flask_run_serves_chat_for_development(servers, clients):
    server = servers(command=[
        sys.executable, "-m", "flask", "--app", "app", "run", "--port", "{port}"])
    alice = clients(server.url, ["websocket"])
    bob = clients(server.url, ["polling"])
    alice.call("join", {"name": "Alice", "room": "dev"})
    bob.call("join", {"name": "Bob", "room": "dev"})
    alice.call("sendMessage", "works in development")
    bob.wait_for_text("works in development")
    assert alice.sio.transport() == "websocket"


def test_procfile_web_process_listens_on_platform_port(servers):
    """A platform sets PORT and nothing else: the server listens on every interface."""
    line = (ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: ")
    command = [sys.executable if part == "python" else part
               for part in shlex.split(line[len("web: "):])]
    server = servers({"HOST": ""}, command=command)
    assert requests.get(server.url + "/healthz").status_code == 200
    assert re.search(rf"http://0\.0\.0\.0:\d+ \({SERVER}\)", server.log())


def test_cors_origins_setting_limits_socketio(servers):
    server = servers({"CORS_ORIGINS": "https://school.example"})
    allowed = socketio.Client(reconnection=False)
    allowed.connect(server.url, headers={"Origin": "https://school.example"}, wait_timeout=5)
    assert allowed.connected
    allowed.disconnect()
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(server.url, headers={"Origin": "https://evil.example"}, wait_timeout=5)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_oversized_packet_cuts_the_connection_and_stores_nothing(servers, clients, transport):
    server = servers({"MAX_SOCKET_PACKET_BYTES": "10000"})
    alice = clients(server.url, [transport])
    alice.call("join", {"name": "Alice", "room": "lobby"})
    alice.sio.emit("sendMessage", "x" * 20000)
    wait_for(lambda: requests.get(server.url + "/rooms").json()["results"] == [],
             timeout=10, message="the cut connection to leave the room")
    assert requests.get(server.url + "/messages").json()["results"] == []
    assert requests.get(server.url + "/healthz").status_code == 200
