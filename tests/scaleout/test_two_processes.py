"""Two real `python app.py` processes on one Redis and one PostgreSQL schema: one chat."""
from __future__ import annotations

import threading

import pytest
import requests
import socketio

from tests.helpers import wait_for


def rooms(server) -> list:
    return requests.get(server.url + "/rooms", timeout=5).json()["results"]


def stored(server, room: str) -> list[dict]:
    return requests.get(server.url + "/messages", timeout=5,
                        params={"roomname": room, "limit": 1000}).json()["results"]


def test_chat_presence_and_rest_reach_across_processes(servers, members):
    a, b = servers(), servers()
    ann = members(a.url, "Ann", "lobby")
    bob = members(b.url, "Bob", "lobby", transports=["polling"])
    cid = members(b.url, "Cid", "lobby")
    for member in (ann, bob, cid):
        member.wait_for_users(["Ann", "Bob", "Cid"])
    ann.wait_for_notice("Cid has joined!")

    sent = ann.send("hello from a")
    for member in (bob, cid):
        wait_for(lambda m=member: m.room_texts() == ["hello from a"], message="delivery to b")
    bob.send("hello from b")
    wait_for(lambda: ann.room_texts() == ["hello from a", "hello from b"], message="delivery to a")

    posted = requests.post(b.url + "/messages", timeout=5,
                           json={"username": "Board", "text": "over REST", "roomname": "lobby"})
    assert posted.status_code == 201 and posted.json()["seq"] == 3
    wait_for(lambda: ann.room_texts()[-1:] == ["over REST"], message="REST post reaching a")
    expected = [{"roomname": "lobby", "users": [{"name": n} for n in ("Ann", "Bob", "Cid")]}]
    assert rooms(a) == rooms(b) == expected
    assert [m["id"] for m in stored(a, "lobby")][0] == sent["id"]

    cid.close()
    ann.wait_for_notice("Cid has left.")
    ann.wait_for_users(["Ann", "Bob"])
    assert ann.repairs == bob.repairs == 0  # nothing was lost, nothing needed fetching


def test_a_name_is_unique_across_processes_and_a_token_shares_it(servers, members):
    a, b = servers(), servers()
    members(a.url, "Ann", "lobby", token="ann-token")
    taken = members(b.url, "ANN", "lobby", token="someone-else")
    assert taken.join_errors and "taken" in taken.join_errors[0]
    tab = members(b.url, "ann", "lobby", token="ann-token")
    assert not tab.join_errors and tab.users() == ["Ann"]
    assert rooms(a) == [{"roomname": "lobby", "users": [{"name": "Ann"}]}]


@pytest.mark.slow
def test_racing_joins_of_one_name_on_two_processes_never_both_succeed(servers):
    a, b = servers(), servers()
    clients = [socketio.Client(reconnection=False) for _ in range(2)]
    for client, server in zip(clients, (a, b), strict=True):
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        for round_ in range(30):
            room, acks, barrier = f"race-{round_}", [], threading.Barrier(2)

            def join(client, name, barrier=barrier, acks=acks, room=room):
                barrier.wait()
                acks.append(client.call("join", {"name": name, "room": room}, timeout=10))

            threads = [threading.Thread(target=join, args=(client, name))
                       for client, name in zip(clients, ("Zoe", "zoe"), strict=True)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wins = [ack for ack in acks if isinstance(ack, tuple | list) and ack[0] is None]
            assert len(wins) == 1, acks
            listed = {r["roomname"]: r["users"] for r in rooms(b)}
            assert listed[room] == [{"name": wins[0][1]["user"]["name"]}]
    finally:
        for client in clients:
            client.disconnect()


@pytest.mark.slow
def test_seq_is_gap_free_and_delivered_in_order_with_writers_on_both(servers, members):
    a, b = servers(), servers()
    readers = [members(a.url, "Reader A", "busy"), members(b.url, "Reader B", "busy")]
    writers = [members(server.url, f"Writer {i}", "busy")
               for i, server in enumerate((a, b, a, b))]
    acked: list[dict] = []

    def write(writer):
        for i in range(25):
            acked.append(writer.send(f"{writer.name} #{i}"))

    threads = [threading.Thread(target=write, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = len(writers) * 25
    assert sorted(m["seq"] for m in acked) == list(range(1, total + 1))
    assert [m["seq"] for m in stored(b, "busy")] == list(range(1, total + 1))
    for reader in readers:
        wait_for(lambda r=reader: r.contiguous() == total, message="every message")
        live = [m["seq"] for m in reader.chat_messages()]  # in the order they were handled
        assert live == sorted(live) == list(range(1, total + 1))  # seq order, no repeats
