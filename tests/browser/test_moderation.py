"""Moderation in Chromium: a message the owner deletes turns into "message deleted" on
every open page and on the board, in the reader's language; a locked room says so
and disables the composer; slow mode is announced."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.owner_helpers import BEARER, PASSWORD


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


def test_a_delete_the_server_refuses_is_said_in_the_host_tools(owner_server, people):
    """The message is gone from the database behind the page's back (a restore, a
    hand edit): the host's Delete is refused, and the page says so instead of
    nothing happening."""
    import sqlite3

    vera = people(owner_server.url)
    vera.goto("/chat?name=Vera&room=vanished")
    vera.say("this row will vanish")
    host = people(owner_server.url)
    host.sign_in_as_owner(PASSWORD)
    host.goto("/chat?name=whoever&room=vanished")
    line = host.page.locator("#messages li.msg", has_text="this row will vanish")
    expect(line).to_be_visible()
    with sqlite3.connect(owner_server.workdir / "chat.sqlite3") as database:
        database.execute("DELETE FROM messages WHERE text = 'this row will vanish'")
    line.get_by_role("button", name="Delete").click()
    expect(host.page.locator("#host-tools-status")).to_have_text(
        "That is gone already: reload to see what is there now.")
    assert host.errors == []


PHONE = {"width": 375, "height": 740}



def fits_width(person):
    return person.page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_owner_bans_a_visitor_from_the_people_list(owner_server, people):
    vera = people(owner_server.url)
    vera.goto("/chat?name=Vera&room=banning")
    vera.wait_joined("Vera")
    expect(vera.page.locator("#host-tools")).to_be_hidden()  # a visitor has no controls
    host = people(owner_server.url, viewport=PHONE)
    host.sign_in_as_owner(PASSWORD)
    host.goto("/chat?name=whoever&room=banning")
    host.wait_joined("Vera")
    expect(host.page.get_by_role("button", name="Actions for host")).to_have_count(0)
    expect(vera.page.locator("#people button")).to_have_count(0)

    menu = host.page.get_by_role("button", name="Actions for Vera")
    menu.focus()
    host.page.keyboard.press("Enter")  # the keyboard opens it, and lands in it
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(host.page.get_by_label("Ban for")).to_be_focused()
    assert host.axe() == [] and fits_width(host)
    host.page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()

    menu.click()
    host.page.get_by_label("Ban for").select_option(label="1 hour")
    host.page.get_by_role("button", name="Ban from this room").click()
    expect(host.page.locator("#host-tools-status")).to_contain_text(
        "Vera is banned from #banning until")
    expect(host.page.locator("#people .person", has_text="Vera")).to_have_count(0)

    expect(vera.page.locator("#messages .notice").last).to_contain_text(
        "The host has banned you from here until")
    expect(vera.page.locator(".composer-notice")).to_contain_text("banned you")
    expect(vera.page.locator("#composer-text")).to_be_disabled()
    vera.page.reload()  # and cannot come back
    expect(vera.page).to_have_url(f"{owner_server.url}/rtcjoin?name=Vera&room=banning")
    expect(vera.page.locator("#name-error")).to_contain_text("The host has banned you")
    for person in (vera, host):
        assert person.errors == [] and person.violations() == []


def test_lock_and_slow_mode_from_the_owners_controls_reach_visitors(owner_server, people):
    lee = people(owner_server.url, locale="ko-KR")
    lee.goto("/chat?name=Lee&room=controls")
    lee.wait_joined("Lee")
    host = people(owner_server.url, viewport=PHONE)
    host.sign_in_as_owner(PASSWORD)
    host.goto("/chat?name=whoever&room=controls")
    host.wait_joined("Lee")

    toggle = host.page.get_by_role("button", name="Room settings")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    host.page.get_by_label("Locked: only the host can write").check()
    host.page.get_by_role("button", name="Save").click()
    expect(host.page.locator("#host-tools-status")).to_have_text("The room's settings are saved.")
    expect(lee.page.locator(".composer-notice")).to_have_text(
        "이 방은 잠겨 있어 호스트만 쓸 수 있습니다.")
    expect(lee.page.locator("#composer-text")).to_be_disabled()
    expect(host.page.locator("#composer-text")).to_be_enabled()  # the host still writes
    assert host.axe() == [] and fits_width(host)

    host.page.get_by_label("Locked: only the host can write").uncheck()
    host.page.get_by_label("Slow mode").select_option(label="30 s")
    host.page.get_by_role("button", name="Save").click()
    expect(lee.page.locator(".composer-notice")).to_have_text(
        "슬로 모드: 30초에 한 번 보낼 수 있습니다.")
    expect(lee.page.locator("#composer-text")).to_be_enabled()

    host.page.locator("#lang-switch").select_option("ko")  # the controls speak Korean too
    expect(host.page.get_by_role("button", name="방 설정")).to_be_visible()
    expect(host.page.get_by_role("button", name="Lee 님 관리")).to_be_visible()
    expect(host.page.get_by_label("슬로 모드")).to_have_value("30")
    assert host.axe() == []
    host.page.locator("#lang-switch").select_option("en")

    host.context.clear_cookies()  # signed out meanwhile: the refusal in words
    host.page.get_by_role("button", name="Save").click()
    expect(host.page.locator("#host-tools-status")).to_have_text(
        "You are not signed in as the owner any more: sign in again at /owner.")
    assert lee.errors == [] and lee.violations() == [] and host.violations() == []
    assert all("status of 401" in error for error in host.errors)  # the refused request


def test_an_open_board_turns_a_deleted_message_into_a_tombstone(owner_server, people):
    from tests.helpers import post_message

    post_message(owner_server.url, "boarded", "Ann", "this one stays")
    doomed = post_message(owner_server.url, "boarded", "Bob", "this one goes")
    reader = people(owner_server.url, locale="ko-KR")
    reader.goto("/")  # every room: no socket hears the deletion, the polls must
    entry = reader.page.locator(f'.board-entry[data-id="{doomed["id"]}"]')
    expect(entry).to_contain_text("this one goes")

    assert requests.delete(f"{owner_server.url}/messages/{doomed['id']}", headers=BEARER,
                           timeout=5).status_code == 204
    expect(entry.locator(".board-text")).to_have_text("삭제된 메시지입니다")
    expect(reader.page.locator("#board")).not_to_contain_text("this one goes")
    expect(reader.page.locator(".board-entry", has_text="this one stays")).to_have_count(1)
    assert reader.page.locator(".board-entry").count() == len(
        set(reader.page.locator(".board-entry").evaluate_all("es => es.map(e => e.dataset.id)")))
    assert reader.errors == [] and reader.violations() == [] and reader.axe() == []
