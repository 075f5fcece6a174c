"""Screenshots of /chat at desktop and phone width, for a person to look at."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import post_message

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


def test_chat_screenshots_desktop_and_phone(server, people, artifacts):
    room = "screenshots"
    for text in ["Welcome to the screenshot room!", "안녕하세요, 반갑습니다 👋",
                 "A longer message that has to wrap over several lines on a narrow phone "
                 "screen, to show that nothing overflows sideways."]:
        post_message(server.url, room, "Mina", text)
    mina = people(server.url)
    mina.goto(f"/chat?name=Mina&room={room}")
    mina.wait_joined("Mina")
    for size, viewport in SIZES.items():
        viewer = people(server.url, viewport=viewport)
        viewer.goto(f"/chat?name=Jun-{size}&room={room}")
        viewer.wait_joined(f"Jun-{size}")
        mina.say(f"Hi Jun on the {size}!")
        expect(viewer.page.locator("#messages li.msg", has_text=f"on the {size}")).to_be_visible()
        viewer.say("Thanks, this is my own message")
        expect(viewer.page.locator("li.msg.own .msg-status").last).to_have_text("sent")
        viewer.page.locator("#composer-text").fill("typing a draft…")
        width = viewer.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{size}: the page scrolls sideways ({width}px)"
        viewer.page.screenshot(path=str(artifacts / f"chat-{size}.png"))


def test_every_page_fits_a_360_pixel_phone(server, people, artifacts):
    post_message(server.url, "lobby", "Mina", "a message so the board is not empty")
    phone = people(server.url, viewport=SIZES["phone"])
    for path, name in [("/", "home"), ("/rtcjoin", "rtcjoin"), ("/intro", "intro"),
                       ("/embed?room=lobby", "embed")]:
        phone.goto(path)
        if name == "home":
            expect(phone.page.locator("#board .board-entry").first).to_be_visible()
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways ({width}px)"
        phone.page.screenshot(path=str(artifacts / f"{name}-phone.png"), full_page=True)
    assert phone.errors == [] and phone.violations() == []
