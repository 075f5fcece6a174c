"""axe-core on every page, joined and not, light and dark, English and Korean.

Zero violations of any impact: what axe finds is what a screen-reader or
low-vision reader runs into (contrast below WCAG AA, lists that are not lists,
controls without names).
"""
from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message

ROOM = "a11y"
SCHEMES = ["light", "dark"]
LOCALES = {"en": "en-US", "ko": "ko-KR"}
HOSTS = itertools.count()


def open_home(person):
    person.goto("/")
    expect(person.page.locator("#board .board-entry").first).to_be_visible()


def open_rtcjoin(person):
    """The join form with the list of rooms people are in (someone is, in another tab)."""
    host = f"Host{next(HOSTS)}"  # each its own name: a closed case's Host may linger
    other_tab = person.context.new_page()
    other_tab.goto(f"{person.base_url}/chat?name={host}&room={ROOM}-busy")
    expect(other_tab.locator("#people .person", has_text=host)).to_be_visible()
    person.goto("/rtcjoin")
    expect(person.page.locator("#active-rooms button").first).to_be_visible()


def open_chat_refused(person):
    """/chat whose join the server refuses: back on the join form, the reason shown."""
    person.goto(f"/chat?name=admin&room={ROOM}")
    person.page.wait_for_url("**/rtcjoin?**")
    expect(person.page.locator("#name-error")).to_be_visible()


def open_chat_joined(person):
    person.goto(f"/chat?name=Reader&room={ROOM}")
    person.wait_joined("Reader")
    person.say("a message of my own")
    expect(person.page.locator("#messages .msg", has_text="of my own").last).to_be_visible()


def open_panel(path):
    def open_page(person):
        person.goto(path)
        expect(person.page.locator("#join-name")).to_be_visible()
    return open_page


def open_panel_joined(path):
    def open_page(person):
        open_panel(path)(person)
        person.page.locator("#join-name").fill("Visitor")
        person.page.locator("#join-form button[type=submit]").click()
        person.wait_joined("Visitor")
        person.say("a visitor's message")
        sent = person.page.locator("#messages .msg", has_text="visitor's message")
        expect(sent.last).to_be_visible()
    return open_page


PAGES = {
    "home": open_home,
    "rtcjoin": open_rtcjoin,
    "chat-refused": open_chat_refused,
    "intro": open_panel("/intro"),
    "embed": open_panel(f"/embed?room={ROOM}"),
}
JOINED = {
    "chat-joined": open_chat_joined,
    "intro-joined": open_panel_joined("/intro"),
    "embed-joined": open_panel_joined(f"/embed?room={ROOM}"),
}


def cases(pages):
    return [pytest.param(name, scheme, language, id=f"{name}-{scheme}-{language}")
            for name in pages for scheme in SCHEMES for language in LOCALES]


@pytest.fixture
def open_as(server, people):
    post_message(server.url, ROOM, "Mina", "a message so every list has one")
    post_message(server.url, "intro", "Mina", "a message so every list has one")

    def open_as(opener, scheme, language):
        person = people(server.url, color_scheme=scheme, locale=LOCALES[language])
        opener(person)
        expect(person.page.locator("html")).to_have_attribute("lang", language)
        return person
    return open_as


@pytest.mark.parametrize("name, scheme, language", cases(PAGES))
def test_page_has_no_axe_violations(open_as, name, scheme, language):
    person = open_as(PAGES[name], scheme, language)
    assert person.axe() == []
    assert person.errors == [] and person.violations() == []


@pytest.mark.parametrize("name, scheme, language", cases(JOINED))
def test_joined_page_around_the_chat_has_no_axe_violations(open_as, name, scheme, language):
    person = open_as(JOINED[name], scheme, language)
    assert person.axe(exclude="#chat") == []
    assert person.errors == [] and person.violations() == []


@pytest.mark.parametrize("name, scheme, language", cases(JOINED))
def test_joined_chat_panel_has_no_axe_violations(open_as, name, scheme, language):
    person = open_as(JOINED[name], scheme, language)
    assert person.axe(include="#chat") == []
