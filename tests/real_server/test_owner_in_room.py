"""The host in the room, against a real `python app.py`: a Socket.IO connection with the
owner's session cookie joins as OWNER_NAME; nobody else can take that name or a
look-alike, over Socket.IO or REST, whatever the token; the host's list entry and
messages (live, in history, over REST) carry `host: true`."""
from __future__ import annotations

import pytest
import requests

from tests.helpers import wait_for
from tests.owner_helpers import BEARER, OWNER, owner_cookie


def refusal_code(ack):
    assert len(ack) == 2 and ack[0], ack
    return ack[1]["code"]


def test_the_owner_joins_as_the_host_and_is_marked(servers, clients):
    server = servers(OWNER)
    visitor = clients(server.url)
    visitor.join("Vera", "porch")
    host = clients(server.url, headers={"Cookie": owner_cookie(server.url)})
    joined = host.join("whatever it sends", "porch")
    assert joined["user"]["name"] == "host"
    assert {"name": "host", "host": True} in joined["users"]
    assert {"name": "Vera"} in joined["users"]  # visitors carry no host field
    wait_for(lambda: visitor.last_users() == ["Vera", "host"], message="host listed")
    assert visitor.events("roomData")[-1]["users"][1] == {"name": "host", "host": True}

    error, sent = host.call("sendMessage", "Welcome, I wrote this page.")
    assert error is None and sent["user"] == "host" and sent["host"] is True
    wait_for(lambda: [m for m in visitor.chat_messages() if m.get("host")],
             message="the host's message, live")
    visitor.call("sendMessage", "Hi!")
    later = clients(server.url).join("Lou", "porch")
    assert [(m["user"], m.get("host")) for m in later["history"]] == [
        ("host", True), ("Vera", None)]
    rows = requests.get(server.url + "/messages?roomname=porch", timeout=5).json()["results"]
    assert [(row["username"], row.get("host")) for row in rows] == [("host", True), ("Vera", None)]
    rooms = requests.get(server.url + "/rooms", timeout=5).json()["results"]
    assert {"name": "host", "host": True} in rooms[0]["users"]


def test_two_owner_tabs_share_one_seat(servers, clients):
    server = servers(OWNER)
    cookie = owner_cookie(server.url)
    visitor = clients(server.url)
    visitor.join("Vera", "porch")
    clients(server.url, headers={"Cookie": cookie}).join("host", "porch")
    second = clients(server.url, headers={"Cookie": cookie}).join("host", "porch")
    assert [user["name"] for user in second["users"]] == ["Vera", "host"]


@pytest.mark.parametrize("name, code", [
    ("host", "name_reserved"),
    ("Host", "name_reserved"),
    ("ＨＯＳＴ", "name_reserved"),  # fullwidth
    ("hоst", "name_reserved"),  # a Cyrillic o
    ("HOSt", "name_reserved"),
    ("ho\u200bst", "name_invalid"),  # a zero-width space: no name may hold one
])
def test_nobody_else_takes_the_host_name(servers, clients, name, code):
    server = servers(OWNER)
    visitor = clients(server.url)
    ack = visitor.call("join", {"name": name, "room": "porch", "token": "a-token-of-mine"})
    assert refusal_code(ack) == code
    answer = requests.post(server.url + "/messages", json={
        "username": name, "text": "I am the host", "roomname": "porch"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == code
    assert requests.get(server.url + "/messages", timeout=5).json()["results"] == []


def test_a_handshake_from_another_origin_is_not_the_owner(servers, clients):
    server = servers(OWNER)
    forged = clients(server.url, transports=("polling",), headers={
        "Cookie": owner_cookie(server.url), "Origin": "http://evil.example"})
    assert refusal_code(forged.call("join", {"name": "host", "room": "porch"})) == "name_reserved"
    assert forged.join("Mallory", "porch")["user"]["name"] == "Mallory"


def test_the_host_posts_over_rest_with_bearer_only(servers):
    server = servers(OWNER)
    post = {"username": "Host", "text": "From a script", "roomname": "porch"}
    wrong = requests.post(server.url + "/messages", json=post,
                          headers={"Authorization": "Bearer guess"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_password"
    # The cookie alone does not do it (it would need CSRF): REST speaks as the host with Bearer.
    cookie = requests.post(server.url + "/messages", json=post,
                           headers={"Cookie": owner_cookie(server.url)}, timeout=5)
    assert cookie.status_code == 400 and cookie.json()["code"] == "name_reserved"
    assert requests.get(server.url + "/messages", timeout=5).json()["results"] == []
    stored = requests.post(server.url + "/messages", json=post, headers=BEARER, timeout=5)
    assert stored.status_code == 201
    assert (stored.json()["username"], stored.json()["host"]) == ("host", True)


def test_without_an_owner_host_is_an_ordinary_name(servers, clients):
    server = servers()
    joined = clients(server.url).join("Host", "porch")
    assert joined["users"] == [{"name": "Host"}]
    answer = requests.post(server.url + "/messages", json={
        "username": "host", "text": "hi", "roomname": "other"}, timeout=5)
    assert answer.status_code == 201 and "host" not in answer.json()


@pytest.mark.parametrize("name, why", [("admin", "is reserved"), ("x" * 33, "too long"),
                                       ("ho\u200bst", "invisible")])
def test_an_owner_name_nobody_could_take_stops_the_start(servers, name, why):
    with pytest.raises(AssertionError, match=f"OWNER_NAME.*{why}"):
        servers({**OWNER, "OWNER_NAME": name})


def test_the_owner_name_is_configurable(servers, clients):
    server = servers({**OWNER, "OWNER_NAME": " Mina "})
    host = clients(server.url, headers={"Cookie": owner_cookie(server.url)})
    assert host.join("", "porch")["user"]["name"] == "Mina"
    ack = clients(server.url).call("join", {"name": "MINA", "room": "porch"})
    assert refusal_code(ack) == "name_reserved"
