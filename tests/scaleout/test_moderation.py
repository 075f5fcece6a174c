"""Moderation across two processes on one Redis and one PostgreSQL: a delete asked of
one process reaches the room's clients on both and reads as a tombstone from both;
a lock or slow mode set on one holds on the other."""
from __future__ import annotations

import requests

from tests.helpers import wait_for
from tests.owner_helpers import listening

PASSWORD = "one owner, two processes"
BEARER = {"Authorization": f"Bearer {PASSWORD}"}
SHARED = {"OWNER_PASSWORD": PASSWORD, "SECRET_KEY": "one secret for the whole cluster"}


def test_a_delete_reaches_both_processes(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    ann, bob = listening(clients(a.url)), listening(clients(b.url))
    ann.join("Ann", "porch")
    bob.join("Bob", "porch")
    message = ann.call("sendMessage", "regrettable")[1]
    assert requests.delete(f"{b.url}/messages/{message['id']}", headers=BEARER,
                           timeout=5).status_code == 204
    for visitor in (ann, bob):
        wait_for(lambda visitor=visitor: visitor.events("messageDeleted")
                 == [{"id": message["id"], "room": "porch"}], message="messageDeleted")
    for server, name in ((a, "Cal"), (b, "Dee")):
        board = requests.get(server.url + "/messages", params={"roomname": "porch"},
                             timeout=5).json()["results"]
        assert [(m["seq"], m["text"], m.get("deleted")) for m in board] == [(1, "", True)]
        replay = clients(server.url).join(name, "porch", since=0)["history"]
        assert [(m["seq"], m.get("deleted")) for m in replay] == [(1, True)]


def test_settings_set_on_one_process_hold_on_the_other(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    ann, bob = listening(clients(a.url)), listening(clients(b.url))
    ann.join("Ann", "porch")
    bob.join("Bob", "porch")
    assert requests.put(f"{a.url}/rooms/porch/settings", json={"locked": True},
                        headers=BEARER, timeout=5).status_code == 200
    wait_for(lambda: bob.events("roomSettings")
             == [{"room": "porch", "locked": True, "slowModeSeconds": 0}],
             message="roomSettings on B")
    assert bob.call("sendMessage", "locked out")[1]["code"] == "room_locked"
    assert clients(b.url).join("Cal", "porch")["settings"]["locked"] is True

    assert requests.put(f"{b.url}/rooms/porch/settings",
                        json={"locked": False, "slowModeSeconds": 600},
                        headers=BEARER, timeout=5).status_code == 200
    wait_for(lambda: len(ann.events("roomSettings")) == 2, message="roomSettings on A")
    assert ann.call("sendMessage", "first")[0] is None
    # The same name through the other process waits too: the wait is shared in Redis.
    walter = {"username": "Walter", "text": "hi", "roomname": "porch"}
    assert requests.post(a.url + "/messages", json=walter, timeout=5).status_code == 201
    again = requests.post(b.url + "/messages", json=walter, timeout=5)
    assert again.status_code == 429 and again.json()["code"] == "slow_mode"
    assert ann.call("sendMessage", "second")[1]["code"] == "slow_mode"
