"""Bans, against a real `python app.py`: the owner bans a name or a client address, in one
room or every room; the banned are removed at once with a `banned` notice while the
others stay; their joins, sends and REST posts are refused until the ban expires or
is lifted; bans survive a restart; only the owner may ban, and bad input gets a code.

Expiry is tested honestly: a real ban of a minute, whose `expires` the test then
brings forward in the server's own SQLite file, as time passing would."""
from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.clients import session_from
from tests.helpers import wait_for
from tests.owner_helpers import BEARER, OWNER, PASSWORD, owner_cookie

BAD_ADDRESS = "127.0.0.2"


def ban(server, **body):
    answer = requests.post(server.url + "/bans", json=body, headers=BEARER, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()


def in_force(server):
    answer = requests.get(server.url + "/bans", headers=BEARER, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def refusal(ack):
    assert len(ack) == 2 and ack[0], ack
    return ack[1]


def code_of(ack):
    return ack[1]["code"] if ack[0] else None


def banned_notices(client):
    return [m for m in client.events("message") if m.get("code") == "banned"]


def post(server, name, room, source=None):
    return session_from(source).post(server.url + "/messages", json={
        "username": name, "text": "hello", "roomname": room}, timeout=5)


def test_a_name_banned_from_one_room_is_removed_and_kept_out_of_it(servers, clients):
    server = servers(OWNER)
    vic = clients(server.url)
    vic.join("Vic", "porch")
    mallory = clients(server.url, source=BAD_ADDRESS)
    mallory.join("Mallory", "porch")
    wait_for(lambda: vic.last_users() == ["Vic", "Mallory"], message="both listed")

    made = ban(server, name="MALLORY", room="porch", minutes=5)  # compared as names are
    assert made["name"] == "MALLORY" and made["room"] == "porch" and "address" not in made
    assert datetime.fromisoformat(made["expires"]) > datetime.now(UTC) + timedelta(minutes=4)
    wait_for(lambda: banned_notices(mallory), message="Mallory told")
    notice = banned_notices(mallory)[0]
    assert notice["user"] == "admin" and notice["room"] == "porch"
    assert notice["params"] == {"name": "Mallory", "room": "porch", "until": made["expires"]}
    wait_for(lambda: vic.last_users() == ["Vic"], message="Mallory gone from the list")
    assert any(m.get("code") == "left" and m["params"]["names"] == ["Mallory"]
               for m in vic.events("message"))
    assert not banned_notices(vic)
    assert refusal(mallory.call("sendMessage", "still here?")) == {
        "code": "banned", "params": {"until": made["expires"]}}

    again = refusal(mallory.call("join", {"name": "mallory", "room": "porch"}))
    assert again == {"code": "banned", "params": {"until": made["expires"]}}
    answer = post(server, "Mallory", "porch")
    assert answer.status_code == 403 and answer.json()["code"] == "banned"
    # Only that room: elsewhere the name is welcome.
    assert mallory.join("Mallory", "garden")["user"]["name"] == "Mallory"
    assert post(server, "Mallory", "attic").status_code == 201
    assert vic.call("sendMessage", "still talking")[0] is None


def test_an_address_banned_everywhere_leaves_its_neighbours_alone(servers, clients):
    server = servers(OWNER)
    vic = clients(server.url)  # 127.0.0.1
    vic.join("Vic", "porch")
    eve = clients(server.url, source=BAD_ADDRESS)
    eve.join("Eve", "porch")
    wait_for(lambda: vic.last_users() == ["Vic", "Eve"], message="both listed")

    made = ban(server, address=BAD_ADDRESS, minutes=60)
    assert made["address"] == BAD_ADDRESS and "room" not in made and "name" not in made
    wait_for(lambda: banned_notices(eve), message="Eve told")
    assert banned_notices(eve)[0]["params"] == {"name": "Eve", "until": made["expires"]}
    wait_for(lambda: vic.last_users() == ["Vic"], message="Eve gone")
    assert not banned_notices(vic)

    # Another name, another room: the address is still banned, over Socket.IO and REST.
    assert refusal(eve.call("join", {"name": "NotEve", "room": "garden"}))["code"] == "banned"
    answer = post(server, "NotEve", "garden", source=BAD_ADDRESS)
    assert answer.status_code == 403 and answer.json()["code"] == "banned"
    assert post(server, "NotEve", "garden").status_code == 201  # from 127.0.0.1
    assert vic.call("sendMessage", "unharmed")[0] is None
    assert refusal(eve.call("sendMessage", "let me back"))["code"] == "banned"
    assert [b["id"] for b in in_force(server)] == [made["id"]]

    lifted = requests.delete(f"{server.url}/bans/{made['id']}", headers=BEARER, timeout=5)
    assert lifted.status_code == 204
    assert in_force(server) == []
    assert eve.join("Eve", "porch")["user"]["name"] == "Eve"
    again = requests.delete(f"{server.url}/bans/{made['id']}", headers=BEARER, timeout=5)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_every_connection_of_a_name_is_removed_and_the_owner_never_is(servers, clients):
    server = servers(OWNER)
    host = clients(server.url, headers={"Cookie": owner_cookie(server.url)})
    host.join("host", "porch")
    tabs = [clients(server.url) for _ in range(2)]
    for tab in tabs:
        tab.join("Tab", "porch", token="one-person")
    wait_for(lambda: host.last_users() == ["host", "Tab"], message="Tab listed once")

    ban(server, address="127.0.0.1", minutes=5)  # the owner's own address too
    for tab in tabs:
        wait_for(lambda tab=tab: banned_notices(tab), message="each tab told")
    wait_for(lambda: host.last_users() == ["host"], message="Tab gone")
    assert not banned_notices(host)
    assert host.call("sendMessage", "the host stays")[0] is None

    refused = requests.post(server.url + "/bans", json={"name": "HOST", "minutes": 5},
                            headers=BEARER, timeout=5)
    assert refused.status_code == 409 and refused.json()["code"] == "owner_unbannable"


def test_a_ban_expires_on_time(servers, clients, tmp_path):
    server = servers(OWNER)
    mallory = clients(server.url)
    made = ban(server, name="Mallory", minutes=1)
    assert refusal(mallory.call("join", {"name": "Mallory", "room": "porch"}))["code"] == "banned"

    # A minute passes, shortened: the ban now ends two seconds from here.
    ends = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=2)
    with sqlite3.connect(tmp_path / "chat.sqlite3") as database:
        assert database.execute("UPDATE bans SET expires_at = ? WHERE id = ?",
                                (ends.isoformat(sep=" "), made["id"])).rowcount == 1
    assert refusal(mallory.call("join", {"name": "Mallory", "room": "porch"}))["code"] == "banned"
    time.sleep(max(0.0, (ends - datetime.now(UTC).replace(tzinfo=None)).total_seconds()))
    wait_for(lambda: mallory.call("join", {"name": "Mallory", "room": "porch"})[0] is None,
             timeout=5, interval=0.2, message="welcome once the ban has expired")
    assert in_force(server) == []
    assert post(server, "Mallory", "attic").status_code == 201


def test_bans_survive_a_restart(servers, clients):
    server = servers(OWNER)
    made = ban(server, name="Mallory", room="porch", minutes=30)
    server.restart()
    assert in_force(server) == [made]
    ack = clients(server.url).call("join", {"name": "Mallory", "room": "porch"})
    assert refusal(ack)["code"] == "banned"
    assert post(server, "Mallory", "porch").status_code == 403


def test_a_ban_written_to_the_database_refuses_sends_too(servers, clients, tmp_path):
    """A ban the server did not make itself (another process, say) is read from the
    database: a connection already in the room can no longer send."""
    server = servers(OWNER)
    mallory = clients(server.url)
    mallory.join("Mallory", "porch")
    ban(server, name="Someone", minutes=5)  # makes the table
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(tmp_path / "chat.sqlite3") as database:
        database.execute(
            "INSERT INTO bans (name, room, expires_at, created_at) VALUES (?, ?, ?, ?)",
            ("Mallory", "porch", (now + timedelta(minutes=5)).isoformat(sep=" "),
             now.isoformat(sep=" ")))
    wait_for(lambda: code_of(mallory.call("sendMessage", "hi")) == "banned",
             timeout=5, interval=0.2, message="sends refused")


ACTIONS = [("post", "/bans", {"name": "Mallory", "minutes": 5}), ("get", "/bans", None),
           ("delete", "/bans/1", None)]


@pytest.mark.parametrize("method, path, body", ACTIONS)
def test_only_the_owner_bans(servers, clients, method, path, body):
    server = servers(OWNER)
    made = ban(server, name="Kept", minutes=5)
    mallory = clients(server.url)
    mallory.join("Mallory", "porch")
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 401)):
        answer = requests.request(method, server.url + path, json=body, headers=headers,
                                  timeout=5)
        assert answer.status_code == status and answer.json()["code"], answer.text
    if method != "get":  # the owner's cookie without the CSRF token
        signed_in = requests.Session()
        signed_in.post(server.url + "/owner/session", json={"password": PASSWORD}, timeout=5)
        answer = signed_in.request(method, server.url + path, json=body, timeout=5)
        assert answer.status_code == 403 and answer.json()["code"] == "csrf_invalid"
    assert in_force(server) == [made]
    assert not banned_notices(mallory)
    assert mallory.call("sendMessage", "still here")[0] is None


