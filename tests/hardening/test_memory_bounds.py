"""Memory one client can make the server hold is bounded in bytes: the page cache, a
connection's backlog, a join's history, repeated joins. The attacker comes from 127.0.0.2,
the people it would hurt from 127.0.0.1."""
from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import time
from datetime import datetime

import pytest
import requests

from tests.clients import engineio_websocket
from tests.helpers import wait_for

ATTACKER = "127.0.0.2"
MB = 1024 * 1024
RSS_GROWTH_BOUND = 20 * MB
KOREAN = "가나다라마바사아자차카타파하"  # six bytes each in the JSON of a packet


def rss(server) -> int:
    """The server process's resident memory, in bytes."""
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def korean(chars: int, tag: str) -> str:
    return tag + (KOREAN * (chars // len(KOREAN) + 1))[:chars - len(tag)]


def seed(server, room: str, count: int, chars: int) -> None:
    """Store `count` messages of `chars` Korean characters in `room`, straight into the file."""
    database = sqlite3.connect(server.workdir / "chat.sqlite3", timeout=10)
    with database:
        database.executemany(
            "INSERT INTO messages (room, seq, username, text, created_at) VALUES (?, ?, ?, ?, ?)",
            [(room, seq, "Writer", korean(chars, f"{seq:05d}"), datetime.now())
             for seq in range(1, count + 1)])
        database.execute("INSERT INTO rooms (name, last_seq) VALUES (?, ?)", (room, count))
    database.close()


def attacker_websocket(server):
    """A Socket.IO connection from the attacker's address that reads (almost) nothing."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.bind((ATTACKER, 0))
    raw.connect(("127.0.0.1", server.port))
    return engineio_websocket(server.url, socket=raw, timeout=5)


def ack_frame(ws, ack_id: int) -> str:
    """The raw frame of the ack with `ack_id`, skipping events and answering pings."""
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
        elif frame.startswith(f"43{ack_id}["):
            return frame


@pytest.mark.slow
def test_junk_queries_and_origins_do_not_grow_the_page_cache(servers):
    server = servers()
    posted = requests.post(server.url + "/messages", timeout=5,
                           json={"username": "Alice", "text": "hello", "roomname": "lobby"})
    assert posted.status_code == 201
    before = rss(server)
    attacker = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                          source_address=(ATTACKER, 0))
    junk = "j" * 7000
    deadline = time.monotonic() + 20
    sent = 0
    while sent < 4000 and time.monotonic() < deadline:
        # Every request a new key on main: a second roomname with junk, a junk Origin.
        query = f"roomname=lobby&roomname={sent}{junk}" if sent % 2 else "roomname=lobby"
        attacker.request("GET", "/messages?" + query,
                         headers={"Origin": f"https://{sent}{junk}.example"})
        response = attacker.getresponse()
        response.read()
        assert response.status in (200, 400)
        sent += 1
    attacker.close()
    assert sent == 4000, f"only {sent} requests in 20 s"
    growth = rss(server) - before
    assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / MB:.0f} MB"

    # Readers still get the right page, with CORS headers for their own origin.
    for origin in ("https://one.example", "https://two.example"):
        page = requests.get(server.url + "/messages?roomname=lobby", timeout=5,
                            headers={"Origin": origin})
        assert [m["text"] for m in page.json()["results"]] == ["hello"]
        assert page.headers["Access-Control-Allow-Origin"] == origin
    requests.post(server.url + "/messages", timeout=5,
                  json={"username": "Bob", "text": "again", "roomname": "lobby"})
    page = requests.get(server.url + "/messages?roomname=lobby", timeout=5)
    assert [m["text"] for m in page.json()["results"]] == ["hello", "again"]


def test_repeated_query_parameters_are_refused(servers):
    server = servers()
    answer = requests.get(server.url + "/messages?roomname=lobby&roomname=junk", timeout=5)
    assert answer.status_code == 400 and "roomname" in answer.json()["error"]


@pytest.mark.slow
def test_client_that_stops_reading_is_cut_by_the_bytes_of_its_backlog(servers, clients):
    """Big messages: 500 packets (the packet bound) would be some 30 MB, far past the bytes."""
    server = servers({"MAX_TEXT_LENGTH": "10000"})
    slow = attacker_websocket(server)
    slow.send('420["join",{"name":"Slow","room":"busy"}]')
    ack_frame(slow, 0)  # then it never reads again
    reader, sender = clients(server.url), clients(server.url)
    reader.join("Reader", "busy")
    sender.join("Sender", "busy")
    text = korean(10000, "")  # 60 KB in a packet
    for _ in range(40):  # what big messages cost anyway (the slow client's TCP buffer fills)
        assert sender.call("sendMessage", text)[0] is None
    before = rss(server)
    sent = 0
    while sent < 250 and "Slow has left." not in reader.texts():
        error, _ = sender.call("sendMessage", text)
        assert error is None, error
        sent += 1
    wait_for(lambda: "Slow has left." in reader.texts(), timeout=5, message="the cut")
    # 2 MB of backlog and what the kernel's buffers take (4 MB at most on loopback): about
    # 110 messages; 500 packets would take over 500.
    assert sent < 200, f"cut only after {sent} messages of 60 KB"
    assert "cut a slow consumer" in server.full_log()
    growth = rss(server) - before
    assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / MB:.0f} MB"
    assert reader.sio.connected and sender.sio.connected
    slow.close()


def test_a_replay_is_capped_in_bytes_and_rest_pages_the_rest(servers):
    server = servers()
    seed(server, "big", 400, 2000)  # 12 KB of JSON each, about 5 MB in all
    reader = engineio_websocket(server.url, timeout=10)
    reader.send('420["join",{"name":"Late","room":"big","since":0}]')
    frame = ack_frame(reader, 0)
    assert len(frame) < 300 * 1024, f"a replay of {len(frame) / MB:.1f} MB"
    error, joined = json.loads(frame[3:])
    assert error is None
    replay = joined["history"]
    assert [m["seq"] for m in replay] == list(range(1, len(replay) + 1))
    assert len(replay) >= 10 and joined["more"] is True
    caught_up = list(replay)
    while True:  # the rest over REST, as the contract says
        page = requests.get(server.url + "/messages", timeout=10, params={
            "roomname": "big", "after": caught_up[-1]["id"], "limit": 100}).json()["results"]
        if not page:
            break
        caught_up += page
    assert [m["seq"] for m in caught_up] == list(range(1, 401))

    # The default history: the newest messages, within the same budget.
    reader.send('421["join",{"name":"Late","room":"big","since":390}]')
    error, joined = json.loads(ack_frame(reader, 1)[3:])
    assert [m["seq"] for m in joined["history"]] == []  # the same seat: nothing read again
    newcomer = engineio_websocket(server.url, timeout=10)
    newcomer.send('420["join",{"name":"New","room":"big"}]')
    frame = ack_frame(newcomer, 0)
    assert len(frame) < 300 * 1024
    history = json.loads(frame[3:])[1]["history"]
    assert [m["seq"] for m in history] == list(range(401 - len(history), 401))
    reader.close()
    newcomer.close()


def test_repeated_joins_from_a_client_that_never_reads_do_not_grow_memory(servers, clients):
    server = servers()
    seed(server, "big", 500, 2000)  # a replay from 0 was 6 MB
    seed(server, "big2", 500, 2000)
    reader = clients(server.url)
    assert reader.join("Reader", "big")["history"]
    before = rss(server)
    attacker = attacker_websocket(server)
    # The same seat again and again: the history is read once.
    for n in range(40):
        attacker.send(f'42{n}["join",{{"name":"Greedy","room":"big","since":0}}]')
    attacker.send('42["sendMessage","done"]')  # handled after every join before it
    reader.wait_for_text("done", timeout=20)
    # Two rooms in turn: each join reads a history, and the backlog's bytes cut it.
    for n in range(40, 80):
        room = "big2" if n % 2 else "big"
        attacker.send(f'42{n}["join",{{"name":"Greedy","room":"{room}","since":0}}]')
    wait_for(lambda: "cut a slow consumer" in server.full_log(), timeout=20, message="the cut")
    growth = rss(server) - before
    assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / MB:.0f} MB"
    assert requests.get(server.url + "/healthz", timeout=2).ok and reader.sio.connected
    attacker.close()
