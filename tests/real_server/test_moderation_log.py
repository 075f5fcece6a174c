"""The moderation log: what the owner did, newest first, for the owner only."""
from __future__ import annotations

import pytest
import requests

from comongus import moderation_log
from tests.owner_helpers import BEARER, PASSWORD


@pytest.mark.settings(OWNER_PASSWORD=PASSWORD)
def test_actions_read_back_newest_first_with_what_on_what_and_from_where(app, client):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        moderation_log.record("delete", id=12, room="porch")
        moderation_log.record("settings", room="porch", locked=True, slowModeSeconds=0)
    results = client.get("/moderation-log", headers=BEARER).get_json()["results"]
    assert [entry["action"] for entry in results] == ["settings", "delete"]
    assert results[1]["subject"] == {"id": 12, "room": "porch"}
    assert results[0]["subject"] == {"room": "porch", "locked": True, "slowModeSeconds": 0}
    assert results[0]["address"] == "192.0.2.7"
    assert results[0]["date"].endswith("Z")
    only_one = client.get("/moderation-log?limit=1", headers=BEARER).get_json()["results"]
    assert [entry["action"] for entry in only_one] == ["settings"]


@pytest.fixture
def server(servers):
    return servers({"OWNER_PASSWORD": PASSWORD})


def test_only_the_owner_reads_the_log(server):
    url = server.url + "/moderation-log"
    bare = requests.get(url, timeout=5)
    assert bare.status_code == 401 and bare.json()["code"] == "not_signed_in"
    wrong = requests.get(url, headers={"Authorization": "Bearer not it"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["code"] == "wrong_password"
    assert requests.get(url, headers=BEARER, timeout=5).json() == {"results": []}
    http = requests.Session()
    assert http.post(server.url + "/owner/session", json={"password": PASSWORD},
                     timeout=5).status_code == 204
    assert http.get(url, timeout=5).status_code == 200  # a read needs no CSRF token


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "limit=-1", "page=2"])
def test_a_bad_query_gets_a_4xx_with_a_code(server, query):
    answer = requests.get(f"{server.url}/moderation-log?{query}", headers=BEARER, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"


def test_without_an_owner_there_is_no_log(servers):
    answer = requests.get(servers().url + "/moderation-log", timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
