"""/intro (introduction plus chat) and /embed (the chat alone, for an iframe)."""
from __future__ import annotations

import requests
from playwright.sync_api import expect


def join_panel(person, name, room=None):
    person.page.get_by_label("Nickname").fill(name)
    if room:
        person.page.locator("#join-room").fill(room)
    person.page.get_by_role("button", name="Join").click()
    person.wait_joined(name)


def test_intro_and_embed_chat_together(server, people):
    owner_reader, embedded = people(server.url), people(server.url)
    owner_reader.goto("/intro")
    expect(owner_reader.page.locator("article.intro h1")).to_be_visible()
    snippet = owner_reader.page.locator("#embed-code").input_value()
    assert snippet.startswith("<iframe src=") and "/embed?room=intro" in snippet
    expect(owner_reader.page.locator("#join-room-field")).to_be_hidden()
    join_panel(owner_reader, "Visitor")

    embedded.goto("/embed?room=intro")
    join_panel(embedded, "Friend")
    expect(owner_reader.page.locator("#people .person")).to_have_count(2)

    owner_reader.say("hello from the intro page")
    expect(embedded.page.locator("#messages li.msg", has_text="hello from the intro page")).to_be_visible()
    embedded.say("hello from the iframe")
    expect(owner_reader.page.locator("#messages li.msg", has_text="hello from the iframe")).to_be_visible()
    for person in (owner_reader, embedded):
        assert person.violations() == [] and person.errors == [] and person.dialogs == []


def test_embed_name_taken_is_shown_in_the_panel(server, people):
    first, second = people(server.url), people(server.url)
    first.goto("/embed?room=widget")
    join_panel(first, "Sam")
    second.goto("/embed?room=widget")
    second.page.get_by_label("Nickname").fill("SAM")
    second.page.get_by_role("button", name="Join").click()
    expect(second.page.locator("#join-name-error")).to_contain_text("taken")
    expect(second.page.locator("#join-form")).to_be_visible()
    assert second.dialogs == []


def test_embed_without_room_asks_for_one(server, people):
    person = people(server.url)
    person.goto("/embed")
    expect(person.page.locator("#join-room-field")).to_be_visible()
    join_panel(person, "Roamer", room="anywhere")
    expect(person.page.locator("#chat-room-name")).to_have_text("anywhere")


def test_embed_can_be_framed_and_the_other_pages_cannot(server):
    embed = requests.get(server.url + "/embed?room=x", timeout=5)
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    for path in ["/", "/rtcjoin", "/chat?name=a&room=b", "/intro"]:
        headers = requests.get(server.url + path, timeout=5).headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
