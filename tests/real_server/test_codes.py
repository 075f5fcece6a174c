"""Codes on the wire (contract v1.1): what a client that translates reads, from a real
`python app.py`, through python-socketio and over HTTP. Every notice from `admin`
carries `code` and `params`; every refusal keeps its English sentence first and adds
`{code, params}`; every REST error body has a `code`."""
from __future__ import annotations

import sqlite3

import pytest
import requests

from tests.helpers import wait_for


def refusal(ack):
    """An error ack's (sentence, code, params); fails on a success or a v1-only ack."""
    assert len(ack) == 2 and isinstance(ack[0], str) and ack[0], ack
    assert set(ack[1]) == {"code", "params"}, ack
    return ack[0], ack[1]["code"], ack[1]["params"]


def notices(client):
    return [m for m in client.events("message") if m["user"] == "admin"]


def test_welcome_joined_and_left_carry_codes_and_params(servers, clients):
    server = servers()
    ann, bob = clients(server.url), clients(server.url)
    ann.join("Ann", "lobby")
    wait_for(lambda: notices(ann), message="Ann's welcome")
    welcome = notices(ann)[0]
    assert welcome["text"] == "Ann, welcome to room lobby."  # v1 clients read this
    assert (welcome["code"], welcome["params"]) == ("welcome", {"name": "Ann", "room": "lobby"})

    bob.join("  Bob ", "lobby")
    ann.wait_for_text("Bob has joined!")
    bob.close()
    ann.wait_for_text("Bob has left.")
    assert [(m["text"], m["code"], m["params"]) for m in notices(ann)[1:]] == [
        ("Bob has joined!", "joined", {"names": ["Bob"]}),
        ("Bob has left.", "left", {"names": ["Bob"]}),
    ]
    assert all(m["id"] is None and m["seq"] is None for m in notices(ann))


def test_a_burst_names_everyone_in_one_notice(servers, clients):
    server = servers({"ROOMDATA_INTERVAL": "1"})
    watcher = clients(server.url)
    watcher.join("Watcher", "hall")
    people = [clients(server.url) for _ in range(6)]
    for number, person in enumerate(people):
        person.join(f"P{number}", "hall")

    def named():
        return sorted(name for notice in notices(watcher) if notice["code"] == "joined"
                      for name in notice["params"]["names"])

    wait_for(lambda: named() == [f"P{number}" for number in range(6)], message="all named")
    burst = [notice for notice in notices(watcher) if notice["code"] == "joined"
             and len(notice["params"]["names"]) > 1][-1]
    names = burst["params"]["names"]
    assert burst["text"] == ", ".join(names[:-1]) + f" and {names[-1]} have joined!"


def test_a_big_burst_names_everyone_in_params_and_the_first_ten_in_its_text(servers, clients):
    """A v1 client shows `text`: a burst into a big room must stay one readable line."""
    server = servers({"ROOMDATA_INTERVAL": "3"})
    watcher = clients(server.url)
    watcher.join("Watcher", "hall")
    wait_for(lambda: watcher.last_users() == ["Watcher"], message="the watcher's list")
    people = [clients(server.url) for _ in range(14)]
    for number, person in enumerate(people):
        person.join(f"P{number:02}", "hall")

    wait_for(lambda: any(len(notice["params"].get("names", [])) == 14
                         for notice in notices(watcher)), timeout=15, message="one burst of 14")
    burst = [notice for notice in notices(watcher) if notice["code"] == "joined"][-1]
    assert burst["params"] == {"names": [f"P{number:02}" for number in range(14)]}
    assert burst["text"] == ", ".join(f"P{number:02}" for number in range(10)) + (
        " and 4 others have joined!")


@pytest.mark.parametrize("payload, code, params", [
    ({"name": "", "room": "lobby"}, "name_invalid", {"problem": "required"}),
    ({"name": "N" * 33, "room": "lobby"}, "name_invalid", {"problem": "too_long", "max": 32}),
    ({"name": "Ann\u200b", "room": "lobby"}, "name_invalid",
     {"problem": "invisible", "character": "U+200B"}),
    ({"name": "Аdmin", "room": "lobby"}, "name_reserved", {"name": "Аdmin"}),  # Cyrillic А
    ({"name": "Ann", "room": " "}, "room_invalid", {"problem": "required"}),
    ({"name": "Ann", "room": "r" * 65}, "room_invalid", {"problem": "too_long", "max": 64}),
    ({"name": "Ann", "room": "lobby", "since": "x"}, "bad_request", {}),
])
def test_a_refused_join_says_why_in_a_code(servers, clients, payload, code, params):
    server = servers()
    client = clients(server.url, ["polling"])
    sentence, got_code, got_params = refusal(client.call("join", payload))
    assert (got_code, got_params) == (code, params), sentence
    assert requests.get(server.url + "/rooms", timeout=5).json()["results"] == []


def test_a_taken_name_is_named_in_the_code(servers, clients):
    server = servers()
    clients(server.url).join("Alice", "lobby", token="hers")
    sentence, code, params = refusal(clients(server.url).call(
        "join", {"name": "ＡＬＩＣＥ", "room": "lobby", "token": "not hers"}))
    assert sentence == "The name 'Alice' is taken in this room."
    assert (code, params) == ("name_taken", {"name": "Alice"})


