"""Quiet reloads across two real processes on one Redis: the reload may land on the other
process, and a grace may be ended by either, even when the one that began it is gone."""
from __future__ import annotations

from tests.clients import events_until, list_is, listed, mentions, told, watch
from tests.helpers import wait_for


def test_a_reload_that_lands_on_the_other_process_is_told_nothing(servers, clients):
    a, b = servers(), servers()  # the default grace
    watcher = watch(b.url)
    ann, cid = clients(a.url), clients(a.url)
    ann.join("Ann", "lobby", token="ann-token")
    cid.join("Cid", "lobby", token="cid-token")
    events_until(watcher, list_is(["Watcher", "Ann", "Cid"]))

    ann.close()
    wait_for(lambda: "away room='lobby' name='Ann'" in a.log(), message="Ann's close")
    reloaded = clients(b.url)
    assert listed(reloaded.join("Ann", "lobby", token="ann-token")) == ["Watcher", "Ann", "Cid"]

    cid.close()  # its grace ends after Ann's would have
    seen = events_until(watcher, told("left", "Cid"))
    seen += events_until(watcher, lambda event, payload: event == "roomData")
    assert mentions(seen, "Ann") == []
    lists = [listed(payload) for event, payload in seen if event == "roomData"]
    assert lists and all("Ann" in names for names in lists), lists
    for server in (a, b):
        assert "leave room='lobby' name='Ann'" not in server.log()
    watcher.close()


def test_a_grace_ends_everywhere_even_when_its_process_died(servers, clients):
    settings = {"LEAVE_GRACE_SECONDS": "2"}
    a, b = servers(settings), servers(settings)
    watcher = watch(b.url)
    ann, bob = clients(a.url), clients(a.url)
    ann.join("Ann", "lobby", token="ann-token")
    bob.join("Bob", "lobby", token="bob-token")
    events_until(watcher, list_is(["Watcher", "Ann", "Bob"]))

    ann.close()
    seen = events_until(watcher, told("left", "Ann"))
    assert all("Ann" in listed(payload) for event, payload in seen if event == "roomData")

    bob.close()
    wait_for(lambda: "away room='lobby' name='Bob'" in a.log(), message="Bob's close")
    a.kill()  # the process that began Bob's grace will never end it
    seen = events_until(watcher, told("left", "Bob"))
    assert seen[-1][1]["text"] == "Bob has left."
    events_until(watcher, list_is(["Watcher"]))
    assert "leave room='lobby' name='Bob' (not back within its grace)" in b.log()
    watcher.close()
