"""Faults: dead links, cut links, a database that refuses writes
or is locked by another process, and SIGTERM under load and with hundreds connected, each
against a real server."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time

import psycopg2
import pytest
import requests
import websocket

from tests.clients import engineio_websocket
from tests.helpers import stored, wait_for

FAST_HEARTBEAT = {"PING_INTERVAL": "1", "PING_TIMEOUT": "1"}


# Item 3: half-open connections ------------------------------------------------------


# A ping timeout well above the 1 s of slack, so a check that comes a whole
# timeout late (Engine.IO's own round over every session) shows.
SLOW_PONG_HEARTBEAT = {"PING_INTERVAL": "1", "PING_TIMEOUT": "4", "ROOMDATA_INTERVAL": "0.25"}
# One ghost per quiet room: a broadcast to a ghost would find it out early.
GHOSTS = 6


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_vanished_clients_leave_within_ping_interval_plus_timeout(servers, proxies, clients,
                                                                  transport):
    server = servers(SLOW_PONG_HEARTBEAT)
    proxy = proxies(server.port)
    watchers = []
    for n in range(GHOSTS):
        clients(proxy.url, [transport]).join(f"Ghost{n}", f"room{n}")
        watchers.append(clients(server.url))
        watchers[-1].join("Watcher", f"room{n}")
    for n, watcher in enumerate(watchers):
        wait_for(lambda w=watcher, n=n: w.last_users() == [f"Ghost{n}", "Watcher"],
                 message=f"both online in room{n}")

    proxy.blackhole()  # the phones walk out of coverage: no FIN, no RST, nothing
    vanished = time.monotonic()
    # The README's promise: gone within PING_INTERVAL + PING_TIMEOUT, plus a
    # second, plus the announcer's interval for the notice.
    bound = 1 + 4 + 1 + 0.25

    def all_gone():
        return all(watcher.last_users() == ["Watcher"] and f"Ghost{n} has left." in watcher.texts()
                   for n, watcher in enumerate(watchers))

    wait_for(all_gone, timeout=bound + 5, message="every ghost's notice and roomData")
    took = time.monotonic() - vanished
    assert took <= bound, f"the last ghost left {took:.2f} s after the link died"
    rooms = requests.get(server.url + "/rooms", timeout=5).json()["results"]
    assert rooms == [{"roomname": f"room{n}", "users": [{"name": "Watcher"}]}
                     for n in range(GHOSTS)]
    proxy.close()  # so the ghosts' own goodbyes fail fast instead of into the black hole


# Item 7: a slow link, then a cut --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_cut_client_reconnects_and_resyncs_with_no_gap_and_no_duplicate(servers, proxies,
                                                                         clients, transport):
    server = servers()
    proxy = proxies(server.port)
    reader = clients(proxy.url, [transport], reconnection=True,
                     rejoin={"name": "Reader", "room": "lobby", "token": "reader-token"})
    wait_for(lambda: reader.events("roomData"), message="Reader joined")
    writer = clients(server.url)
    writer.join("Writer")
    acked, refused, stop = [], [], threading.Event()

    def keep_sending():
        for i in range(400):
            if stop.is_set():
                return
            error, *message = writer.call("sendMessage", {"text": f"m{i}", "clientId": f"c{i}"})
            (refused if error else acked).append(error or message[0])
            time.sleep(0.01)  # a person-ish pace, so the link faults land mid-stream

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    try:
        wait_for(lambda: len(reader.chat_messages()) >= 10, message="10 messages through")
        proxy.latency(150)
        sent_before_cut = len(acked)
        wait_for(lambda: len(acked) >= sent_before_cut + 10, message="10 sent on the slow link")
        assert proxy.cut(reset=True) >= 1
        proxy.restore()
        wait_for(lambda: reader.connects >= 2 and reader.sio.connected, timeout=10,
                 message="the client reconnected by itself")
        sent_at_reconnect = len(acked)
        wait_for(lambda: len(acked) >= sent_at_reconnect + 10, message="10 sent after")
    finally:
        stop.set()
        sender.join(10)
    assert refused == [] and reader.join_errors == []

    room = stored(server, "lobby")
    assert [m["seq"] for m in room] == list(range(1, len(room) + 1))
    assert {m["id"] for m in acked} <= {m["id"] for m in room}
    wait_for(lambda: {m["seq"] for m in reader.chat_messages()} >= {m["seq"] for m in room},
             timeout=10, message="the reader caught up")
    seen = sorted(reader.chat_messages(), key=lambda m: m["seq"])
    assert [m["seq"] for m in seen] == [m["seq"] for m in room]  # no gap, no duplicate
    assert [(m["id"], m["text"]) for m in seen] == [(m["id"], m["text"]) for m in room]


# Item 7: the database fails under a running server -----------------------------------


class SqliteFaults:
    """Faults on the SQLite file of a server, made from another connection of the test's."""

    env: dict[str, str] = {}

    def __init__(self, path):
        self.path = path

    def _connect(self):
        return sqlite3.connect(self.path, isolation_level=None, timeout=10)

    def refuse_writes(self):
        with contextlib.closing(self._connect()) as db:
            db.execute("CREATE TRIGGER refuse_writes BEFORE INSERT ON messages "
                       "BEGIN SELECT RAISE(ABORT, 'test: the disk refuses writes'); END")

    def allow_writes(self):
        with contextlib.closing(self._connect()) as db:
            db.execute("DROP TRIGGER refuse_writes")

    @contextlib.contextmanager
    def locked(self):
        """Another process holds SQLite's write lock."""
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                db.execute("ROLLBACK")


