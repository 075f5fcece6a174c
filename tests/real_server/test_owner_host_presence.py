"""Host presence on a real `python app.py`: `online` follows the owner's connections,
live to every visitor (`host` event), in the join ack and at GET /host, with `since`
the moment it last changed."""
from __future__ import annotations

from datetime import datetime

import requests

from tests.helpers import wait_for
from tests.owner_helpers import OWNER, owner_cookie


def host_states(client):
    return [(state["online"], state["since"]) for state in client.events("host")]


def parsed(since: str) -> datetime:
    assert since.endswith("Z")
    return datetime.fromisoformat(since.replace("Z", "+00:00"))


def test_visitors_see_the_host_come_and_go(servers, clients):
    server = servers({**OWNER, "LEAVE_GRACE_SECONDS": "0"})
    first = requests.get(server.url + "/host", timeout=5).json()
    assert first["online"] is False
    ann, bob = clients(server.url), clients(server.url, transports=("polling",))
    assert ann.join("Ann", "porch")["host"] == first
    bob.join("Bob", "garden")  # another room: the host is the whole chat's

    owner = clients(server.url, headers={"Cookie": owner_cookie(server.url)})  # /owner open
    for visitor in (ann, bob):
        wait_for(lambda visitor=visitor: host_states(visitor), message="host online")
    online = ann.events("host")[0]
    assert online["online"] is True and parsed(online["since"]) > parsed(first["since"])
    assert bob.events("host") == [online]
    assert requests.get(server.url + "/host", timeout=5).json() == online
    assert clients(server.url).join("Cid", "porch")["host"] == online

    second_tab = clients(server.url, headers={"Cookie": owner_cookie(server.url)})
    second_tab.join("host", "porch")
    second_tab.close()  # one of two: the host is still here
    ann.wait_for_text("host has left.")  # its disconnect is done (no grace on this server)
    assert requests.get(server.url + "/host", timeout=5).json() == online
    assert len(ann.events("host")) == 1

    owner.close()
    for visitor in (ann, bob):
        wait_for(lambda visitor=visitor: len(host_states(visitor)) == 2, message="host away")
    away = ann.events("host")[1]
    assert away["online"] is False and parsed(away["since"]) >= parsed(online["since"])
    assert requests.get(server.url + "/host", timeout=5).json() == away


def test_a_reload_within_the_grace_is_not_a_going(servers, clients):
    server = servers({**OWNER, "LEAVE_GRACE_SECONDS": "1"})
    ann = clients(server.url)
    ann.join("Ann", "porch")
    cookie = owner_cookie(server.url)
    page = clients(server.url, headers={"Cookie": cookie})
    wait_for(lambda: ann.events("host"), message="host online")
    page.close()  # a reload: the page comes back at once
    again = clients(server.url, headers={"Cookie": cookie})
    again.close()  # and now it is gone for good
    wait_for(lambda: len(ann.events("host")) >= 2, message="host away after the grace")
    wait_for(lambda: requests.get(server.url + "/host", timeout=5).json()["online"] is False,
             message="host away at GET /host")
    ann.call("join", {"name": "Ann", "room": "porch"})  # whatever was sent before has arrived
    # Had the reload counted, Ann would have seen away, here, away.
    assert [state["online"] for state in ann.events("host")] == [True, False]


def test_a_visitor_is_not_the_host(servers, clients):
    server = servers(OWNER)
    ann = clients(server.url)
    ann.join("Ann", "porch")
    clients(server.url).join("Bob", "porch")  # no cookie
    ann.wait_for_text("Bob has joined!")
    assert ann.events("host") == []
    assert requests.get(server.url + "/host", timeout=5).json()["online"] is False


def test_without_an_owner_there_is_no_host(servers, clients):
    server = servers()
    answer = requests.get(server.url + "/host", timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert "host" not in clients(server.url).join("Ann", "porch")
