"""/rtcjoin and /chat in a real browser: people, messages, notices, safety, IME."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import post_message, stored_texts


def message_texts(page):
    return page.locator("#messages li.msg .msg-text").all_text_contents()


def test_two_people_join_chat_and_see_each_other_leave(server, people):
    ann, bob = people(server.url), people(server.url)
    ann.join("garden", "Ann")
    bob.join("garden", "Bob")

    for person in (ann, bob):
        expect(person.page.locator("#people .person")).to_have_count(2)
    expect(ann.page.locator("#messages .notice", has_text="Bob")).to_be_visible()

    ann.say("hello from Ann")
    expect(bob.page.locator("#messages li.msg", has_text="hello from Ann")).to_be_visible()
    bob.say("hi Ann, Bob here")
    own = ann.page.locator("#messages li.msg.own", has_text="hello from Ann")
    expect(own).to_be_visible()
    expect(own.locator(".msg-status")).to_have_text("sent")
    theirs = ann.page.locator("#messages li.msg", has_text="hi Ann, Bob here")
    expect(theirs).to_be_visible()
    expect(theirs).not_to_have_class("msg own")

    bob.close()
    expect(ann.page.locator("#messages .notice", has_text="left")).to_be_visible()
    expect(ann.page.locator("#people .person")).to_have_count(1)
    expect(ann.page.locator("#people .person", has_text="Bob")).to_have_count(0)
    assert ann.dialogs == [] and ann.errors == [] and ann.violations() == []


def test_markup_in_a_message_is_shown_as_literal_text(server, people):
    ann, bob = people(server.url), people(server.url)
    ann.join("markup", "Ann")
    bob.join("markup", "Bob")
    payload = "<img src=x onerror=alert(1)>"

    ann.say(payload)
    for person in (ann, bob):
        text = person.page.locator("#messages li.msg .msg-text", has_text="onerror")
        expect(text).to_have_text(payload)
        assert person.page.locator("#messages img, #messages [onerror]").count() == 0
        assert person.dialogs == []
        assert person.violations() == []
        assert person.errors == []


def test_enter_during_ime_composition_sends_nothing_and_the_word_sends_once(server, people):
    ann = people(server.url)
    ann.join("hangul", "Ann")
    box = ann.page.locator("#composer-text")
    box.focus()
    box.evaluate("""box => { window.__enters = [];
        box.addEventListener("keydown", e => {
            if (e.key === "Enter") __enters.push(e.isComposing); }); }""")
    cdp = ann.context.new_cdp_session(ann.page)

    cdp.send("Input.imeSetComposition", {"text": "한", "selectionStart": 1, "selectionEnd": 1})
    ann.page.keyboard.press("Enter")  # commits the syllable in a real IME; must not send
    cdp.send("Input.imeSetComposition", {"text": "한글", "selectionStart": 2, "selectionEnd": 2})
    cdp.send("Input.insertText", {"text": "한글"})
    expect(box).to_have_value(re.compile(r"^\s*한글\s*$"))
    box.press("Enter")

    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_text(["sent"])
    assert message_texts(ann.page) == ["한글"]
    # The first Enter came mid-composition, the second after it.
    assert ann.page.evaluate("window.__enters") == [True, False]
    assert stored_texts(server.url, "hangul") == ["한글"]


def test_a_taken_name_is_shown_next_to_the_nickname_field(server, people):
    ann, impostor = people(server.url), people(server.url)
    ann.join("taken", "Eve")

    impostor.goto("/rtcjoin")
    impostor.page.get_by_label("Room").fill("taken")
    impostor.page.get_by_label("Nickname").fill("eve")
    impostor.page.get_by_role("button", name="Join").click()

    impostor.page.wait_for_url("**/rtcjoin?**")
    error = impostor.page.locator("#name-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("taken")
    expect(impostor.page.get_by_label("Nickname")).to_have_attribute("aria-invalid", "true")
    expect(impostor.page.locator("#room-error")).to_be_hidden()
    assert impostor.dialogs == []


def test_empty_fields_are_refused_inline_before_joining(server, people):
    ann = people(server.url)
    ann.goto("/rtcjoin")
    ann.page.locator("#room").fill("")  # the form offers the lobby
    ann.page.get_by_role("button", name="Join").click()
    expect(ann.page.locator("#room-error")).to_be_visible()
    expect(ann.page.locator("#name-error")).to_be_visible()
    assert "/rtcjoin" in ann.page.url


def test_load_earlier_pages_back_over_rest(server, people):
    room = "paging"
    for number in range(1, 61):
        post_message(server.url, room, "Bot", f"note {number}")
    ann = people(server.url)
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    expect(ann.page.locator("#messages li.msg")).to_have_count(50)
    assert message_texts(ann.page)[0] == "note 11"

    # Reaching the button (with Tab, or by scrolling up) loads the earlier page.
    ann.page.get_by_role("button", name="Load earlier messages").focus()
    expect(ann.page.locator("#messages li.msg")).to_have_count(60)
    assert message_texts(ann.page) == [f"note {number}" for number in range(1, 61)]
    expect(ann.page.locator("#load-earlier")).to_be_hidden()
    expect(ann.page.locator("#log-scroll")).to_be_focused()  # the focus is not lost


def test_long_polling_is_shown_and_works(server, people):
    ann = people(server.url)
    ann.goto("/chat?name=Ann&room=polling&transport=polling")
    ann.wait_joined("Ann")
    expect(ann.page.locator("#conn-state")).to_have_attribute("data-state", "polling")
    ann.say("over polling")
    expect(ann.page.locator("li.msg.own .msg-status")).to_have_text("sent")


def test_korean_ui_follows_the_browser_and_the_switch_is_remembered(server, people):
    min_ = people(server.url, locale="ko-KR")
    min_.goto("/chat?name=Minji&room=hangul-ui")
    min_.wait_joined("Minji")
    expect(min_.page.locator("#composer button[type=submit]")).to_have_text("보내기")
    expect(min_.page.locator("html")).to_have_attribute("lang", "ko")

    min_.page.locator("#lang-switch").select_option("en")
    expect(min_.page.locator("#composer button[type=submit]")).to_have_text("Send")
    expect(min_.page.locator("#conn-state")).to_have_text("Connected")
    min_.goto("/")
    expect(min_.page.locator("h1")).to_have_text("Chatterbox")


def test_keyboard_alone_joins_and_sends(server, people):
    ann = people(server.url)
    ann.goto("/rtcjoin")
    ann.page.get_by_label("Room").focus()
    ann.page.keyboard.type("keys")
    ann.page.keyboard.press("Tab")
    ann.page.keyboard.type("Kay")
    ann.page.keyboard.press("Enter")
    ann.wait_joined("Kay")
    expect(ann.page.locator("#composer-text")).to_be_focused()
    ann.page.keyboard.type("no mouse needed")
    ann.page.keyboard.press("Enter")
    expect(ann.page.locator("#messages li.msg.own", has_text="no mouse needed")).to_be_visible()
    log = ann.page.locator("#messages-log")  # a list inside the log, so its items stay list items
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")


def test_typing_is_shown_to_the_others_and_cleared_by_the_message(server, people):
    ann, bob = people(server.url), people(server.url)
    ann.join("typing", "Ann")
    bob.join("typing", "Bob")
    bob.page.locator("#composer-text").press_sequentially("hel")
    expect(ann.page.locator("#typing")).to_have_text("Bob is typing…")
    expect(bob.page.locator("#typing")).to_have_text("")
    bob.page.locator("#composer-text").press_sequentially("lo")
    bob.page.locator("#composer-text").press("Enter")
    expect(ann.page.locator("#messages li.msg", has_text="hello")).to_be_visible()
    expect(ann.page.locator("#typing")).to_have_text("")


def test_scroll_follows_new_messages_unless_the_reader_scrolled_up(server, people):
    room = "scrolling"
    for number in range(40):
        post_message(server.url, room, "Bot", f"line {number}")
    ann = people(server.url, viewport={"width": 800, "height": 500})
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    scroller = ann.page.locator("#log-scroll")
    at_bottom = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 48"
    ann.page.wait_for_function(f"({at_bottom})(document.getElementById('log-scroll'))")

    post_message(server.url, room, "Bot", "followed")
    expect(ann.page.locator("#messages li.msg", has_text="followed")).to_be_in_viewport()

    scroller.evaluate("el => { el.scrollTop = 0; }")
    post_message(server.url, room, "Bot", "not followed")
    expect(ann.page.locator("#messages li.msg", has_text="not followed")).to_have_count(1)
    assert scroller.evaluate("el => el.scrollTop") == 0
    jump = ann.page.locator("#jump-latest")
    expect(jump).to_be_visible()
    jump.click()
    expect(ann.page.locator("#messages li.msg", has_text="not followed")).to_be_in_viewport()
