"""`SERVER=gevent python app.py`: the chat's contract, its caps, deadlines and clean stop, and
an async mode that always follows the library that patched the process."""
from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

import psycopg2
import pytest
import requests

from tests.clients import engineio_websocket, open_from
from tests.helpers import start_up, wait_for

GEVENT = {"SERVER": "gevent", "HANDSHAKE_BURST": "1000", "SEND_BURST": "1000",
          "EVENT_BUDGET_BURST": "1000"}
ATTACKER = "127.0.0.2"


@pytest.fixture
def gevent_servers(servers):
    """Start `SERVER=gevent python app.py` servers, checking they run on gevent."""
    def start(env=None):
        server = servers({**GEVENT, **(env or {})})
        assert "(gevent)" in server.log(), server.log()
        return server

    return start


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_people_chat_and_catch_up_over_each_transport(gevent_servers, clients, transport):
    server = gevent_servers()
    alice, bob = clients(server.url, [transport]), clients(server.url, [transport])
    assert alice.sio.transport() == transport
    assert alice.call("join", {"name": "Alice", "room": "lobby", "token": "a"})[0] is None
    assert bob.call("join", {"name": "Bob", "room": "lobby"})[0] is None
    error, sent = bob.call("sendMessage", "hi Alice")
    assert error is None and sent["seq"] == 1
    alice.wait_for_text("hi Alice")
    posted = requests.post(server.url + "/messages", timeout=10,
                           json={"username": "Rest", "text": "from REST", "roomname": "lobby"})
    assert posted.status_code == 201
    alice.wait_for_text("from REST")
    alice.close()
    bob.call("sendMessage", "while Alice was away")
    back = clients(server.url, [transport])
    error, joined = back.call("join", {"name": "Alice", "room": "lobby", "since": 2,
                                       "token": "a"})
    assert error is None
    assert [m["text"] for m in joined["history"]] == ["while Alice was away"]


def test_sigterm_closes_every_session_and_exits_zero(gevent_servers, clients):
    server = gevent_servers()
    alice, bob = clients(server.url, ["websocket"]), clients(server.url, ["polling"])
    alice.call("join", {"name": "Alice", "room": "lobby"})
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert alice.disconnected.wait(5) and bob.disconnected.wait(5)
    assert "SIGTERM: closing 2 sessions" in server.log()


def test_one_address_past_its_cap_gets_503_and_others_are_served(gevent_servers):
    server = gevent_servers({"MAX_CONNECTIONS_PER_ADDRESS": "3"})
    held = [open_from(ATTACKER, server.port, timeout=5) for _ in range(3)]
    try:
        refused = open_from(ATTACKER, server.port, timeout=5)
        assert refused.recv(4096).startswith(b"HTTP/1.1 503")
        refused.close()
        assert requests.get(server.url + "/healthz", timeout=2).status_code == 200
    finally:
        for connection in held:
            connection.close()


def test_headers_that_trickle_past_the_deadline_get_408(gevent_servers):
    server = gevent_servers({"HEADERS_TIMEOUT": "1", "SOCKET_TIMEOUT": "30"})
    slow = open_from(ATTACKER, server.port, timeout=5)
    started = time.monotonic()
    try:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: chat\r\n")
        while not select.select([slow], [], [], 0.2)[0] and time.monotonic() - started < 5:
            slow.sendall(b"X-Slow: a\r\n")  # a header line every 0.2 s, never the end
        assert slow.recv(4096).startswith(b"HTTP/1.1 408")
        assert requests.get(server.url + "/healthz", timeout=2).status_code == 200
    finally:
        slow.close()


def test_a_body_slower_than_the_minimum_rate_is_cut(gevent_servers):
    server = gevent_servers({"BODY_MIN_BYTES_PER_SECOND": "100", "BODY_GRACE_SECONDS": "1"})
    slow = open_from(ATTACKER, server.port, timeout=5)
    try:
        slow.sendall(b"POST /messages HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json"
                     b"\r\nContent-Length: 5000\r\n\r\n{")
        answer = wait_for(lambda: slow.recv(4096), timeout=5, message="an answer")
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert requests.get(server.url + "/messages", timeout=2).json()["results"] == []
    finally:
        slow.close()


