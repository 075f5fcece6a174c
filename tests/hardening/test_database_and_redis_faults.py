"""A stuck database or Redis costs the requests that need it, bounded, and nobody else.

Writers pile up behind a lock another process holds (from 127.0.0.2); reads,
/healthz and an unrelated room's chat (from 127.0.0.1) go on. Redis killed or
frozen: 503s and error acks that come quickly, with no traceback in the log.
"""
from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
import time

import psycopg2
import pytest
import requests

from tests.clients import session_from
from tests.helpers import wait_for
from tests.own_redis import OwnRedis

WRITERS = 24  # more than the server's 15 pooled connections, over distinct rooms
LOCK_HELD = 4.0


@contextlib.contextmanager
def sqlite_locked(path):
    """Another process holds the SQLite file's write lock."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=10)) as db:
        db.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")


@contextlib.contextmanager
def postgres_rows_locked(url):
    """Another session holds the writers' rooms' counter rows."""
    with contextlib.closing(psycopg2.connect(url)) as db:
        with db.cursor() as cursor:
            cursor.execute("SELECT name FROM rooms WHERE name LIKE 'w%' FOR UPDATE")
        try:
            yield
        finally:
            db.rollback()


@pytest.fixture
def locked_database(database_url):
    """(server settings, a context manager that holds the lock)."""
    if database_url.startswith("sqlite:///"):
        return {}, lambda: sqlite_locked(database_url.removeprefix("sqlite:///"))
    return {"DATABASE_URL": database_url}, lambda: postgres_rows_locked(database_url)


@pytest.mark.slow
def test_writers_stuck_behind_a_lock_leave_reads_healthz_and_other_rooms_alone(
        servers, clients, locked_database):
    env, locked = locked_database
    # Typing is the probe of liveness here: every change must reach the room.
    server = servers({**env, "TYPING_INTERVAL": "0"})
    alice, bob = clients(server.url), clients(server.url)
    alice.join("Alice", "calm")
    bob.join("Bob", "calm")
    attacker = session_from("127.0.0.2")
    for n in range(WRITERS):  # each room's counter row exists, for PostgreSQL's row locks
        posted = attacker.post(server.url + "/messages", timeout=10, json={
            "username": "Writer", "text": "first", "roomname": f"w{n}"})
        assert posted.status_code == 201

    statuses = []

    def write(n):
        try:
            statuses.append(attacker.post(server.url + "/messages", timeout=30, json={
                "username": "Writer", "text": "while locked", "roomname": f"w{n}"}).status_code)
        except requests.RequestException as error:
            statuses.append(error.__class__.__name__)

    with locked():
        writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        locked_at, rounds = time.monotonic(), 0
        time.sleep(0.5)  # let the writers take their connections
        while time.monotonic() < locked_at + LOCK_HELD - 0.5:
            rounds += 1
            health = requests.get(server.url + "/healthz", timeout=2)
            assert health.status_code in (200, 503), health.text
            read = requests.get(server.url + "/messages", params={"roomname": "calm"},
                                timeout=2)
            assert read.status_code in (200, 503), read.text
            bob.sio.emit("typing", rounds % 2 == 1)
            wait_for(lambda n=rounds: len(alice.events("typing")) >= n, timeout=1,
                     message=f"typing in an unrelated room, round {rounds}")
            time.sleep(0.1)
    for thread in writers:
        thread.join(30)

    assert len(statuses) == WRITERS and set(statuses) <= {201, 503}, statuses
    assert 201 in statuses  # the writers with a place waited for the lock and wrote
    assert alice.sio.connected and bob.sio.connected
    assert alice.call("sendMessage", "after the lock")[0] is None
    assert "Traceback" not in server.full_log()


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path).start()
    yield server
    server.kill()


def redis_server(servers, own_redis):
    return servers({"REDIS_URL": own_redis.url, "PRESENCE_LEASE_SECONDS": "2",
                    "REDIS_TIMEOUT_SECONDS": "1"})


def assert_redis_refused(server):
    """What a user of each REST path sees while Redis does not answer."""
    for _ in range(3):
        rooms = requests.get(server.url + "/rooms", timeout=3)
        assert rooms.status_code == 503 and rooms.json()["error"], rooms.text
        assert rooms.json()["code"] == "storage_unavailable"
    health = requests.get(server.url + "/healthz", timeout=3)
    assert health.status_code == 503 and health.json()["failing"] == ["redis"], health.text


def test_redis_unreachable_gives_503s_and_error_acks_without_tracebacks(
        servers, clients, own_redis):
    server = redis_server(servers, own_redis)
    alice = clients(server.url)
    alice.join("Alice")

    own_redis.kill()
    assert_redis_refused(server)
    error, *code = clients(server.url).call("join", {"name": "Bob", "room": "lobby"}, timeout=3)
    assert isinstance(error, str) and "try again" in error
    assert code == [{"code": "storage_unavailable", "params": {}}]
    error, message = alice.call("sendMessage", "stored all the same", timeout=3)
    assert error is None and message["text"] == "stored all the same"
    assert_redis_refused(server)

    log = server.full_log()
    assert "Traceback" not in log
    assert log.count("presence: Redis is not answering") == 1, log  # once, not per request


@pytest.mark.slow
def test_redis_stalled_sends_are_acked_quickly_and_healthz_says_so(servers, clients, own_redis):
    server = redis_server(servers, own_redis)
    alice = clients(server.url)
    alice.join("Alice")

    own_redis.signal(signal.SIGSTOP)
    try:
        for n in range(3):
            # A stall holds a send no longer than its Redis calls' timeouts.
            error, *_ = alice.call("sendMessage", f"during the stall {n}", timeout=4)
            assert error is None
        assert_redis_refused(server)
        error, *_ = clients(server.url).call("join", {"name": "Bob", "room": "lobby"},
                                             timeout=4)
        assert isinstance(error, str) and "try again" in error
    finally:
        own_redis.signal(signal.SIGCONT)

    wait_for(lambda: requests.get(server.url + "/healthz", timeout=3).status_code == 200,
             timeout=5, message="healthy again once Redis answers")
    assert requests.get(server.url + "/rooms", timeout=3).status_code == 200
    assert "Traceback" not in server.full_log()
