"""Screenshots of every page for a person to look at (artifacts/screenshots/):
desktop and phone, English and Korean, light and dark, joined and not, and the
launcher open on another site. Each also checks the page fits its width."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}
LOCALES = {"en": "en-US", "ko": "ko-KR"}
ROOM = "screenshots"


def test_chat_screenshots_desktop_and_phone(server, people, artifacts):
    room = "screenshots-live"
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
        viewer.page.screenshot(path=str(artifacts / f"chat-live-{size}.png"))


@pytest.fixture(scope="module")
def launcher_site(server):
    """Another origin's page with the launcher's one line, under a strict CSP."""
    body = (f'<!doctype html><html lang="en"><title>A shop</title><main><h1>A shop</h1>'
            f'<p>Anything the site has.</p></main>'
            f'<script src="{server.url}/launcher.js" data-room="{ROOM}" async></script>').encode()
    policy = f"default-src 'none'; script-src {server.url}; frame-src {server.url}"

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


def join_panel(person, name, frame=None):
    where = frame or person.page
    where.locator("#join-name").fill(name)
    where.locator("#join-form button[type=submit]").click()
    expect(where.locator("#people .person", has_text=name)).to_be_visible()


def shoot_home(person, name):
    person.goto("/")
    expect(person.page.locator("#board .board-entry").first).to_be_visible()


def shoot_rtcjoin(person, name):
    person.goto("/rtcjoin")
    expect(person.page.locator("#active-rooms button", has_text=ROOM)).to_be_visible()


def shoot_chat(person, name):
    person.goto(f"/chat?name={name}&room={ROOM}")
    person.wait_joined(name)
    person.say("제 메시지입니다 — my own message")
    expect(person.page.locator("li.msg.own").last).to_be_visible()


def shoot_intro(person, name):
    person.goto("/intro")
    expect(person.page.locator("#join-name")).to_be_visible()


def shoot_intro_joined(person, name):
    shoot_intro(person, name)
    join_panel(person, name)


def shoot_embed_joined(person, name):
    person.goto(f"/embed?room={ROOM}")
    join_panel(person, name)


def shoot_launcher_open(person, name, site):
    person.page.goto(site)
    person.page.get_by_role("button", name="Open chat").click()
    join_panel(person, name, person.page.frame_locator("#comongus-launcher-panel iframe"))


SHOTS = {"home": shoot_home, "rtcjoin": shoot_rtcjoin, "chat": shoot_chat,
         "intro": shoot_intro, "intro-joined": shoot_intro_joined,
         "embed-joined": shoot_embed_joined, "launcher-open": shoot_launcher_open}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_screenshot(server, people, artifacts, launcher_site, size, language, scheme):
    post_message(server.url, ROOM, "Mina", "안녕하세요, 반갑습니다 👋 Welcome!")
    post_message(server.url, "intro", "Mina", "Hello from the introduction's chat")
    hana = people(server.url)  # someone in the room: the people lists and /rtcjoin show her
    hana.goto(f"/chat?name=Hana-{size}-{language}-{scheme}&room={ROOM}")
    hana.wait_joined(f"Hana-{size}-{language}-{scheme}")
    for number, (page, shoot) in enumerate(SHOTS.items()):
        person = people(server.url, viewport=SIZES[size], locale=LOCALES[language],
                        color_scheme=scheme)
        name = f"Jun{number}{size[0]}{language}{scheme[0]}"
        if page == "launcher-open":
            shoot(person, name, launcher_site)
        else:
            shoot(person, name)
        width = person.page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES[size]["width"], f"{page} scrolls sideways ({width}px)"
        person.page.screenshot(path=str(artifacts / f"{page}-{size}-{language}-{scheme}.png"),
                               full_page=page == "intro")
        assert person.errors == [] and person.violations() == [], page
        person.close()
