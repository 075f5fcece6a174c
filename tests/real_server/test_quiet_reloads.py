"""Quiet reloads, on a real `python app.py`: a name whose last connection ends and comes
back with its token within LEAVE_GRACE_SECONDS is told neither as leaving nor as
joining and never drops out of the list; a real departure is told once the grace
ends; an explicit `leave`, a move and a name without a token are told at once.

The watcher (tests/clients.py) reads a raw WebSocket, so what it saw is in the order
the server wrote it.
"""
from __future__ import annotations

import pytest
import requests

from tests.clients import events_until, list_is, listed, mentions, told, watch
from tests.helpers import wait_for


def test_a_reload_within_the_grace_is_told_neither_as_leaving_nor_as_joining(servers,
                                                                           clients):
    server = servers()  # the default grace
    watcher = watch(server.url)
    ann, cid = clients(server.url), clients(server.url)
    ann.join("Ann", "lobby", token="ann-token")
    cid.join("Cid", "lobby", token="cid-token")
    events_until(watcher, list_is(["Watcher", "Ann", "Cid"]))

    ann.close()  # the page goes...
    wait_for(lambda: "away room='lobby' name='Ann'" in server.log(), message="Ann's close")
    reloaded = clients(server.url)  # ...and comes back with its token
    joined = reloaded.join("Ann", "lobby", token="ann-token")
    assert listed(joined) == ["Watcher", "Ann", "Cid"]
    wait_for(lambda: reloaded.texts() == ["Ann, welcome to room lobby."], message="welcome")

    # Cid goes for good after Ann went: once Cid is told as leaving, Ann's grace has
    # ended too, and anything it would have said has been written before.
    cid.close()
    seen = events_until(watcher, told("left", "Cid"))
    seen += events_until(watcher, lambda event, payload: event == "roomData")
    assert mentions(seen, "Ann") == []
    lists = [listed(payload) for event, payload in seen if event == "roomData"]
    assert lists and all("Ann" in names for names in lists), lists
    assert lists[-1] == ["Watcher", "Ann"]
    assert "leave room='lobby' name='Ann'" not in server.log()
    watcher.close()


def test_a_departure_is_told_once_the_grace_ends(servers, clients):
    server = servers({"LEAVE_GRACE_SECONDS": "2"})
    watcher = watch(server.url)
    ann = clients(server.url)
    ann.join("Ann", "lobby", token="ann-token")
    events_until(watcher, list_is(["Watcher", "Ann"]))

    ann.close()
    wait_for(lambda: "away room='lobby' name='Ann'" in server.log(), message="Ann's close")
    rooms = requests.get(server.url + "/rooms", timeout=5).json()["results"]
    assert rooms == [{"roomname": "lobby", "users": [{"name": "Watcher"}, {"name": "Ann"}]}]
    taken = clients(server.url).call("join", {"name": "Ann", "room": "lobby"})
    assert taken[1]["code"] == "name_taken"  # still hers during the grace

    seen = events_until(watcher, told("left", "Ann"))
    notice = seen[-1][1]
    assert (notice["text"], notice["params"]) == ("Ann has left.", {"names": ["Ann"]})
    assert all("Ann" in listed(payload) for event, payload in seen if event == "roomData")
    events_until(watcher, list_is(["Watcher"]))
    assert "leave room='lobby' name='Ann' (not back within its grace)" in server.log()
    assert clients(server.url).call("join", {"name": "Ann", "room": "lobby"})[0] is None
    watcher.close()


@pytest.mark.parametrize("how", ["leave", "move", "no token"])
def test_a_meant_departure_is_told_at_once(servers, clients, how):
    """With a minute's grace, the watcher's 20 s read would time out were it applied."""
    server = servers({"LEAVE_GRACE_SECONDS": "60"})
    watcher = watch(server.url)
    ann = clients(server.url)
    ann.join("Ann", "lobby", **({} if how == "no token" else {"token": "ann-token"}))
    events_until(watcher, list_is(["Watcher", "Ann"]))
    if how == "leave":
        assert ann.call("leave") == (None,)
    elif how == "move":
        ann.join("Ann", "kitchen", token="ann-token")
    else:
        ann.close()
    seen = events_until(watcher, told("left", "Ann"))
    assert seen[-1][1]["text"] == "Ann has left."
    events_until(watcher, list_is(["Watcher"]))
    watcher.close()
