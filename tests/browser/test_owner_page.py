"""/owner in Chromium: the sign-in form, a wrong password said next to the field, the
signed-in page and sign-out, the inbox, the bans in force with their Lift buttons and
the moderation log, in English and Korean, and nothing axe-core objects to."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.owner_helpers import BEARER, PASSWORD


def test_the_owner_signs_in_and_out(owner_server, people):
    person = people(owner_server.url)
    person.goto("/owner")
    assert person.axe() == []
    person.page.get_by_label("Password").fill("not it")
    person.page.get_by_role("button", name="Sign in").click()
    expect(person.page.locator("#password-error")).to_have_text("Wrong password.")
    expect(person.page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert person.axe() == []
    person.page.get_by_label("Password").fill(PASSWORD)
    person.page.get_by_role("button", name="Sign in").click()
    expect(person.page.locator("main")).to_contain_text("You are signed in as host")
    assert person.axe() == []
    person.page.get_by_role("button", name="Sign out").click()
    expect(person.page.get_by_role("heading", name="Sign in as the owner")).to_be_visible()
    # The wrong password's page came with a 401, which Chromium reports; nothing else.
    assert [error for error in person.errors if "status of 401" not in error] == []
    assert person.violations() == []


def test_the_sign_in_page_speaks_korean(owner_server, people):
    person = people(owner_server.url, locale="ko-KR")
    person.goto("/owner")
    expect(person.page.get_by_role("heading", name="주인으로 로그인")).to_be_visible()
    person.page.get_by_label("비밀번호").fill("틀림")
    person.page.get_by_role("button", name="로그인").click()
    expect(person.page.locator("#password-error")).to_have_text("비밀번호가 틀렸습니다.")
    assert person.axe() == []


def test_without_a_password_the_page_does_not_exist(server, people):
    person = people(server.url)
    assert person.goto("/owner").status == 404


# The inbox ---------------------------------------------------------------------------

# Records every Notification the page constructs, and lets a test hide the page
# (headless Chromium keeps every page visible).
NOTIFICATIONS_SCRIPT = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__notifications = [];
  window.Notification = class extends Real {
    constructor(title, options = {}) {
      window.__notifications.push({ title, body: options.body });
      super(title, options);
    }
  };
  let hidden = false;
  Object.defineProperty(document, "hidden", { get: () => hidden, configurable: true });
  Object.defineProperty(document, "visibilityState",
    { get: () => (hidden ? "hidden" : "visible"), configurable: true });
  window.__hide = () => { hidden = true; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


def post(server, room, username, text):
    from tests.helpers import post_message

    post_message(server.url, room, username, text)


def entry(person, room):
    return person.page.locator("#inbox .inbox-entry", has=person.page.locator(
        "strong", has_text=room))


def test_the_inbox_lists_waiting_rooms_and_opening_one_reads_it(owner_server, people):
    post(owner_server, "inbox-porch", "Vera", "Hello?")
    post(owner_server, "inbox-porch", "Vera", "<b>Anyone</b> here?")
    post(owner_server, "inbox-garden", "Lou", "Nice page.")
    person = people(owner_server.url)
    person.sign_in_as_owner(PASSWORD)
    porch, garden = entry(person, "inbox-porch"), entry(person, "inbox-garden")
    expect(porch).to_contain_text("2 unread")
    expect(porch).to_contain_text("Vera: <b>Anyone</b> here?")  # text, never markup
    expect(garden).to_contain_text("1 unread")
    expect(garden.locator("time")).to_be_visible()
    rooms = person.page.locator("#inbox .inbox-entry strong").all_text_contents()
    assert rooms.index("inbox-garden") < rooms.index("inbox-porch")  # newest first
    assert person.axe() == []

    post(owner_server, "inbox-attic", "Max", "Written while the page is open.")
    expect(entry(person, "inbox-attic")).to_contain_text("Max: Written while the page is open.")
    rooms = person.page.locator("#inbox .inbox-entry strong").all_text_contents()
    assert rooms[0] == "inbox-attic"

    person.page.get_by_role("link", name="inbox-porch").click()
    person.page.wait_for_url("**/chat?**room=inbox-porch**")
    person.wait_joined("host")
    person.goto("/owner")
    expect(entry(person, "inbox-garden")).to_be_visible()
    expect(entry(person, "inbox-porch")).to_have_count(0)
    assert person.errors == [] and person.violations() == []


def test_the_inbox_in_korean_on_a_phone(owner_server, people):
    post(owner_server, "inbox-phone", "Vera", "A long message " * 20)
    person = people(owner_server.url, locale="ko-KR", viewport={"width": 375, "height": 740},
                    is_mobile=True, has_touch=True)
    person.sign_in_as_owner(PASSWORD)
    expect(person.page.get_by_role("heading", name="기다리는 사람")).to_be_visible()
    expect(entry(person, "inbox-phone")).to_contain_text("안 읽은 메시지 1개")
    assert person.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert person.axe() == []
    assert person.errors == []


def test_notify_me_asks_on_the_click_and_a_hidden_page_notifies(owner_server, people):
    person = people(owner_server.url)
    person.context.add_init_script(NOTIFICATIONS_SCRIPT)
    person.sign_in_as_owner(PASSWORD)
    button = person.page.get_by_role("button", name="Notify me")
    expect(button).to_be_visible()
    assert person.page.evaluate("Notification.permission") == "default"
    person.context.grant_permissions(["notifications"])  # the person says yes
    button.click()
    expect(person.page.locator("#notify-status")).to_contain_text("Notifications are on")
    expect(button).to_be_hidden()
    assert person.axe() == []

    person.page.evaluate("window.__hide()")
    post(owner_server, "inbox-night", "Nora", "Are you there?")
    notified = person.page.wait_for_function(
        "() => window.__notifications.find((n) => n.title === 'Nora in inbox-night')")
    assert notified.json_value() == {"title": "Nora in inbox-night", "body": "Are you there?"}
    assert person.errors == []


# Bans and the moderation log ------------------------------------------------------------

def ban(server, **fields):
    response = requests.post(server.url + "/bans", json=fields, headers=BEARER, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def post_message_id(server, room, username, text):
    from tests.helpers import post_message

    return post_message(server.url, room, username, text)["id"]


def bans_in_force(server):
    response = requests.get(server.url + "/bans", headers=BEARER, timeout=5)
    return response.json()["results"]


def ban_row(person, who):
    return person.page.locator("#bans li", has=person.page.locator(
        ".owner-ban-who", has_text=who))


def in_readers_time(person, iso):
    return person.page.evaluate(
        "(iso) => new Date(iso).toLocaleString(navigator.language,"
        " { dateStyle: 'medium', timeStyle: 'short' })", iso)


def test_a_ban_shows_and_lift_lifts_it(owner_server, people):
    mallory = ban(owner_server, name="Mallory", room="bans-porch", minutes=60)
    everywhere = ban(owner_server, address="203.0.113.7", minutes=30)
    refused = requests.post(owner_server.url + "/messages", json={
        "username": "Mallory", "roomname": "bans-porch", "text": "let me in"}, timeout=5)
    assert refused.status_code == 403
    person = people(owner_server.url)
    person.sign_in_as_owner(PASSWORD)
    row = ban_row(person, "Mallory")
    expect(row).to_contain_text("in room bans-porch · until "
                                + in_readers_time(person, mallory["expires"]))
    expect(ban_row(person, "address 203.0.113.7")).to_contain_text(
        "in every room · until " + in_readers_time(person, everywhere["expires"]))
    assert person.axe() == []

    # A refusal is said in words, and the ban stays with its button.
    person.page.route("**/bans/*", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": "down", "code": "storage_unavailable"}'))
    row.get_by_role("button", name="Lift").click()
    expect(person.page.get_by_role("alert")).to_have_text(
        "The ban on Mallory is not lifted: the database is not answering. "
        "Try again in a moment.")
    expect(row.get_by_role("button", name="Lift")).to_be_enabled()
    person.page.unroute("**/bans/*")

    row.get_by_role("button", name="Lift the ban on Mallory").click()
    expect(row).to_have_count(0)
    expect(person.page.locator("#bans-said")).to_have_text("The ban on Mallory is lifted.")
    assert mallory["id"] not in [found["id"] for found in bans_in_force(owner_server)]
    back = people(owner_server.url)
    back.goto("/chat?name=Mallory&room=bans-porch")
    back.wait_joined("Mallory")
    expect(person.page.locator("#log")).to_contain_text(
        "Lifted the ban on Mallory in room bans-porch.")

    # The focus went on to the next Lift; a ban lifted elsewhere just before the click
    # (here on its way to the server) is said to be over, and goes.
    expect(ban_row(person, "address 203.0.113.7").get_by_role("button")).to_be_focused()

    def lifted_elsewhere_first(route):
        requests.delete(f"{owner_server.url}/bans/{everywhere['id']}", headers=BEARER,
                        timeout=5)
        route.continue_()

    person.page.route("**/bans/*", lifted_elsewhere_first)
    person.page.keyboard.press("Enter")
    expect(person.page.locator("#bans-said")).to_have_text(
        "The ban on address 203.0.113.7 had already ended.")
    expect(person.page.locator("#bans-status")).to_have_text("Nobody is banned.")
    assert person.axe() == []
    assert [error for error in person.errors  # the refused lifts, 503 and 404
            if "status of 503" not in error and "status of 404" not in error] == []
    assert back.errors == []


def test_the_log_says_what_was_done_newest_first(owner_server, people):
    deleted = post_message_id(owner_server, "log-room", "Vera", "regrettable")
    assert requests.delete(f"{owner_server.url}/messages/{deleted}", headers=BEARER,
                           timeout=5).status_code == 204
    for settings in ({"locked": True}, {"locked": False, "slowModeSeconds": 30}):
        requests.put(f"{owner_server.url}/rooms/log-room/settings", json=settings,
                     headers=BEARER, timeout=5).raise_for_status()
    person = people(owner_server.url, color_scheme="dark")
    person.sign_in_as_owner(PASSWORD)
    log = person.page.locator("#log")
    expect(log).to_contain_text(f"Deleted message #{deleted} in room log-room.")
    expect(log).to_contain_text("Locked room log-room: only the host can write in it.")
    expect(log).to_contain_text("Unlocked room log-room.")
    expect(log).to_contain_text("Slow mode in room log-room: one message every 30 s.")

    made = ban(owner_server, name="<b>Troll</b>", room="log-room", minutes=5)  # page is open
    until = in_readers_time(person, made["expires"])
    banned = f"Banned <b>Troll</b> from room log-room until {until}."
    expect(log.locator("li").first).to_contain_text(banned)  # text, never markup
    expect(log.locator("li").first.locator("time")).to_be_visible()
    texts = log.locator(".owner-log-text").all_text_contents()
    assert texts.index(banned) < texts.index(f"Deleted message #{deleted} in room log-room.")
    expect(ban_row(person, "<b>Troll</b>")).to_be_visible()
    assert person.axe() == []
    requests.delete(f"{owner_server.url}/bans/{made['id']}", headers=BEARER, timeout=5)
    assert person.errors == []


def test_bans_and_the_log_in_korean_on_a_phone(owner_server, people):
    made = ban(owner_server, name="미나", room="phone-room", minutes=10)
    person = people(owner_server.url, locale="ko-KR", viewport={"width": 375, "height": 740},
                    is_mobile=True, has_touch=True)
    person.sign_in_as_owner(PASSWORD)
    expect(person.page.get_by_role("heading", name="적용 중인 차단")).to_be_visible()
    expect(person.page.get_by_role("heading", name="관리 기록")).to_be_visible()
    row = ban_row(person, "미나")
    expect(row).to_contain_text(
        f"phone-room 방 · {in_readers_time(person, made['expires'])}까지")
    expect(person.page.locator("#log")).to_contain_text(
        f"미나 님을 {in_readers_time(person, made['expires'])}까지 phone-room 방에서 차단했어요.")
    assert person.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert person.axe() == []
    person.page.locator("#lang-switch").select_option("en")  # both lists say it again
    expect(row).to_contain_text("in room phone-room · until")
    expect(person.page.locator("#log")).to_contain_text("Banned 미나 from room phone-room")
    person.page.locator("#lang-switch").select_option("ko")
    row.get_by_role("button", name="해제").tap()
    expect(person.page.locator("#bans-said")).to_have_text("미나 차단을 해제했어요.")
    expect(person.page.locator("#log")).to_contain_text(
        "미나 님의 phone-room 방 차단을 해제했어요.")
    assert person.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert person.axe() == []
    person.context.close()
    dark = people(owner_server.url, locale="ko-KR", viewport={"width": 375, "height": 740},
                  is_mobile=True, has_touch=True, color_scheme="dark")
    dark.sign_in_as_owner(PASSWORD)
    expect(dark.page.locator("#log li").first).to_be_visible()
    assert dark.axe() == []
    assert person.errors == [] and dark.errors == []
