"""axe-core finds nothing wrong with the chat panel: joined, offline, in both themes,
both languages, at desktop and phone sizes."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_joined_and_an_offline_chat_panel_have_no_axe_violations(servers, people,
                                                                  scheme, lang, size):
    server = servers()
    room = "axe"
    post_message(server.url, room, "Bot", "an older note with https://example.com/ in it")
    bob = people(server.url)
    bob.goto(f"/chat?name=Bob&room={room}")
    bob.wait_joined("Bob")
    ann = people(server.url, **SIZES[size], color_scheme=scheme,
                 locale={"en": "en-US", "ko": "ko-KR"}[lang])
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    ann.say("mine, sent")
    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_count(1)
    bob.say("a reply")
    expect(ann.page.locator("#messages li.msg", has_text="a reply")).to_be_visible()
    ann.page.locator("#composer-text").fill("x" * 1995)  # the counter shows
    assert ann.axe(include="#chat") == []

    # Offline: the banner, the out-of-date list, a message waiting to be sent.
    server.stop()
    expect(ann.page.locator("#offline")).to_be_visible()
    ann.say("waiting")
    expect(ann.page.locator("#outbox li.pending")).to_have_count(1)
    expect(ann.page.locator("#people-stale")).to_be_visible()
    assert ann.axe(include="#chat") == []