@pytest.mark.parametrize("payload, code, params", [
    ("", "text_empty", {}),
    ({"text": " \u200b\n"}, "text_empty", {}),
    ("x" * 2001, "text_too_long", {"max": 2000}),
    ({"text": "hi", "clientId": ""}, "bad_request", {}),
])
def test_a_refused_message_says_why_in_a_code(servers, clients, payload, code, params):
    server = servers()
    client = clients(server.url)
    client.join("Ann", "lobby")
    sentence, got_code, got_params = refusal(client.call("sendMessage", payload))
    assert (got_code, got_params) == (code, params), sentence
    assert requests.get(server.url + "/messages", timeout=5).json()["results"] == []


def test_sending_before_joining_is_not_joined(servers, clients):
    server = servers()
    sentence, code, params = refusal(clients(server.url).call("sendMessage", "hello?"))
    assert sentence == "Join a room first." and (code, params) == ("not_joined", {})


def test_going_too_fast_is_rate_limited_for_sends_and_joins(servers, clients):
    server = servers({"SEND_BURST": "2", "SEND_RATE_PER_SECOND": "0.01",
                      "EVENT_BUDGET_BURST": "10", "EVENT_BUDGET_PER_SECOND": "0.01"})
    client = clients(server.url)
    client.join("Ann", "lobby")
    sends = [client.call("sendMessage", f"m{number}") for number in range(3)]
    assert [ack[0] for ack in sends[:2]] == [None, None]
    assert refusal(sends[2])[1:] == ("rate_limited", {})
    client.join("Ann", "kitchen")  # the second join spends the rest of the budget
    sentence, code, params = refusal(client.call("join", {"name": "Ann", "room": "lobby"}))
    assert "too fast" in sentence and (code, params) == ("rate_limited", {})


def test_a_database_that_fails_is_storage_unavailable(servers, clients, tmp_path):
    server = servers()
    client = clients(server.url)
    client.join("Ann", "lobby")
    with sqlite3.connect(tmp_path / "chat.sqlite3") as database:
        database.execute("DROP TABLE messages")
    sentence, code, params = refusal(client.call("sendMessage", "lost"))
    assert "could not be stored" in sentence and (code, params) == ("storage_unavailable", {})
    sentence, code, _ = refusal(clients(server.url).call("join", {"name": "Bob", "room": "x"}))
    assert "unavailable" in sentence and code == "storage_unavailable"
    posted = requests.post(server.url + "/messages", timeout=5,
                           json={"username": "Cid", "text": "hi", "roomname": "lobby"})
    assert posted.status_code == 503 and posted.json()["code"] == "storage_unavailable"
    read = requests.get(server.url + "/messages", timeout=5)
    assert read.status_code == 503 and read.json()["code"] == "storage_unavailable"


def rest(method, url, **options):
    answer = requests.request(method, url, timeout=5, **options)
    assert answer.headers["Content-Type"] == "application/json", answer.text
    return answer.status_code, answer.json()


GOOD = {"username": "Ann", "text": "hello", "roomname": "lobby"}


@pytest.mark.parametrize("method, path, options, status, code", [
    ("POST", "/messages", {"json": {**GOOD, "text": "  "}}, 400, "text_empty"),
    ("POST", "/messages", {"json": {**GOOD, "text": "t" * 2001}}, 400, "text_too_long"),
    ("POST", "/messages", {"json": {**GOOD, "username": "u" * 33}}, 400, "name_invalid"),
    ("POST", "/messages", {"json": {**GOOD, "username": "ADMIN"}}, 400, "name_reserved"),
    ("POST", "/messages", {"json": {**GOOD, "roomname": ""}}, 400, "room_invalid"),
    ("POST", "/messages", {"json": {**GOOD, "colour": "red"}}, 400, "bad_request"),
    ("POST", "/messages", {"data": "{not json", "headers": {
        "Content-Type": "application/json"}}, 400, "bad_request"),
    ("POST", "/messages", {"json": {**GOOD, "text": "x" * 70000}}, 413, "body_too_large"),
    ("GET", "/messages?limit=0", {}, 400, "bad_request"),
    ("GET", "/messages?roomname=" + "r" * 65, {}, 400, "room_invalid"),
    ("GET", "/messages/12", {}, 404, "not_found"),
    ("PUT", "/rooms", {}, 405, "method_not_allowed"),
    ("DELETE", "/messages", {}, 405, "method_not_allowed"),
])
def test_every_rest_error_has_a_code(servers, method, path, options, status, code):
    server = servers()
    got_status, body = rest(method, server.url + path, **options)
    assert (got_status, body["code"]) == (status, code), body
    assert isinstance(body["error"], str) and body["error"]
    assert requests.get(server.url + "/messages", timeout=5).json()["results"] == []


def test_rest_codes_for_a_held_name_and_a_flood_of_posts(servers, clients):
    server = servers({"REST_POST_BURST": "2", "REST_POSTS_PER_SECOND": "0.01"})
    clients(server.url).join("Ann", "lobby", token="anns")
    status, body = rest("POST", server.url + "/messages", json=GOOD)
    assert (status, body["code"], body["params"]) == (409, "name_taken", {"name": "Ann"})
    assert rest("POST", server.url + "/messages", json={**GOOD, "username": "Bo"})[0] == 201
    status, body = rest("POST", server.url + "/messages", json={**GOOD, "username": "Bo"})
    assert (status, body["code"]) == (429, "rate_limited")


def test_too_many_new_sessions_is_rate_limited(servers):
    server = servers({"HANDSHAKE_BURST": "1", "HANDSHAKES_PER_SECOND": "0.01"})
    url = server.url + "/socket.io/?EIO=4&transport=polling"
    assert requests.get(url, timeout=5).status_code == 200
    refused = requests.get(url, timeout=5)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
