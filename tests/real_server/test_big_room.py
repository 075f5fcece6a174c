"""A room of over a hundred, against a real `python app.py`: past the size whose list the
server keeps as text, every join's ack and every `roomData` still list exactly who is
in, in the order they came, the host marked, through joins, leaves and joins again."""
from __future__ import annotations

import requests

from comongus.member_lists import KEEP_FROM_NAMES
from tests.clients import RawMember, events_until, list_is, watch
from tests.owner_helpers import OWNER, owner_cookie

ROOM_SIZE = 2 * KEEP_FROM_NAMES + 10
OPEN = {"MAX_CONNECTIONS_PER_ADDRESS": "0", "HANDSHAKES_PER_SECOND": "0"}


def names_in(users: list[dict]) -> list[str]:
    return [user["name"] for user in users]


def test_a_big_room_lists_everyone_in_order_through_joins_and_leaves(servers):
    server = servers({**OWNER, **OPEN})
    watcher = watch(server.url, "hall")
    expected = ["Watcher"]
    people = []
    for number in range(ROOM_SIZE):
        if number == KEEP_FROM_NAMES + 3:  # the host comes in among them
            host = RawMember(server.url, "host", "hall",
                             header=[f"Cookie: {owner_cookie(server.url)}"])
            expected.append("host")
            assert names_in(host.join_ack["users"]) == expected
        person = RawMember(server.url, f"person {number} «{'é' * (number % 3)}»", "hall")
        assert person.join_error is None, person.join_error
        expected.append(f"person {number} «{'é' * (number % 3)}»")
        assert names_in(person.join_ack["users"]) == expected
        people.append(person)
    last = events_until(watcher, list_is(expected))[-1][1]
    assert {"name": "host", "host": True} in last["users"]
    assert sum("host" in user for user in last["users"]) == 1

    leaving = [people[0], people[KEEP_FROM_NAMES], people[-1]]
    for person in leaving:
        person.close()
    staying = [name for name in expected if name not in
               {f"person {number} «{'é' * (number % 3)}»"
                for number in (0, KEEP_FROM_NAMES, ROOM_SIZE - 1)}]
    events_until(watcher, list_is(staying))

    late = RawMember(server.url, "Late", "hall")
    assert names_in(late.join_ack["users"]) == staying + ["Late"]
    events_until(watcher, list_is(staying + ["Late"]))
    rooms = requests.get(server.url + "/rooms", timeout=5).json()["results"]
    assert [names_in(room["users"]) for room in rooms] == [staying + ["Late"]]
    for person in people:
        person.close()
    host.close()
