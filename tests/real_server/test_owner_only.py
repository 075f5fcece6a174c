"""Every owner-only request, against a real `python app.py`: without the session, with a
wrong Bearer, and (for those that change something) with the session but without the
CSRF token, it is refused with 401 or 403 and a code, and nothing changed."""
from __future__ import annotations

import pytest
import requests

from tests.helpers import post_message
from tests.owner_helpers import BEARER, OWNER, PASSWORD

CHANGING = [("DELETE", "/messages/1", None), ("POST", "/bans", {"name": "Vera", "minutes": 5}),
            ("DELETE", "/bans/1", None), ("PUT", "/rooms/lobby/settings", {"locked": True}),
            ("POST", "/owner/inbox/lobby/read", None), ("DELETE", "/owner/session", None),
            ("POST", "/owner/sign-out", None)]
READING = [("GET", "/bans", None), ("GET", "/moderation-log", None),
           ("GET", "/owner/inbox", None), ("GET", "/owner/session", None)]


@pytest.fixture
def server(servers):
    # Wrong Bearers are paid for like wrong passwords: room for all of this test's.
    return servers({**OWNER, "OWNER_SIGNIN_BURST": "1000"})


def state(url) -> dict:
    """What an owner request could change, read as the owner."""
    def read(path):
        answer = requests.get(url + path, headers=BEARER, timeout=5)
        assert answer.status_code == 200, (path, answer.text)
        return answer.json()

    return {"messages": read("/messages?roomname=lobby"), "bans": read("/bans"),
            "log": read("/moderation-log"), "inbox": read("/owner/inbox")}


def test_owner_requests_without_the_owner_change_nothing(server):
    post_message(server.url, "lobby", "Vera", "a message only the owner may delete")
    made = requests.post(server.url + "/bans", json={"name": "Mallory", "minutes": 5},
                         headers=BEARER, timeout=5).json()
    assert made["id"] == 1  # so DELETE /bans/1 would lift it
    before = state(server.url)
    signed_in = requests.Session()
    assert signed_in.post(server.url + "/owner/session", json={"password": PASSWORD},
                          timeout=5).status_code == 204

    for method, path, body in CHANGING + READING:
        tries = [(requests, {}, 401, "not_signed_in"),
                 (requests, {"Authorization": "Bearer not the password"}, 401, "wrong_password")]
        if (method, path, body) in CHANGING:
            tries.append((signed_in, {}, 403, "csrf_invalid"))
            tries.append((signed_in, {"X-CSRF-Token": "forged"}, 403, "csrf_invalid"))
        for http, headers, status, code in tries:
            answer = http.request(method, server.url + path, json=body, headers=headers,
                                  timeout=5, allow_redirects=False)
            assert (answer.status_code, answer.json()["code"]) == (status, code), (
                method, path, headers, answer.text)
    assert state(server.url) == before
    assert signed_in.get(server.url + "/owner/session", timeout=5).status_code == 200
    assert post_message(server.url, "lobby", "Vera", "the room is not locked")["seq"] == 2
