"""A big room served by two processes on one Redis: each keeps the room's list as text
from its own joins, and the other's joins and leaves change the room under it. Every
ack and every `roomData` still list exactly who is in, in the order they came; a
list one process announces reaches the other's members through Redis."""
from __future__ import annotations

import requests

from comongus.member_lists import KEEP_FROM_NAMES
from tests.clients import RawMember, events_until, list_is, watch
from tests.helpers import wait_for


def names_in(users: list[dict]) -> list[str]:
    return [user["name"] for user in users]


def room_names(url: str) -> list[str]:
    rooms = requests.get(url + "/rooms", timeout=5).json()["results"]
    return next((names_in(room["users"]) for room in rooms if room["roomname"] == "hall"), [])


def test_a_room_changed_by_the_other_process_is_listed_right(servers):
    first, second = servers(), servers()
    watcher = watch(first.url, "hall")
    people = {}
    expected = ["Watcher"]

    def join(server, name):
        people[name] = RawMember(server.url, name, "hall")
        assert people[name].join_error is None, people[name].join_error
        expected.append(name)
        assert names_in(people[name].join_ack["users"]) == expected

    for number in range(KEEP_FROM_NAMES):
        join(first, f"a{number}")
    join(second, "Bee")  # in the middle of the first process's list
    for number in range(KEEP_FROM_NAMES, KEEP_FROM_NAMES + 10):
        join(first, f"a{number}")

    people.pop("Bee").close()  # leaves through the second process
    expected.remove("Bee")
    wait_for(lambda: room_names(second.url) == expected, message="Bee gone")
    join(second, "Cee")
    join(second, "Dee")
    join(first, "Eve")  # the first process's kept list has Bee, and is shorter
    events_until(watcher, list_is(expected))
    for person in people.values():
        person.close()