def test_a_websocket_message_past_the_packet_limit_is_cut_at_its_first_frame_header(
        gevent_servers, clients):
    """The WebSocket read guard holds under gevent: the server closes with 1009 as soon
    as a header announces too much, without waiting for (or keeping) the payload."""
    server = gevent_servers({"MAX_SOCKET_PACKET_BYTES": "10000"})
    ws = engineio_websocket(server.url)
    announces_a_mib = bytes([0x81, 0x80 | 127]) + (1 << 20).to_bytes(8, "big") + os.urandom(4)
    ws.sock.sendall(announces_a_mib + b"4")
    ws.sock.settimeout(5)
    received = b""
    while chunk := ws.sock.recv(4096):
        received += chunk
    assert received.endswith(b"\x03\xf1message over 10000 bytes"), received  # close, 1009
    assert "closed a WebSocket from 127.0.0.1: message over 10000 bytes" in server.log()
    alice, bob = clients(server.url), clients(server.url)
    alice.call("join", {"name": "Alice", "room": "lobby"})
    bob.call("join", {"name": "Bob", "room": "lobby"})
    assert bob.call("sendMessage", "still chatting")[0] is None
    alice.wait_for_text("still chatting")


def test_max_connections_beyond_the_open_file_limit_is_a_start_up_error(tmp_path):
    """A WebSocket holds one file under gevent too: the socket its request came on."""
    result = start_up({"SERVER": "gevent", "MAX_CONNECTIONS": "300",
                       "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}, open_files=256)
    assert result.returncode != 0
    assert "MAX_CONNECTIONS=300 needs 364 open files" in result.stderr
    assert "may open 256, which leaves room for 192 connections" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("env, message", [
    ({"SERVER": "gevent", "SOCKETIO_ASYNC_MODE": "eventlet"},
     "SOCKETIO_ASYNC_MODE=eventlet disagrees with this process, which gevent has patched"),
    ({"SERVER": "eventlet", "SOCKETIO_ASYNC_MODE": "gevent"},
     "SOCKETIO_ASYNC_MODE=gevent disagrees with this process, which eventlet has patched"),
    ({"SERVER": "eventlet", "SOCKETIO_ASYNC_MODE": "threading"},
     "SOCKETIO_ASYNC_MODE=threading disagrees with this process, which eventlet has patched"),
    ({"SERVER": "tornado"}, "SERVER must be eventlet or gevent, not 'tornado'"),
])
def test_a_server_and_async_mode_that_disagree_stop_the_start(tmp_path, env, message):
    result = start_up({**env, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("patch, mode", [
    ("from gevent import monkey; monkey.patch_all()", "gevent"),
    ("import eventlet; eventlet.monkey_patch()", "eventlet"),
    ("", "threading"),
])
def test_a_worker_that_imports_the_app_gets_the_mode_of_its_patching(tmp_path, patch, mode):
    """What `gunicorn -k gevent app:app` does: patch, then import app.py as a module.
    Left to python-engineio, eventlet (installed) would run under gevent's loop and hang."""
    result = start_up({"DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}, command=[
        sys.executable, "-c",
        f"{patch}\nfrom app import app\n"
        "print(app.extensions['socketio'].server.eio.async_mode)"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [mode]


@contextlib.contextmanager
def room_row_locked(url: str, room: str):
    """Another session holds a room's counter row, as a slow writer would."""
    with contextlib.closing(psycopg2.connect(url)) as db:
        with db.cursor() as cursor:
            cursor.execute("SELECT name FROM rooms WHERE name = %s FOR UPDATE", (room,))
        try:
            yield
        finally:
            db.rollback()


@pytest.mark.slow
def test_a_write_waiting_on_a_postgresql_lock_leaves_other_chats_running(
        gevent_servers, clients, postgres_url):
    url = postgres_url
    server = gevent_servers({"DATABASE_URL": url, "DATABASE_WAIT_SECONDS": "10"})
    stuck, alice, bob = (clients(server.url) for _ in range(3))
    stuck.call("join", {"name": "Stuck", "room": "locked"})
    stuck.call("sendMessage", "makes the room's row")
    alice.call("join", {"name": "Alice", "room": "calm"})
    bob.call("join", {"name": "Bob", "room": "calm"})
    with room_row_locked(url, "locked"):
        acks = []
        stuck.sio.emit("sendMessage", "waits for the lock", callback=lambda *a: acks.append(a))
        time.sleep(0.5)  # the write is now waiting on PostgreSQL
        for n in range(3):
            error, _ = bob.call("sendMessage", f"round trip {n}")
            assert error is None
            alice.wait_for_text(f"round trip {n}")
        assert acks == []
    wait_for(lambda: acks, timeout=10, message="the waiting write's ack")
    assert acks[0][0] is None