class PostgresFaults:
    """The same faults on the server's PostgreSQL schema."""

    def __init__(self, url):
        self.url = url
        self.env = {"DATABASE_URL": url}

    def _run(self, *statements):
        with contextlib.closing(psycopg2.connect(self.url)) as db, db, db.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def refuse_writes(self):
        self._run("CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN RAISE EXCEPTION 'test: the disk refuses writes'; END $$",
                  "CREATE TRIGGER refuse_writes BEFORE INSERT ON messages "
                  "FOR EACH ROW EXECUTE FUNCTION refuse_writes()")

    def allow_writes(self):
        self._run("DROP TRIGGER refuse_writes ON messages", "DROP FUNCTION refuse_writes()")

    @contextlib.contextmanager
    def locked(self):
        """Another session holds the room counters: every writer waits for it."""
        with contextlib.closing(psycopg2.connect(self.url)) as db:
            with db.cursor() as cursor:
                cursor.execute("LOCK TABLE rooms IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                db.rollback()


@pytest.fixture
def database(database_url):
    if database_url.startswith("sqlite:///"):
        return SqliteFaults(database_url.removeprefix("sqlite:///"))
    return PostgresFaults(database_url)


def test_database_refusing_writes_gives_error_acks_and_no_phantom_message(
        servers, clients, database):
    server = servers(database.env)
    alice, bob = clients(server.url), clients(server.url, ["polling"])
    alice.join("Alice")
    bob.join("Bob")
    assert alice.call("sendMessage", "before")[0] is None

    database.refuse_writes()
    error, *code = alice.call("sendMessage", {"text": "during", "clientId": "d1"})
    assert isinstance(error, str) and error
    assert code == [{"code": "storage_unavailable", "params": {}}]
    posted = requests.post(server.url + "/messages", timeout=10, json={
        "username": "Carol", "text": "posted during", "roomname": "lobby"})
    assert posted.status_code == 503 and posted.json()["error"]
    assert posted.json()["code"] == "storage_unavailable"

    database.allow_writes()
    error, message = alice.call("sendMessage", {"text": "after", "clientId": "a1"})
    assert error is None and message["seq"] == 2
    bob.wait_for_text("after")
    # "after" is the barrier: a phantom broadcast of the refused send would be before it.
    assert [m["text"] for m in bob.chat_messages()] == ["before", "after"]
    assert [m["text"] for m in alice.chat_messages()] == ["before", "after"]
    assert [(m["seq"], m["text"]) for m in stored(server)] == [(1, "before"), (2, "after")]


@pytest.mark.slow
def test_locked_database_delays_the_send_but_no_other_socket(servers, clients, database):
    # Typing is the probe of liveness here: every change must reach the room.
    server = servers({**FAST_HEARTBEAT, **database.env, "TYPING_INTERVAL": "0"})
    alice, bob, carol = (clients(server.url) for _ in range(3))
    for person, name in ((alice, "Alice"), (bob, "Bob"), (carol, "Carol")):
        person.join(name)
    wait_for(lambda: carol.last_users() == ["Alice", "Bob", "Carol"], message="all online")
    acks, sender_cut_after = [], None

    with database.locked():
        alice.sio.emit("sendMessage", {"text": "while locked", "clientId": "l1"},
                       callback=lambda *args: acks.append(args))
        locked_at, rounds = time.monotonic(), 0
        while time.monotonic() < locked_at + 3:  # past ping_interval + ping_timeout
            rounds += 1
            bob.sio.emit("typing", rounds % 2 == 1)
            wait_for(lambda n=rounds: len(carol.events("typing")) >= n, timeout=1,
                     message=f"typing event {rounds} while the database is locked")
            assert requests.get(server.url + "/healthz", timeout=1).status_code == 200
            assert acks == [], "acked while the database was locked: not stored yet"
            if sender_cut_after is None and not alice.sio.connected:
                sender_cut_after = time.monotonic() - locked_at
            time.sleep(0.1)

    for person in (bob, carol):  # stored and delivered once the lock is gone
        person.wait_for_text("while locked")
    assert [m["text"] for m in stored(server)] == ["while locked"]
    for person in (bob, carol):
        assert person.texts().count("while locked") == 1
        assert person.sio.connected and person.disconnects == 0
    assert sender_cut_after is None, (
        f"the sender was cut {sender_cut_after:.1f} s into the lock: its send blocked its "
        "heartbeat, and the ack of a stored message was lost")
    wait_for(lambda: acks, timeout=10, message="the ack once the lock is gone")
    error, message = acks[0]
    assert error is None and message["text"] == "while locked"
    assert alice.texts().count("while locked") == 1


# Item 7: SIGTERM under load -------------------------------------------------------


@pytest.mark.slow
def test_sigterm_under_load_exits_cleanly_and_loses_no_acked_message(servers, clients):
    server = servers()
    senders = [clients(server.url) for _ in range(4)]
    acked = [[] for _ in senders]
    for n, sender in enumerate(senders):
        sender.join(f"Sender{n}", f"room{n}")  # one room each: no one's backlog is the issue

    def ack_into(box):
        return lambda error=None, message=None: error is None and box.append(message)

    for i in range(100):
        for n, sender in enumerate(senders):
            sender.sio.emit("sendMessage", {"text": f"s{n}-m{i}", "clientId": f"s{n}-c{i}"},
                            callback=ack_into(acked[n]))
    wait_for(lambda: sum(map(len, acked)) >= 40, timeout=10, message="40 acks")

    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        status = server.process.wait(10)
    except subprocess.TimeoutExpired:
        status = "still running 10 s after SIGTERM"
    acked_then = [list(box) for box in acked]
    print(f"SIGTERM after {sum(map(len, acked_then))} of 400 acks; exit status {status!r}")
    log_after_term = server.log()
    for sender in senders:
        sender.close()

    server.kill()  # only if it lingered
    server.start()  # the same port and SQLite file
    problems = []
    if status != 0:
        problems.append(f"exit status after SIGTERM: {status!r}\n{log_after_term[-1500:]}")
    for n, sender_acked in enumerate(acked_then):
        room = stored(server, f"room{n}")
        if [m["seq"] for m in room] != list(range(1, len(room) + 1)):
            problems.append(f"room{n}: seq not 1..n: {[m['seq'] for m in room]}")
        texts = [m["text"] for m in room]
        if len(texts) != len(set(texts)):
            problems.append(f"room{n}: stored twice: {texts}")
        lost = {m["id"] for m in sender_acked} - {m["id"] for m in room}
        if lost:
            problems.append(f"room{n}: acked but not stored: {sorted(lost)}")
    assert not problems, "\n".join(problems)

    # Each sender comes back and resends what was never acked, with the same clientIds,
    # all at once, as a client's outbox does.
    resent = []
    for n in range(len(senders)):
        again = clients(server.url)
        again.join(f"Sender{n}", f"room{n}")
        acked_texts = {m["text"] for m in acked_then[n]}
        for i in range(100):
            if f"s{n}-m{i}" not in acked_texts:
                again.sio.emit("sendMessage", {"text": f"s{n}-m{i}", "clientId": f"s{n}-c{i}"},
                               callback=lambda *args: resent.append(args))
    expected = 400 - sum(map(len, acked_then))
    wait_for(lambda: len(resent) == expected, timeout=20, message=f"{expected} resend acks")
    assert [args for args in resent if args[0] is not None] == []
    for n in range(len(senders)):
        room = stored(server, f"room{n}")
        assert sorted(m["text"] for m in room) == sorted(f"s{n}-m{i}" for i in range(100))
        assert [m["seq"] for m in room] == list(range(1, 101))


WEBSOCKETS, POLLING, ROOMS = 240, 24, 8
# What a server must never write on its way out, whatever its clients do.
ERROR_LINES = re.compile(r"\] (ERROR|CRITICAL) in |Traceback|Bad file descriptor|shutdown error")


def _join_over_websocket(url: str, name: str, room: str):
    """A raw WebSocket session joined to `room`, its ack read."""
    ws = engineio_websocket(url, timeout=10)
    ws.send("420" + json.dumps(["join", {"name": name, "room": room}]))
    while not (frame := ws.recv()).startswith("430"):
        if frame == "2":
            ws.send("3")
    assert json.loads(frame[3:])[0] is None, frame
    return ws


def _frames_until_closed(ws) -> list[str]:
    """Every Engine.IO packet the server sends until it closes the connection."""
    frames = []
    while True:
        try:
            frame = ws.recv()
        except (websocket.WebSocketException, OSError):
            return frames
        if not frame:  # the close frame
            return frames
        frames.append(frame)


@pytest.mark.slow
def test_sigterm_with_hundreds_connected_closes_each_cleanly_and_logs_no_error(servers,
                                                                               clients):
    server = servers({"MAX_CONNECTIONS_PER_ADDRESS": "0"})  # all from 127.0.0.1
    sockets = [_join_over_websocket(server.url, f"Web{n}", f"room{n % ROOMS}")
               for n in range(WEBSOCKETS)]
    pollers = [clients(server.url, ["polling"]) for _ in range(POLLING)]
    for n, poller in enumerate(pollers):
        poller.join(f"Poll{n}", f"room{n % ROOMS}")
    logged_before_sigterm = len(server.full_log())

    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        status = server.process.wait(60)
    except subprocess.TimeoutExpired:
        status = "still running 60 s after SIGTERM"

    # Engine.IO's close packet, then the close: the client knows to reconnect elsewhere.
    unclean = [n for n, ws in enumerate(sockets) if _frames_until_closed(ws)[-1:] != ["1"]]
    for poller in pollers:
        assert poller.disconnected.wait(10), "a long-polling client never saw the close"
    errors = [line for line in server.full_log()[logged_before_sigterm:].splitlines()
              if ERROR_LINES.search(line)]
    assert status == 0, server.log()
    assert unclean == [], f"{len(unclean)} WebSockets closed without Engine.IO's close packet"
    assert errors == [], "\n".join(errors[:20])
    assert f"SIGTERM: closing {WEBSOCKETS + POLLING} sessions" in server.full_log()
