"""/rtcjoin: where a visitor starts typing, the room offered, and the rooms people are in."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


@pytest.mark.parametrize("size", SIZES)
def test_first_visit_offers_the_lobby_and_starts_at_the_nickname(server, people, size):
    person = people(server.url, viewport=SIZES[size])
    person.goto("/rtcjoin")
    expect(person.page.locator("#room")).to_have_value("lobby")
    expect(person.page.locator("#name")).to_be_focused()
    person.page.keyboard.type("Newcomer")
    person.page.keyboard.press("Enter")
    person.page.wait_for_url("**/chat?**room=lobby**")
    person.wait_joined("Newcomer")


def test_returning_visitor_starts_at_join(server, people):
    person = people(server.url)
    person.join("kitchen", "Cook")
    person.goto("/rtcjoin?room=kitchen")
    expect(person.page.locator("#name")).to_have_value("Cook")
    expect(person.page.get_by_role("button", name="Join")).to_be_focused()


def test_an_emptied_room_field_gets_the_focus(server, people):
    person = people(server.url)
    person.goto("/rtcjoin?room=%20")
    expect(person.page.locator("#room")).to_be_focused()


@pytest.mark.parametrize("locale, count_text", [("en-US", "2 online"), ("ko-KR", "2명 접속 중")])
def test_active_rooms_are_listed_and_picking_one_fills_the_room(server, people, locale, count_text):
    room = f"busy-{locale}"
    for name in ("Ada", "Bo"):
        people(server.url).join(room, name)
    person = people(server.url, locale=locale)
    person.goto("/rtcjoin")
    pick = person.page.locator("#active-rooms button", has_text=f"#{room}")
    expect(pick).to_contain_text(count_text)
    pick.click()
    expect(person.page.locator("#room")).to_have_value(room)
    expect(person.page.locator("#name")).to_be_focused()
    person.page.keyboard.type("Cy")
    person.page.keyboard.press("Enter")
    person.wait_joined("Cy")
    expect(person.page.locator("#people .person")).to_have_count(3)
    assert person.errors == [] and person.violations() == []
