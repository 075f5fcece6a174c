"""/intro (introduction plus chat) and /embed (the chat alone, for an iframe)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
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
    assert snippet.startswith(f'<iframe src="{server.url}/embed?room=intro"'), snippet
    expect(owner_reader.page.locator("#join-room-field")).to_be_hidden()
    join_panel(owner_reader, "Visitor")

    embedded.goto("/embed?room=intro")
    join_panel(embedded, "Friend")
    expect(owner_reader.page.locator("#people .person")).to_have_count(2)

    owner_reader.say("hello from the intro page")
    expect(embedded.page.locator("#messages .msg", has_text="from the intro page")).to_be_visible()
    embedded.say("hello from the iframe")
    expect(owner_reader.page.locator("#messages .msg", has_text="from the iframe")).to_be_visible()
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


@pytest.fixture
def other_site(server):
    """A page on another origin (its own port) that frames /embed and /chat."""
    body = (f'<iframe id="embed" src="{server.url}/embed?room=framed"></iframe>'
            f'<iframe id="chat" src="{server.url}/chat?name=Spy&room=framed"></iframe>').encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


def test_another_site_can_frame_embed_but_not_chat(server, people, other_site):
    host = people(server.url)
    host.page.goto(other_site)

    embed = host.page.frame_locator("#embed")
    expect(embed.locator("#join-form")).to_be_visible()
    embed.get_by_label("Nickname").fill("Framed")
    embed.get_by_role("button", name="Join").click()
    expect(embed.locator("#people .person", has_text="Framed")).to_be_visible()
    expect(host.page.frame_locator("#chat").locator("#chat")).to_have_count(0)
    blocked = host.page.locator("iframe#chat").element_handle().content_frame()
    assert "/chat?" not in blocked.url  # Chromium shows its own "refused to connect" page
