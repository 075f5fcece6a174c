"""/owner in Chromium: the sign-in form, a wrong password said next to the field, the
signed-in page and sign-out, in English and Korean, and nothing axe-core objects to."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

PASSWORD = "a long owner password"


@pytest.fixture(scope="module")
def owner_server(tmp_path_factory):
    from tests.helpers import server_processes

    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("owner-server"), {"OWNER_PASSWORD": PASSWORD})


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


def sign_in(person, password_label="Password", button="Sign in"):
    person.goto("/owner")
    person.page.get_by_label(password_label).fill(PASSWORD)
    person.page.get_by_role("button", name=button).click()


def entry(person, room):
    return person.page.locator("#inbox .inbox-entry", has=person.page.locator(
        "strong", has_text=room))


def test_the_inbox_lists_waiting_rooms_and_opening_one_reads_it(owner_server, people):
    post(owner_server, "inbox-porch", "Vera", "Hello?")
    post(owner_server, "inbox-porch", "Vera", "<b>Anyone</b> here?")
    post(owner_server, "inbox-garden", "Lou", "Nice page.")
    person = people(owner_server.url)
    sign_in(person)
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
    sign_in(person, "비밀번호", "로그인")
    expect(person.page.get_by_role("heading", name="기다리는 사람")).to_be_visible()
    expect(entry(person, "inbox-phone")).to_contain_text("안 읽은 메시지 1개")
    assert person.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert person.axe() == []
    assert person.errors == []


def test_notify_me_asks_on_the_click_and_a_hidden_page_notifies(owner_server, people):
    person = people(owner_server.url)
    person.context.add_init_script(NOTIFICATIONS_SCRIPT)
    sign_in(person)
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
