"""The nudge against a real `python app.py` and a real HTTP receiver started here: a POST
with {room, user, text, date, url} once per room per NOTIFY_INTERVAL for a burst; none
while the host is online; a receiver that holds the request does not hold the chat;
a dead one costs one log line per room per interval."""
from __future__ import annotations

import re

import pytest
import requests

from tests.helpers import free_port, post_message, wait_for
from tests.owner_helpers import PASSWORD, Receiver


@pytest.fixture
def receiver():
    opened = []

    def open_receiver(hold=False):
        opened.append(Receiver(hold))
        return opened[-1]

    yield open_receiver
    for one in opened:
        one.close()


def settings(url, **more):
    return {"OWNER_PASSWORD": PASSWORD, "NOTIFY_URL": url, "LEAVE_GRACE_SECONDS": "0", **more}


def test_a_burst_nudges_once_per_room_with_the_fields(servers, receiver):
    nudges = receiver()
    server = servers(settings(nudges.url))
    for text in ("Hello?", "Anyone?", "I will wait.", "Still here.", "Bye."):
        post_message(server.url, "porch", "Vera", text)
    post_message(server.url, "garden", "Lou", "Nice page.")
    wait_for(lambda: "garden" in nudges.rooms(), timeout=10, message="garden's nudge")
    post_message(server.url, "porch", "Vera", "One more.")
    post_message(server.url, "cellar", "Max", "Hi.")
    wait_for(lambda: "cellar" in nudges.rooms(), timeout=10, message="cellar's nudge")
    assert sorted(nudges.rooms()) == ["cellar", "garden", "porch"]
    porch = nudges.bodies[nudges.rooms().index("porch")]
    assert set(porch) == {"room", "user", "text", "date", "url"}
    assert (porch["user"], porch["text"]) == ("Vera", "Hello?")
    assert porch["date"].endswith("Z")
    assert porch["url"] == server.url + "/chat?room=porch"
    assert nudges.headers[0]["Content-Type"] == "application/json"


def test_no_nudge_while_the_host_is_online_nor_for_the_host(servers, clients, receiver):
    nudges = receiver()
    server = servers(settings(nudges.url))
    http = requests.Session()
    assert http.post(server.url + "/owner/session", json={"password": PASSWORD},
                     timeout=5).status_code == 204
    host = clients(server.url, headers={"Cookie": "session=" + http.cookies["session"]})
    wait_for(lambda: requests.get(server.url + "/host", timeout=5).json()["online"],
             message="the host online")
    post_message(server.url, "porch", "Vera", "Are you there?")
    host.close()
    wait_for(lambda: not requests.get(server.url + "/host", timeout=5).json()["online"],
             message="the host away")
    requests.post(server.url + "/messages", timeout=5,
                  headers={"Authorization": f"Bearer {PASSWORD}"},
                  json={"username": "host", "text": "Back soon", "roomname": "attic"})
    post_message(server.url, "garden", "Lou", "Hello?")
    wait_for(lambda: nudges.rooms(), timeout=10, message="a nudge")
    assert nudges.rooms() == ["garden"]


def test_a_receiver_that_does_not_answer_does_not_hold_the_chat(servers, clients, receiver):
    nudges = receiver(hold=True)
    server = servers(settings(nudges.url))
    vera = clients(server.url)
    vera.join("Vera", "porch")
    error, first = vera.call("sendMessage", "Hello?")
    assert error is None
    wait_for(lambda: nudges.bodies, timeout=10, message="the nudge, held by the receiver")
    # The receiver still holds the nudge: the chat goes on regardless.
    error, second = vera.call("sendMessage", "Anyone?")
    assert error is None and second["seq"] == first["seq"] + 1
    wait_for(lambda: "Anyone?" in vera.texts(), message="the broadcast")
    assert requests.get(server.url + "/messages?roomname=porch", timeout=5).status_code == 200
    assert not nudges.released.is_set() and len(nudges.bodies) == 1


def test_a_dead_endpoint_costs_one_log_line_per_room_per_interval(servers, clients):
    closed = f"http://127.0.0.1:{free_port()}/nudge"
    server = servers(settings(closed))
    vera = clients(server.url)
    vera.join("Vera", "porch")
    for text in ("one", "two", "three"):
        assert vera.call("sendMessage", text)[0] is None

    def failures(room):
        return server.full_log().count(f"NOTIFY_URL failed for room {room!r}")

    wait_for(lambda: failures("porch"), timeout=20, message="porch's failure, logged")
    for text in ("four", "five"):
        assert vera.call("sendMessage", text)[0] is None
    post_message(server.url, "garden", "Lou", "Hello?")
    wait_for(lambda: failures("garden"), timeout=20, message="garden's failure, logged")
    assert failures("porch") == 1


@pytest.mark.parametrize("form, key", [("slack", "text"), ("discord", "content")])
def test_slack_and_discord_get_their_own_body(servers, receiver, form, key):
    nudges = receiver()
    server = servers(settings(nudges.url, NOTIFY_FORMAT=form))
    post_message(server.url, "porch", "Vera", "Hello?")
    wait_for(lambda: nudges.bodies, timeout=10, message="the nudge")
    assert nudges.bodies == [{key: f"Vera in porch: Hello?\n{server.url}/chat?room=porch"}]


@pytest.mark.parametrize("env, says", [
    ({"NOTIFY_URL": "ftp://example.org"}, "NOTIFY_URL must be an http(s) URL"),
    ({"NOTIFY_INTERVAL": "0"}, "NOTIFY_INTERVAL must be at least 1"),
    ({"NOTIFY_FORMAT": "xml"}, "NOTIFY_FORMAT must be one of json, slack, discord"),
])
def test_a_bad_notify_setting_stops_the_start(env, says):
    from comongus.config import SettingError, load_config

    with pytest.raises(SettingError, match=re.escape(says)):
        load_config(env, "/tmp")


def test_the_nudge_under_gevent_too(servers, clients, receiver):
    nudges = receiver(hold=True)
    server = servers(settings(nudges.url, SERVER="gevent"))
    assert "(gevent)" in server.log(), server.log()
    vera = clients(server.url)
    vera.join("Vera", "porch")
    assert vera.call("sendMessage", "Hello?")[0] is None
    wait_for(lambda: nudges.bodies, timeout=10, message="the nudge, held by the receiver")
    error, sent = vera.call("sendMessage", "Anyone?")
    assert error is None and sent["text"] == "Anyone?"
    assert not nudges.released.is_set() and nudges.rooms() == ["porch"]
