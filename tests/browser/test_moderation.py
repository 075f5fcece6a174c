"""Moderation in Chromium: a message the owner deletes turns into "message deleted" on
every open page and on the board, in the reader's language; a locked room says so
and disables the composer; slow mode is announced."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

PASSWORD = "the moderator's password"
BEARER = {"Authorization": f"Bearer {PASSWORD}"}


@pytest.fixture(scope="module")
def owner_server(tmp_path_factory):
    from tests.helpers import server_processes

    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("moderation-server"), {"OWNER_PASSWORD": PASSWORD})


def test_a_deleted_message_vanishes_from_every_open_page(owner_server, people):
    vera = people(owner_server.url)
    vera.goto("/chat?name=Vera&room=deleting")
    wes = people(owner_server.url, locale="ko-KR")
    wes.goto("/chat?name=Wes&room=deleting")
    vera.say("a secret I regret")
    for person in (vera, wes):
        expect(person.page.locator("#messages")).to_contain_text("a secret I regret")
    stored = requests.get(owner_server.url + "/messages", params={"roomname": "deleting"},
                          timeout=5).json()["results"]
    message_id = stored[-1]["id"]

    assert requests.delete(f"{owner_server.url}/messages/{message_id}", headers=BEARER,
                           timeout=5).status_code == 204
    expect(vera.page.locator(f'#messages li[data-id="{message_id}"]')).to_have_text(
        "message deleted")
    expect(wes.page.locator(f'#messages li[data-id="{message_id}"]')).to_have_text(
        "삭제된 메시지입니다")
    for person in (vera, wes):
        expect(person.page.locator("#messages")).not_to_contain_text("a secret I regret")

    board = people(owner_server.url)
    board.goto("/?room=deleting")
    expect(board.page.locator(f'.board-entry[data-id="{message_id}"] .board-text')).to_have_text(
        "message deleted")
    for person in (vera, wes, board):
        assert person.errors == []


def test_a_locked_room_and_slow_mode_show_in_the_composer(owner_server, people):
    vera = people(owner_server.url)
    vera.goto("/chat?name=Vera&room=locking")
    expect(vera.page.locator("#people")).to_contain_text("Vera")
    notice = vera.page.locator(".composer-notice")
    expect(notice).to_be_hidden()

    assert requests.put(f"{owner_server.url}/rooms/locking/settings", json={"locked": True},
                        headers=BEARER, timeout=5).status_code == 200
    expect(notice).to_have_text("This room is locked: only the host can write in it.")
    expect(vera.page.locator("#composer-text")).to_be_disabled()

    requests.put(f"{owner_server.url}/rooms/locking/settings",
                 json={"locked": False, "slowModeSeconds": 30}, headers=BEARER, timeout=5)
    expect(notice).to_have_text("Slow mode: one message every 30 s.")
    expect(vera.page.locator("#composer-text")).to_be_enabled()

    late = people(owner_server.url, locale="ko-KR")  # the join ack carries the settings
    late.goto("/chat?name=Lee&room=locking")
    expect(late.page.locator(".composer-notice")).to_have_text(
        "슬로 모드: 30초에 한 번 보낼 수 있습니다.")
    for person in (vera, late):
        assert person.errors == []


def test_the_owner_deletes_from_the_chat_view(owner_server, people):
    vera = people(owner_server.url)
    vera.goto("/chat?name=Vera&room=menu")
    vera.say("delete me please")
    host = people(owner_server.url)
    host.sign_in_as_owner(PASSWORD)
    host.goto("/chat?name=whoever&room=menu")
    line = host.page.locator("#messages li.msg", has_text="delete me please")
    line.get_by_role("button", name="Delete").click()
    for person in (vera, host):
        expect(person.page.locator("#messages")).not_to_contain_text("delete me please")
        expect(person.page.locator("#messages li.msg-deleted")).to_have_text("message deleted")
    expect(vera.page.locator("#messages button", has_text="Delete")).to_have_count(0)
    for person in (vera, host):
        assert person.errors == []
