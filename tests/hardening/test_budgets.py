"""What one connection's events, and one address's REST posts, may cost everyone else.

Each attacker speaks raw Socket.IO over a WebSocket from 127.0.0.2, so it can
send as fast as it likes and match every ack by id; its victims listen from
127.0.0.1 with python-socketio clients.
"""
from __future__ import annotations

import json
import re
import time

import pytest
import requests
import websocket

from tests.clients import engineio_websocket, session_from
from tests.helpers import wait_for

ATTACKER = "127.0.0.2"
# The limits these tests are about, at their defaults (QUIET_LIMITS raises them).
BUDGETS = {"SEND_BURST": "20", "SEND_RATE_PER_SECOND": "5",
           "EVENT_BUDGET_BURST": "20", "EVENT_BUDGET_PER_SECOND": "5"}


class RawClient:
    """A Socket.IO connection from ATTACKER that sends without waiting and collects acks by id."""

    def __init__(self, server) -> None:
        self.ws = engineio_websocket(server.url, source=ATTACKER, timeout=10)
        self.next_id = 0
        self.acks: dict[int, list] = {}
        self.closed = False

    def emit(self, event: str, *args, ack: bool = True) -> int | None:
        """Send an event; with `ack`, return the id its ack will carry."""
        if not ack:
            self.ws.send("42" + json.dumps([event, *args]))
            return None
        ack_id, self.next_id = self.next_id, self.next_id + 1
        self.ws.send(f"42{ack_id}" + json.dumps([event, *args]))
        return ack_id

    def call(self, event: str, *args, timeout: float = 10) -> list:
        ack_id = self.emit(event, *args)
        self.wait_for_acks([ack_id], timeout)
        return self.acks[ack_id]

    def read(self, timeout: float) -> None:
        """Read one frame (or wait `timeout`): answer pings, keep acks, notice a close."""
        self.ws.settimeout(timeout)
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            self.closed = True
            return
        if frame == "2":
            self.ws.send("3")
        elif frame in ("", "1", "41"):  # closed, Engine.IO close, Socket.IO disconnect
            self.closed = True
        elif match := re.match(r"43(\d+)", frame):
            self.acks[int(match.group(1))] = json.loads(frame[match.end():])

    def wait_for_acks(self, ids, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not all(i in self.acks for i in ids):
            assert not self.closed, f"closed with {sum(i in self.acks for i in ids)} acks"
            assert time.monotonic() < deadline, "timed out waiting for acks"
            self.read(0.5)

    def wait_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.read(0.2)
        return self.closed

    def close(self) -> None:
        self.ws.close()


def notices(client) -> list[str]:
    return [m["text"] for m in client.events("message") if m["user"] == "admin"]


def named(notice: str) -> list[str]:
    """The names a "... has joined!" / "... have left." notice announces."""
    match = re.fullmatch(r"(.+) (?:has|have) (?:joined!|left\.)", notice)
    return re.split(r", | and ", match.group(1)) if match else []


@pytest.mark.slow
def test_a_connection_flipping_rooms_is_slowed_and_costs_listeners_little(servers, clients):
    server = servers(BUDGETS)
    listeners = {room: clients(server.url) for room in ("a", "b")}
    for room, listener in listeners.items():
        listener.join(f"Listener-{room}", room)
    flipper = RawClient(server)
    results = []
    started = time.monotonic()
    while time.monotonic() - started < 3:  # as fast as its acks come back
        results.append(flipper.call("join", {"name": "Flip", "room": "ab"[len(results) % 2]}))
    assert not flipper.closed
    accepted = [ack for ack in results if ack[0] is None]
    refused = [ack[0] for ack in results if ack[0] is not None]
    # A burst of 20 units at 5 a second, a join costing 5: 4 joins, then about 1 a second.
    assert len(accepted) <= 4 + 3 + 1, len(accepted)
    assert refused and all("too fast" in reason for reason in refused)
    print(f"{len(accepted)} joins accepted, {len(refused)} refused in 3 s")

    flipper.close()
    for room, listener in listeners.items():
        wait_for(lambda listener=listener, room=room: listener.last_users() == [
            f"Listener-{room}"], message="the flipper gone from roomData")
        mentions = sum(named(notice).count("Flip") for notice in notices(listener))
        assert mentions <= 2 * len(accepted), notices(listener)
        assert len(listener.events("roomData")) <= 2 * len(accepted) + 2


def test_typing_flood_reaches_the_room_a_few_times_a_second(servers, clients):
    server = servers({**BUDGETS, "MAX_PENDING_PACKETS": "100000"})  # typing alone is measured
    listener = clients(server.url)
    listener.join("Listener", "t")
    typist = RawClient(server)
    assert typist.call("join", {"name": "Typist", "room": "t"})[0] is None
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < 2:
        for flag in (True, False) * 10:
            typist.emit("typing", flag, ack=False)
        sent += 20
        time.sleep(0.01)
    # The worker handles one connection's packets in order: once this is acked
    # (refused or not), every typing before it has been handled.
    typist.call("leave", timeout=30)
    handled = time.monotonic() - started
    typist.close()
    wait_for(lambda: "Typist has left." in listener.texts(), message="the typist's leave")
    told = listener.events("typing")
    print(f"{sent} typing events sent and handled in {handled:.1f} s, "
          f"{len(told)} reached the listener")
    # At most a start and a stop per second while the server worked through the flood.
    assert 1 <= len(told) <= 2 * (handled + 1), told


def test_a_burst_of_200_sends_is_acked_every_time_and_keeps_the_connection(servers, clients):
    server = servers(BUDGETS)
    reader = clients(server.url)
    reader.join("Reader", "burst")
    sender = RawClient(server)
    assert sender.call("join", {"name": "Paster", "room": "burst"})[0] is None
    ids = []
    for i in range(200):  # 200 in one second
        ids.append(sender.emit("sendMessage", {"text": f"line {i}", "clientId": str(i)}))
        sender.read(0.005)
    sender.wait_for_acks(ids, timeout=20)
    acks = [sender.acks[i] for i in ids]
    sent = [ack[1]["text"] for ack in acks if ack[0] is None]
    refused = [ack[0] for ack in acks if ack[0] is not None]
    assert 20 <= len(sent) <= 20 + 5 + 2, len(sent)  # the burst, and a second's refill
    assert all("too fast" in reason for reason in refused) and len(sent) + len(refused) == 200
    # Still connected, and still able to talk once the burst has refilled a little.
    time.sleep(0.3)
    assert sender.call("sendMessage", "still here")[0] is None
    assert not sender.closed
    reader.wait_for_text("still here")
    assert [m["text"] for m in reader.chat_messages()] == [*sent, "still here"]


@pytest.mark.slow
def test_a_sustained_flood_is_closed_after_the_window(servers, clients):
    server = servers({**BUDGETS, "FLOOD_CLOSE_SECONDS": "2"})
    watcher = clients(server.url)
    watcher.join("Watcher", "flood")
    flooder = RawClient(server)
    assert flooder.call("join", {"name": "Flood", "room": "flood"})[0] is None
    started = time.monotonic()
    while not flooder.closed and time.monotonic() - started < 8:  # 50 a second, 10x the rate
        flooder.emit("sendMessage", "spam")
        paced = time.monotonic() + 0.02
        while not flooder.closed and time.monotonic() < paced:
            flooder.read(max(0.001, paced - time.monotonic()))
    lasted = time.monotonic() - started
    assert flooder.closed, "a flood of 8 s was never closed"
    # Refused from the 21st send (0.4 s in), closed 2 s after that; not for the first burst.
    assert 2 <= lasted < 5, lasted
    watcher.wait_for_text("Flood has left.")
    assert server.full_log().count("refused for 2 s on end") == 1
    stored_spam = [m for m in watcher.chat_messages() if m["user"] == "Flood"]
    assert len(stored_spam) <= 20 + 5 * lasted


@pytest.mark.parametrize("packet", ['42["typing",true,1,2]',
                                    '420["join",{"name":"Extra","room":"x"},"x"]',
                                    '421["sendMessage","hi",{}]', '422["leave",null]',
                                    '42[7,"hi"]', '42"sendMessage"', '42"s"',
                                    '42{"0":"sendMessage"}', '42[]'])
def test_an_event_with_extra_arguments_or_without_a_name_closes_the_connection_with_one_warning(
        servers, clients, packet):
    server = servers()
    bystander = clients(server.url)
    bystander.join("Bystander", "x")
    attacker = RawClient(server)
    assert attacker.call("join", {"name": "Attacker", "room": "x"})[0] is None
    attacker.ws.send(packet)
    if packet.startswith('422["leave",null]'):  # one argument, even null, is fine
        attacker.wait_for_acks([2])
        assert not attacker.closed
        return
    assert attacker.wait_closed(5), "the connection stayed open"
    wait_for(lambda: requests.get(server.url + "/rooms", timeout=5).json()["results"] == [
        {"roomname": "x", "users": [{"name": "Bystander"}]}], message="the attacker gone")
    log = server.full_log()
    assert log.count("malformed packet") == 1, log
    assert "Traceback" not in log
    assert bystander.call("sendMessage", "fine")[0] is None


def test_rest_posts_are_limited_per_address(servers):
    server = servers({"REST_POST_BURST": "5", "REST_POSTS_PER_SECOND": "0.5"})
    attacker = session_from(ATTACKER)
    answers = [attacker.post(server.url + "/messages", timeout=5,
                             json={"username": "Poster", "text": f"p{i}", "roomname": "board"})
               for i in range(12)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [201] * 5 and statuses[5:] == [429] * 7, statuses
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert "too many posts" in refused.json()["error"].lower()
    # Another address is not held back by this one.
    posted = requests.post(server.url + "/messages", timeout=5,
                           json={"username": "Victim", "text": "mine", "roomname": "board"})
    assert posted.status_code == 201
    stored_texts = [m["text"] for m in requests.get(server.url + "/messages", timeout=5,
                                                    params={"roomname": "board"}).json()["results"]]
    assert stored_texts == ["p0", "p1", "p2", "p3", "p4", "mine"]


def test_notices_name_each_person_once(servers, clients):
    server = servers({"ROOMDATA_INTERVAL": "0.5"})
    listener = clients(server.url)
    listener.join("Listener", "a")
    wait_for(lambda: listener.last_users() == ["Listener"], message="the listener's roomData")
    seen_before = len(listener.events("roomData"))

    flipper, visitor = RawClient(server), RawClient(server)
    for room in "ababababab":  # comes into "a" five times, ends in "b"
        assert flipper.call("join", {"name": "Flip", "room": room})[0] is None
    assert visitor.call("join", {"name": "Gus", "room": "a"})[0] is None
    assert visitor.call("leave")[0] is None
    wait_for(lambda: len(listener.events("roomData")) > seen_before
             and listener.last_users() == ["Listener"], message="the room back to the listener")
    time.sleep(0.6)  # one more interval: anything still pending has gone out

    told = notices(listener)
    for notice in told:
        names = named(notice)
        assert len(names) == len(set(names)), told
    for person in ("Flip", "Gus"):
        joins = sum(person in named(n) for n in told if n.endswith("joined!"))
        leaves = sum(person in named(n) for n in told if n.endswith("left."))
        assert joins == leaves <= 1, (person, told)  # and nobody is left announced as here
