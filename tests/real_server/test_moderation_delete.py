"""Deleting a message, against a real `python app.py`: the owner deletes over REST or
Socket.IO; every client in the room is told at once; every reader (history, a
`since` replay, GET /messages, the board) sees a tombstone in its place, so `seq`
stays whole; the text is gone from the database; nobody else can delete."""
from __future__ import annotations

import sqlite3

import pytest
import requests

from tests.helpers import wait_for
from tests.owner_helpers import BEARER, PASSWORD, listening, owner_http

ROOM = "porch"


def room_board(url) -> list[dict]:
    return requests.get(url + "/messages", params={"roomname": ROOM}, timeout=5).json()["results"]


def tombstone_at(seq, message_id):
    return {"id": message_id, "seq": seq, "deleted": True, "text": ""}


@pytest.fixture
def server(servers):
    return servers({"OWNER_PASSWORD": PASSWORD})


def test_a_deleted_message_vanishes_everywhere_and_seq_stays_whole(server, clients, tmp_path):
    alice = listening(clients(server.url))
    bob = listening(clients(server.url))
    alice.join("Alice", ROOM)
    bob.join("Bob", ROOM)
    sent = [alice.call("sendMessage", text)[1] for text in ("one", "the bad one", "three")]
    doomed = sent[1]
    assert room_board(server.url)[1]["text"] == "the bad one"  # the board is read (and kept)

    answer = requests.delete(f"{server.url}/messages/{doomed['id']}", headers=BEARER, timeout=5)
    assert answer.status_code == 204
    for client in (alice, bob):  # every open client is told, live
        wait_for(lambda client=client: client.events("messageDeleted")
                 == [{"id": doomed["id"], "room": ROOM}], message="messageDeleted")

    board = room_board(server.url)
    assert [m["seq"] for m in board] == [1, 2, 3]
    assert board[1] == {**tombstone_at(2, doomed["id"]), "username": "", "roomname": ROOM,
                        "date": doomed["date"]}
    assert [m["text"] for m in board] == ["one", "", "three"]
    every_room = requests.get(server.url + "/messages", timeout=5).json()["results"]
    assert [m.get("deleted", False) for m in every_room] == [False, True, False]

    carol = clients(server.url)
    history = carol.join("Carol", ROOM)["history"]
    assert [m["seq"] for m in history] == [1, 2, 3]
    assert history[1] == {
        **tombstone_at(2, doomed["id"]), "user": "", "room": ROOM, "date": doomed["date"]}
    replay = clients(server.url).join("Dora", ROOM, since=1)["history"]
    assert [(m["seq"], m.get("deleted", False)) for m in replay] == [(2, True), (3, False)]

    with sqlite3.connect(tmp_path / "chat.sqlite3") as database:
        texts = [row[0] for row in database.execute("SELECT text FROM messages ORDER BY id")]
    assert texts == ["one", "", "three"]  # overwritten, not hidden

    log = requests.get(server.url + "/moderation-log", headers=BEARER, timeout=5).json()
    assert log["results"][0]["action"] == "delete"
    assert log["results"][0]["subject"] == {"id": doomed["id"], "room": ROOM}


def test_deleting_twice_is_done_once_and_an_unknown_id_is_404(server, clients):
    alice = clients(server.url)
    alice.join("Alice", ROOM)
    message = alice.call("sendMessage", "oops")[1]
    url = f"{server.url}/messages/{message['id']}"
    assert requests.delete(url, headers=BEARER, timeout=5).status_code == 204
    assert requests.delete(url, headers=BEARER, timeout=5).status_code == 204
    log = requests.get(server.url + "/moderation-log", headers=BEARER, timeout=5).json()
    assert [entry["action"] for entry in log["results"]] == ["delete"]
    unknown = requests.delete(f"{server.url}/messages/{message['id'] + 1000}",
                              headers=BEARER, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    for bad in ("0", "abc", "99999999999999999999"):
        answer = requests.delete(f"{server.url}/messages/{bad}", headers=BEARER, timeout=5)
        assert 400 <= answer.status_code < 500 and answer.json()["code"], bad


def test_nobody_but_the_owner_can_delete(server, clients):
    alice = listening(clients(server.url))
    alice.join("Alice", ROOM)
    message = alice.call("sendMessage", "mine")[1]
    url = f"{server.url}/messages/{message['id']}"
    bare = requests.delete(url, timeout=5)
    assert bare.status_code == 401 and bare.json()["code"] == "not_signed_in"
    wrong = requests.delete(url, headers={"Authorization": "Bearer guess"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_password"
    cookie_only = owner_http(server.url)
    del cookie_only.headers["X-CSRF-Token"]
    no_csrf = cookie_only.delete(url, timeout=5)
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf_invalid"
    refused = alice.call("deleteMessage", {"id": message["id"]})
    assert refused[0] and refused[1]["code"] == "forbidden"
    assert room_board(server.url)[0]["text"] == "mine"  # nothing changed
    assert alice.events("messageDeleted") == []
    assert requests.get(server.url + "/moderation-log", headers=BEARER,
                        timeout=5).json()["results"] == []

    assert owner_http(server.url).delete(url, timeout=5).status_code == 204  # cookie + CSRF
    assert room_board(server.url)[0]["deleted"] is True


def test_the_owner_deletes_over_socketio(server, clients):
    alice = listening(clients(server.url))
    alice.join("Alice", ROOM)
    message = alice.call("sendMessage", "take it back")[1]
    cookie = "session=" + owner_http(server.url).cookies["session"]
    host = listening(clients(server.url, headers={"Cookie": cookie}))
    host.join("host", ROOM)
    assert host.call("deleteMessage", {"id": "x"})[1]["code"] == "bad_request"
    assert host.call("deleteMessage", {"id": message["id"] + 99})[1]["code"] == "not_found"
    assert host.call("deleteMessage", {"id": message["id"]}) == (None, None)
    wait_for(lambda: alice.events("messageDeleted") == [{"id": message["id"], "room": ROOM}],
             message="messageDeleted")
    assert room_board(server.url)[0]["deleted"] is True
