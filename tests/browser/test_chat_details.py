"""The details of the chat panel people expect: links, unread count, the composer on
phones, bottom-anchored messages, "your own" bubbles, counters, scroll-back."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message, stored_texts

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
# Lets a test hide the tab the way switching to another one does.
HIDEABLE_TAB = """
Object.defineProperty(Document.prototype, "hidden", { get() { return Boolean(window.__hidden); } });
Object.defineProperty(Document.prototype, "visibilityState", {
  get() { return window.__hidden ? "hidden" : "visible"; } });
window.__setHidden = (hidden) => {
  window.__hidden = hidden;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


def open_chat(server, people, room, name, size="desktop", **options):
    person = people(server.url, **{**SIZES[size], **options})
    person.goto(f"/chat?name={name}&room={room}")
    person.wait_joined(name)
    return person


def test_links_are_clickable_and_safe(server, people, size):
    room = f"links-{size}"
    text = ("see https://example.com/a_(b)?q=1&r=2, or http://example.org/x. "
            "Not javascript:alert(1) nor data:text/html,hi nor ftp://example.net")
    post_message(server.url, room, "Bot", text)
    ann = open_chat(server, people, room, "Ann", size)
    message = ann.page.locator("#messages li.msg .msg-text")
    expect(message).to_have_text(text)  # the text itself is unchanged
    links = message.locator("a")
    expect(links).to_have_count(2)
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        "https://example.com/a_(b)?q=1&r=2", "http://example.org/x"]
    for i in range(2):
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
        expect(links.nth(i)).to_have_attribute("target", "_blank")
    with ann.page.expect_popup() as popup:
        links.nth(0).click()
    assert popup.value.evaluate("window.opener") is None
    assert ann.dialogs == [] and ann.errors == [] and ann.violations() == []


def test_markup_around_a_link_stays_text(server, people):
    room = "link-markup"
    text = 'https://example.com/"><img src=x onerror=alert(1)>'
    post_message(server.url, room, "Bot", text)
    ann = open_chat(server, people, room, "Ann")
    message = ann.page.locator("#messages li.msg .msg-text")
    expect(message).to_have_text(text)
    expect(message.locator("a")).to_have_attribute("href", "https://example.com/")
    assert ann.page.locator("#messages img").count() == 0 and ann.dialogs == []


def test_unread_count_in_the_title_while_the_tab_is_hidden(server, people, size):
    room = f"unread-{size}"
    ann = open_chat(server, people, room, "Ann", size)
    bob = open_chat(server, people, room, "Bob")
    ann.context.add_init_script(HIDEABLE_TAB)
    ann.page.reload()
    ann.wait_joined("Bob")
    expect(ann.page).to_have_title(f"#{room} · ComongUS")

    ann.page.evaluate("window.__setHidden(true)")
    bob.say("one")
    bob.say("two")
    expect(ann.page.locator("#messages li.msg", has_text="two")).to_be_visible()
    expect(ann.page).to_have_title(f"(2) #{room} · ComongUS")
    ann.say("mine does not count")  # (a second tab of hers could send while this one hides)
    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_text("sent")
    expect(ann.page).to_have_title(f"(2) #{room} · ComongUS")

    ann.page.evaluate("window.__setHidden(false)")
    expect(ann.page).to_have_title(f"#{room} · ComongUS")
    bob.say("seen at once")
    expect(ann.page.locator("#messages li.msg", has_text="seen at once")).to_be_visible()
    expect(ann.page).to_have_title(f"#{room} · ComongUS")


def test_the_composer_fits_the_device(server, people, size):
    ann = open_chat(server, people, f"composer-{size}", "Ann", size)
    box = ann.page.locator("#composer-text")
    expect(box).to_have_attribute("enterkeyhint", "send")
    if size == "phone":
        expect(box).to_have_attribute("placeholder", "Message")
    else:
        expect(box).to_have_attribute("placeholder", "Type a message (Enter sends, Shift+Enter "
                                      "for a new line)")
    ann.page.locator("#lang-switch").select_option("ko")
    expect(box).to_have_attribute("placeholder", "메시지" if size == "phone" else
                                  "메시지를 입력하세요 (Enter로 보내기, Shift+Enter로 줄바꿈)")
    # The placeholder is not cut: it fits in the box.
    assert box.evaluate("""box => { const c = document.createElement("canvas").getContext("2d");
        c.font = getComputedStyle(box).font;
        return c.measureText(box.placeholder).width < box.clientWidth; }""")


def test_the_composer_hint_is_never_cut_in_a_narrow_panel(server, people):
    # /intro at desktop size: a keyboard, but the chat beside the text is narrow.
    ann = people(server.url, **SIZES["desktop"])
    ann.goto("/intro")
    ann.page.locator("#join-name").fill("Ann")
    ann.page.locator("#join-form button[type=submit]").click()
    ann.wait_joined("Ann")
    box = ann.page.locator("#composer-text")
    for language in ("en", "ko"):
        ann.page.locator("#lang-switch").select_option(language)
        assert box.evaluate("""box => { const c = document.createElement("canvas").getContext("2d");
            c.font = getComputedStyle(box).font;
            return c.measureText(box.placeholder).width < box.clientWidth; }"""), (
            box.get_attribute("placeholder"))