def test_the_owner_bans_with_the_cookie_and_csrf_token(servers):
    server = servers(OWNER)
    owner = requests.Session()
    owner.post(server.url + "/owner/session", json={"password": PASSWORD}, timeout=5)
    token = owner.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    answer = owner.post(server.url + "/bans", json={"name": "Mallory", "minutes": 5},
                        headers={"X-CSRF-Token": token}, timeout=5)
    assert answer.status_code == 201
    assert [b["name"] for b in owner.get(server.url + "/bans", timeout=5).json()["results"]] \
        == ["Mallory"]


@pytest.mark.parametrize("body, code", [
    ({"minutes": 5}, "ban_target_invalid"),
    ({"name": "Mallory", "address": BAD_ADDRESS, "minutes": 5}, "ban_target_invalid"),
    ({"name": "Mallory"}, "minutes_invalid"),
    ({"name": "Mallory", "minutes": 0}, "minutes_invalid"),
    ({"name": "Mallory", "minutes": 525601}, "minutes_invalid"),
    ({"name": "Mallory", "minutes": "5"}, "minutes_invalid"),
    ({"name": "Mallory", "minutes": 1.5}, "minutes_invalid"),
    ({"name": "Mallory", "minutes": True}, "minutes_invalid"),
    ({"name": "", "minutes": 5}, "name_invalid"),
    ({"name": "x" * 500, "minutes": 5}, "name_invalid"),
    ({"name": "Mal\u200blory", "minutes": 5}, "name_invalid"),
    ({"name": "admin", "minutes": 5}, "name_reserved"),
    ({"name": 7, "minutes": 5}, "name_invalid"),
    ({"address": "not an address", "minutes": 5}, "address_invalid"),
    ({"address": "1" * 100, "minutes": 5}, "address_invalid"),
    ({"address": None, "minutes": 5}, "address_invalid"),
    ({"name": "Mallory", "room": "", "minutes": 5}, "room_invalid"),
    ({"name": "Mallory", "minutes": 5, "reason": "spam"}, "bad_request"),
    (["Mallory"], "bad_request"),
])
def test_bad_bans_are_refused_with_a_code(servers, body, code):
    server = servers(OWNER)
    answer = requests.post(server.url + "/bans", json=body, headers=BEARER, timeout=5)
    assert 400 <= answer.status_code < 500 and answer.json()["code"] == code, answer.text
    assert in_force(server) == []


def test_bans_are_json_errors_without_an_owner(servers):
    server = servers()
    answer = requests.post(server.url + "/bans", json={"name": "Mallory", "minutes": 5},
                           timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_an_ipv6_address_is_banned_as_its_64(servers):
    server = servers(OWNER)
    assert ban(server, address="2001:db8::abcd:1", minutes=5)["address"] == "2001:db8::/64"
    assert ban(server, address="::ffff:10.0.0.1", minutes=5)["address"] == "10.0.0.1"


def test_bans_and_lifts_are_in_the_moderation_log(servers):
    server = servers(OWNER)
    made = ban(server, name="Mallory", room="porch", minutes=5)
    assert requests.delete(f"{server.url}/bans/{made['id']}", headers=BEARER,
                           timeout=5).status_code == 204
    refused = requests.post(server.url + "/bans", json={"name": "", "minutes": 5},
                            headers=BEARER, timeout=5)
    assert refused.status_code == 400
    entries = requests.get(server.url + "/moderation-log", headers=BEARER,
                           timeout=5).json()["results"]
    assert [(entry["action"], entry["subject"]) for entry in entries] == [
        ("lift_ban", made), ("ban", made)]
