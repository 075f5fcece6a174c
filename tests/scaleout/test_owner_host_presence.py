"""The owner across two processes on one Redis: a session signed in on one is the owner
on the other (one SECRET_KEY), the host is one seat, and host presence is one state
that every process's visitors hear change once, even when the owner's process dies."""
from __future__ import annotations

import requests

from tests.clients import session_from
from tests.helpers import wait_for
from tests.owner_helpers import PASSWORD, owner_cookie

SHARED = {"OWNER_PASSWORD": PASSWORD, "SECRET_KEY": "one secret for the whole cluster",
          "LEAVE_GRACE_SECONDS": "1"}


def test_host_presence_is_shared_by_every_process(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    ann, bob = clients(a.url), clients(b.url)
    ann.join("Ann", "porch")
    bob.join("Bob", "porch")
    assert requests.get(a.url + "/host", timeout=5).json()["online"] is False

    owner = clients(b.url, headers={"Cookie": owner_cookie(a.url)})  # signed in on A
    assert owner.join("anything", "porch")["user"]["name"] == "host"
    wait_for(lambda: ann.last_users() == ["Ann", "Bob", "host"], message="host listed on A")
    for visitor in (ann, bob):
        wait_for(lambda visitor=visitor: visitor.events("host"), message="host online")
    online = ann.events("host")[0]
    assert online["online"] is True and bob.events("host") == [online]
    assert requests.get(a.url + "/host", timeout=5).json() == online
    # Nobody takes the name on the other process either.
    ack = clients(a.url).call("join", {"name": "HOST", "room": "porch", "token": "t"})
    assert ack[1]["code"] == "name_reserved"

    # The owner moves to the other process within the grace: nobody sees it go.
    moved = clients(a.url, headers={"Cookie": owner_cookie(a.url)})
    owner.close()
    moved.join("host", "porch")
    moved.close()
    for visitor in (ann, bob):
        wait_for(lambda visitor=visitor: len(visitor.events("host")) == 2, message="host away")
    assert ann.events("host") == bob.events("host")
    assert ann.events("host")[1]["online"] is False
    assert requests.get(b.url + "/host", timeout=5).json() == ann.events("host")[1]


def test_the_host_goes_away_when_its_process_dies(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    ann = clients(a.url)
    ann.join("Ann", "porch")
    clients(b.url, headers={"Cookie": owner_cookie(b.url)})
    wait_for(lambda: ann.events("host"), message="host online")
    b.kill()  # no disconnect runs: the lease (2 s here) must end it
    wait_for(lambda: len(ann.events("host")) == 2, timeout=15, message="host away")
    assert ann.events("host")[1]["online"] is False
    assert requests.get(a.url + "/host", timeout=5).json()["online"] is False


def test_signing_out_on_one_process_closes_the_owners_tab_on_the_other(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    http = requests.Session()
    assert http.post(a.url + "/owner/session", json={"password": PASSWORD},
                     timeout=5).status_code == 204
    tab = clients(b.url, headers={"Cookie": "session=" + http.cookies["session"]})
    tab.join("host", "porch")
    token = http.get(a.url + "/owner/session", timeout=5).json()["csrfToken"]
    assert http.delete(a.url + "/owner/session", headers={"X-CSRF-Token": token},
                       timeout=5).status_code == 204
    assert tab.disconnected.wait(5), "the tab on the other process stays the host"
    wait_for(lambda: requests.get(b.url + "/host", timeout=5).json()["online"] is False,
             message="the host away once the tab is closed")


def test_wrong_passwords_spend_one_budget_on_every_process(servers):
    """Guessing on two processes in turn gets no more tries than on one."""
    limited = {**SHARED, "OWNER_SIGNIN_BURST": "3", "OWNER_SIGNINS_PER_MINUTE": "1"}
    a, b = servers(limited), servers(limited)
    attacker = session_from("127.0.0.2")
    answers = [attacker.post(server.url + "/owner/session", json={"password": "guess"},
                             timeout=5).status_code for server in (a, b, a, b, a, b)]
    assert answers == [401, 401, 401, 429, 429, 429]
    owner = requests.post(b.url + "/owner/session", json={"password": PASSWORD}, timeout=5)
    assert owner.status_code == 204  # another address is not locked out
