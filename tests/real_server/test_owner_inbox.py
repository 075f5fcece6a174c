"""The owner's inbox against a real `python app.py`: rooms with unread messages, newest
first, with counts; the owner's own messages never unread; a room read by the owner's
join, by writing in it, by sitting in it, or by `POST /owner/inbox/<room>/read`; kept
across a restart; and nothing for anyone but the owner."""
from __future__ import annotations

import requests

from tests.helpers import post_message, wait_for
from tests.owner_helpers import BEARER, OWNER, PASSWORD


def inbox(url) -> list[tuple[str, int, str]]:
    answer = requests.get(url + "/owner/inbox", headers=BEARER, timeout=5)
    assert answer.status_code == 200, answer.text
    return [(row["roomname"], row["unread"], row["latest"]["text"])
            for row in answer.json()["results"]]


def signed_in(url) -> requests.Session:
    """Signed in, without the CSRF header owner_http adds (some tests leave it out)."""
    http = requests.Session()
    assert http.post(url + "/owner/session", json={"password": PASSWORD},
                     timeout=5).status_code == 204
    return http


def test_rooms_with_unread_messages_newest_first_and_read_on_request(servers, database_url):
    server = servers({**OWNER, "DATABASE_URL": database_url})
    post_message(server.url, "porch", "Vera", "Hello?")
    post_message(server.url, "porch", "Vera", "Anyone here?")
    post_message(server.url, "garden", "Lou", "Nice page.")
    requests.post(server.url + "/messages", headers=BEARER, timeout=5, json={
        "username": "host", "text": "Thanks!", "roomname": "garden"}).raise_for_status()
    post_message(server.url, "garden", "Lou", "You are welcome.")
    assert inbox(server.url) == [("garden", 1, "You are welcome."),
                                 ("porch", 2, "Anyone here?")]
    row = requests.get(server.url + "/owner/inbox", headers=BEARER, timeout=5).json()["results"][0]
    assert row["latest"]["username"] == "Lou" and row["latest"]["date"].endswith("Z")
    assert isinstance(row["latest"]["id"], int)

    http = signed_in(server.url)
    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    assert http.post(server.url + "/owner/inbox/porch/read", timeout=5,
                     headers={"X-CSRF-Token": token}).status_code == 204
    assert inbox(server.url) == [("garden", 1, "You are welcome.")]
    post_message(server.url, "porch", "Vera", "Back again.")
    assert inbox(server.url) == [("porch", 1, "Back again."), ("garden", 1, "You are welcome.")]

    server.restart()
    assert inbox(server.url) == [("porch", 1, "Back again."), ("garden", 1, "You are welcome.")]


def test_a_deleted_message_is_not_waiting(servers):
    server = servers(OWNER)
    post_message(server.url, "porch", "Vera", "Hello?")
    spam = post_message(server.url, "porch", "Spammer", "Buy now")
    post_message(server.url, "cellar", "Spammer", "Buy now")
    cellar_spam = requests.get(server.url + "/messages?roomname=cellar", timeout=5).json()
    assert inbox(server.url) == [("cellar", 1, "Buy now"), ("porch", 2, "Buy now")]
    for message_id in (spam["id"], cellar_spam["results"][0]["id"]):
        assert requests.delete(f"{server.url}/messages/{message_id}", headers=BEARER,
                               timeout=5).status_code == 204
    assert inbox(server.url) == [("porch", 1, "Hello?")]


def test_the_owner_reads_a_room_by_joining_it_and_while_in_it(servers, clients):
    server = servers(OWNER)
    post_message(server.url, "porch", "Vera", "Hello?")
    post_message(server.url, "garden", "Lou", "Hi.")
    cookie = "session=" + signed_in(server.url).cookies["session"]
    host = clients(server.url, headers={"Cookie": cookie})
    host.join("host", "porch")
    wait_for(lambda: inbox(server.url) == [("garden", 1, "Hi.")], message="porch read on join")
    post_message(server.url, "porch", "Vera", "Oh, you are here.")
    post_message(server.url, "garden", "Lou", "Still here?")
    wait_for(lambda: [room for room, *_ in inbox(server.url)] == ["garden"],
             message="garden unread, porch read while the host sits in it")
    assert inbox(server.url) == [("garden", 2, "Still here?")]


def test_only_the_owner_sees_or_marks_the_inbox(servers):
    server = servers(OWNER)
    post_message(server.url, "porch", "Vera", "Hello?")
    assert requests.get(server.url + "/owner/inbox", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not it"}
    assert requests.get(server.url + "/owner/inbox", headers=wrong, timeout=5).status_code == 401
    assert requests.post(server.url + "/owner/inbox/porch/read", timeout=5).status_code == 401
    http = signed_in(server.url)
    # The cookie without the page's CSRF token: refused, and nothing marked.
    answer = http.post(server.url + "/owner/inbox/porch/read", timeout=5)
    assert answer.status_code == 403 and answer.json()["code"] == "csrf_invalid"
    assert http.get(server.url + "/owner/inbox", timeout=5).json()["results"][0]["unread"] == 1
    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    too_long = "x" * 65
    answer = http.post(server.url + f"/owner/inbox/{too_long}/read", timeout=5,
                       headers={"X-CSRF-Token": token})
    assert answer.status_code == 400 and answer.json()["code"] == "room_invalid"
    assert inbox(server.url) == [("porch", 1, "Hello?")]


def test_without_an_owner_there_is_no_inbox(servers):
    server = servers()
    assert requests.get(server.url + "/owner/inbox", timeout=5).status_code == 404
