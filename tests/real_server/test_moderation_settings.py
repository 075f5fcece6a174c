"""A room's settings, against a real `python app.py`: the owner locks a room (only the
owner may send) or turns on slow mode (one message per that many seconds for
everyone else), over Socket.IO and REST alike; the room is told, the join ack
carries them, and they survive a restart."""
from __future__ import annotations

import pytest
import requests

from tests.helpers import wait_for
from tests.owner_helpers import BEARER, PASSWORD, listening, owner_http

ROOM = "porch"


@pytest.fixture
def server(servers):
    return servers({"OWNER_PASSWORD": PASSWORD})


def put(url, body, headers=BEARER, room=ROOM):
    return requests.put(f"{url}/rooms/{room}/settings", json=body, headers=headers, timeout=5)


def post(url, username, text):
    return requests.post(url + "/messages", json={"username": username, "text": text,
                                                 "roomname": ROOM}, headers={}, timeout=5)


def host_client(server, clients):
    cookie = "session=" + owner_http(server.url).cookies["session"]
    host = clients(server.url, headers={"Cookie": cookie})
    host.join("host", ROOM)
    return host


def test_a_locked_room_takes_messages_from_the_owner_only(server, clients):
    vera = listening(clients(server.url))
    assert vera.join("Vera", ROOM)["settings"] == {"locked": False, "slowModeSeconds": 0}
    host = host_client(server, clients)

    answer = put(server.url, {"locked": True})
    assert answer.status_code == 200
    assert answer.json() == {"room": ROOM, "locked": True, "slowModeSeconds": 0}
    wait_for(lambda: vera.events("roomSettings")
             == [{"room": ROOM, "locked": True, "slowModeSeconds": 0}], message="roomSettings")

    refused = vera.call("sendMessage", "let me in")
    assert refused[0] and refused[1]["code"] == "room_locked"
    over_rest = post(server.url, "Walter", "me too")
    assert over_rest.status_code == 403 and over_rest.json()["code"] == "room_locked"
    assert host.call("sendMessage", "only me")[0] is None
    owner_post = requests.post(server.url + "/messages", json={
        "username": "host", "text": "and me", "roomname": ROOM}, headers=BEARER, timeout=5)
    assert owner_post.status_code == 201
    assert clients(server.url).join("Wes", ROOM)["settings"]["locked"] is True
    other_room = clients(server.url)
    other_room.join("Ola", "elsewhere")
    assert other_room.call("sendMessage", "not locked here")[0] is None

    assert put(server.url, {"locked": False}).json()["locked"] is False
    assert vera.call("sendMessage", "open again")[0] is None
    texts = [m["text"] for m in requests.get(server.url + "/messages", params={
        "roomname": ROOM}, timeout=5).json()["results"]]
    assert texts == ["only me", "and me", "open again"]
    log = requests.get(server.url + "/moderation-log", headers=BEARER, timeout=5).json()
    assert [(e["action"], e["subject"]["locked"]) for e in log["results"]] == [
        ("room_settings", False), ("room_settings", True)]


def test_slow_mode_lets_one_message_through_per_wait_except_the_owners(server, clients):
    vera = listening(clients(server.url))
    vera.join("Vera", ROOM)
    host = host_client(server, clients)
    assert put(server.url, {"slowModeSeconds": 600}).json() == {
        "room": ROOM, "locked": False, "slowModeSeconds": 600}
    wait_for(lambda: vera.events("roomSettings"), message="roomSettings")

    assert vera.call("sendMessage", "first")[0] is None
    refused = vera.call("sendMessage", "second")
    assert refused[0] and refused[1]["code"] == "slow_mode"
    assert 1 <= refused[1]["params"]["retryAfter"] <= 600
    assert post(server.url, "Walter", "someone else").status_code == 201
    over_rest = post(server.url, "walter", "again")  # the wait is the name's, in any case
    assert over_rest.status_code == 429 and over_rest.json()["code"] == "slow_mode"
    assert 1 <= int(over_rest.headers["Retry-After"]) <= 600
    for text in ("host one", "host two", "host three"):
        assert host.call("sendMessage", text)[0] is None

    assert put(server.url, {"slowModeSeconds": 0}).status_code == 200
    assert vera.call("sendMessage", "free again")[0] is None


def test_settings_survive_a_restart(server, clients):
    assert put(server.url, {"locked": True, "slowModeSeconds": 30}).status_code == 200
    server.restart()
    vera = clients(server.url)
    assert vera.join("Vera", ROOM)["settings"] == {"locked": True, "slowModeSeconds": 30}
    assert vera.call("sendMessage", "still locked?")[1]["code"] == "room_locked"


def test_nobody_but_the_owner_changes_settings(server, clients):
    bare = put(server.url, {"locked": True}, headers={})
    assert bare.status_code == 401 and bare.json()["code"] == "not_signed_in"
    wrong = put(server.url, {"locked": True}, headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_password"
    cookie_only = owner_http(server.url)
    token = cookie_only.headers.pop("X-CSRF-Token")
    no_csrf = cookie_only.put(f"{server.url}/rooms/{ROOM}/settings", json={"locked": True},
                              timeout=5)
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf_invalid"
    vera = clients(server.url)
    assert vera.join("Vera", ROOM)["settings"]["locked"] is False  # nothing changed
    assert vera.call("sendMessage", "still open")[0] is None
    assert requests.get(server.url + "/moderation-log", headers=BEARER,
                        timeout=5).json()["results"] == []
    with_csrf = cookie_only.put(f"{server.url}/rooms/{ROOM}/settings", json={"locked": True},
                                headers={"X-CSRF-Token": token}, timeout=5)
    assert with_csrf.status_code == 200 and with_csrf.json()["locked"] is True


@pytest.mark.parametrize("body", [
    {}, [], "locked", {"locked": "yes"}, {"locked": 1}, {"slowModeSeconds": -1},
    {"slowModeSeconds": 3601}, {"slowModeSeconds": 1.5}, {"slowModeSeconds": True},
    {"slowModeSeconds": "10"}, {"colour": "red"}])
def test_bad_settings_get_a_4xx_with_a_code_and_change_nothing(server, body):
    answer = put(server.url, body)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request", answer.text
    not_json = requests.put(f"{server.url}/rooms/{ROOM}/settings", data="locked=true",
                            headers=BEARER, timeout=5)
    assert not_json.status_code == 400 and not_json.json()["code"] == "bad_request"
    too_long = put(server.url, {"locked": True}, room="r" * 300)
    assert too_long.status_code == 400 and too_long.json()["code"] == "room_invalid"
    assert requests.get(server.url + "/moderation-log", headers=BEARER,
                        timeout=5).json()["results"] == []


def test_a_resend_of_a_message_stored_before_is_acked_not_refused(server, clients):
    vera = clients(server.url)
    vera.join("Vera", ROOM)
    assert put(server.url, {"slowModeSeconds": 600}).status_code == 200
    first = vera.call("sendMessage", {"text": "once", "clientId": "c-1"})[1]
    # Its ack was lost, say: the web client's outbox sends it again with its clientId.
    assert vera.call("sendMessage", {"text": "once", "clientId": "c-1"}) == (None, first)
    assert put(server.url, {"locked": True}).status_code == 200
    assert vera.call("sendMessage", {"text": "once", "clientId": "c-1"}) == (None, first)
    refused = vera.call("sendMessage", {"text": "new", "clientId": "c-2"})
    assert refused[1]["code"] == "room_locked"
    texts = [m["text"] for m in requests.get(server.url + "/messages", params={
        "roomname": ROOM}, timeout=5).json()["results"]]
    assert texts == ["once"]