def test_few_messages_sit_at_the_bottom_next_to_the_composer(server, people, size):
    room = f"anchored-{size}"
    post_message(server.url, room, "Bot", "the only message")
    ann = open_chat(server, people, room, "Ann", size)
    message = ann.page.locator("#messages li.msg", has_text="the only message").bounding_box()
    welcome = ann.page.locator("#messages li.notice").last.bounding_box()
    log = ann.page.locator("#log-scroll").bounding_box()
    gap_below = log["y"] + log["height"] - (welcome["y"] + welcome["height"])
    assert gap_below < 30, gap_below
    assert message["y"] - log["y"] > 100  # the room is above the messages


def test_own_bubbles_are_what_this_browser_sent_not_any_message_under_the_name(
        server, people, size):
    room = f"own-{size}"
    post_message(server.url, room, "Ann", "an old Ann, over REST")
    ann = open_chat(server, people, room, "Ann", size)
    old = ann.page.locator("#messages li.msg", has_text="an old Ann")
    expect(old).to_be_visible()
    expect(old).not_to_have_class("msg own")
    ann.say("sent from this browser")
    mine = ann.page.locator("#messages li.msg", has_text="sent from this browser")
    expect(mine).to_have_class("msg own")

    ann.page.reload()  # remembered per room in this browser
    ann.wait_joined("Ann")
    expect(mine).to_have_class("msg own")
    expect(old).not_to_have_class("msg own")

    # A second tab of the same browser shares the name and what it sent.
    tab = ann.context.new_page()
    tab.goto(f"{server.url}/chat?name=Ann&room={room}")
    expect(tab.locator("#messages li.msg", has_text="sent from this browser")).to_have_class(
        "msg own")
    tab.locator("#composer-text").fill("from the second tab")
    tab.locator("#composer-text").press("Enter")
    expect(ann.page.locator("#messages li.msg", has_text="from the second tab")).to_have_class(
        "msg own")


def test_a_reload_before_the_ack_keeps_the_message_as_own(server, people):
    """The broadcast of a message usually comes before its ack, and the bubble is shown
    as one's own from the broadcast: a reload in between must not forget it."""
    text = "reloaded before its ack"
    holding_acks = [True]

    def hold_the_ack(page_socket):
        server_socket = page_socket.connect_to_server()
        server_socket.on_message(lambda frame: None if (
            holding_acks[0] and str(frame).startswith("43") and text in str(frame))
            else page_socket.send(frame))

    ann = people(server.url, **SIZES["desktop"])
    ann.page.route_web_socket("**/socket.io/**", hold_the_ack)
    ann.goto("/chat?name=Ann&room=own-before-ack")
    ann.wait_joined("Ann")
    expect(ann.page.locator("#conn-state")).to_have_attribute("data-state", "connected")
    ann.say(text)
    mine = ann.page.locator("#messages li.msg", has_text=text)
    expect(mine).to_have_class("msg own")
    expect(mine.locator(".msg-status")).to_have_attribute("data-i18n", "chat.sending")  # no ack

    holding_acks[0] = False
    ann.page.reload()
    ann.wait_joined("Ann")
    expect(mine).to_have_class("msg own")


def test_character_counters_show_near_the_limits(server, people, size):
    ann = open_chat(server, people, f"counters-{size}", "Ann", size)
    box = ann.page.locator("#composer-text")
    counter = ann.page.locator("#composer-text-count")
    box.fill("x" * 1500)
    expect(counter).to_be_hidden()
    box.fill("x" * 1995)
    expect(counter).to_be_visible()
    expect(counter).to_have_text("5 characters left")
    box.fill("x" * 1999)
    expect(counter).to_have_text("1 character left")
    ann.page.locator("#lang-switch").select_option("ko")
    expect(counter).to_have_text("1자 남음")
    box.press("Enter")
    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_text("보냄")
    expect(counter).to_be_hidden()
    assert stored_texts(server.url, f"counters-{size}") == ["x" * 1999]


def test_name_and_room_counters_in_the_panels_join_form(server, people, size):
    bob = people(server.url, **SIZES[size])
    bob.goto("/intro")
    name = bob.page.locator("#join-name")
    name.fill("B" * 20)
    expect(bob.page.locator("#join-name-count")).to_be_hidden()
    name.fill("B" * 30)
    expect(bob.page.locator("#join-name-count")).to_have_text("2 characters left")
    assert "join-name-count" in name.get_attribute("aria-describedby")


def test_scrolling_to_the_top_loads_older_messages_and_keeps_the_place(server, people, size):
    room = f"scroll-back-{size}"
    for number in range(1, 131):
        post_message(server.url, room, "Bot", f"note {number}")
    ann = open_chat(server, people, room, "Ann", size)
    texts = ann.page.locator("#messages li.msg .msg-text")
    expect(texts).to_have_count(50)
    expect(texts.first).to_have_text("note 81")

    ann.page.locator("#log-scroll").evaluate("el => { el.scrollTop = 0; }")
    expect(texts).to_have_count(100)
    expect(texts.first).to_have_text("note 31")
    # What was at the top is still on screen, not pushed away by what came in above.
    expect(ann.page.locator("#messages li.msg", has_text="note 81")).to_be_in_viewport()
    assert ann.page.locator("#log-scroll").evaluate("el => el.scrollTop") > 0

    # The button stays, for the keyboard: reaching it brings the top into view, which loads.
    earlier = ann.page.get_by_role("button", name="Load earlier messages")
    expect(earlier).to_be_enabled()
    earlier.focus()
    expect(texts).to_have_count(130)
    assert texts.all_text_contents() == [f"note {number}" for number in range(1, 131)]
    expect(earlier).to_be_hidden()
