"""/intro (introduction plus chat) and /embed (the chat alone, for an iframe)."""
from __future__ import annotations

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


def test_join_typed_before_the_script_runs_keeps_the_nickname(server, people):
    """On a slow line the form shows before chat.js runs; Join waits for it
    instead of reloading the page and dropping what was typed."""
    person = people(server.url)
    held = []
    person.page.route("**/static/js/chat*.js", lambda route: held.append(route))
    person.page.goto(server.url + "/embed?room=slowline", wait_until="commit")
    person.page.get_by_label("Nickname").fill("Early")
    expect(person.page.get_by_role("button", name="Join")).to_be_disabled()
    person.page.get_by_label("Nickname").press("Enter")
    assert "name=" not in person.page.url and held, person.page.url
    for route in held:
        route.continue_()
    person.page.get_by_role("button", name="Join").click()
    expect(person.page.locator("#people .person", has_text="Early")).to_be_visible()
    assert person.errors == []


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
def other_site(server, host_site):
    """A page on another origin that frames /embed and /chat."""
    return host_site(f'<iframe id="embed" src="{server.url}/embed?room=framed"></iframe>'
                     f'<iframe id="chat" src="{server.url}/chat?name=Spy&room=framed"></iframe>')


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


PHONE = {"width": 375, "height": 740}


def test_intro_snippet_fits_a_phone_on_the_owners_site(server, people, host_site):
    owner = people(server.url)
    owner.goto("/intro")
    snippet = owner.page.locator("#embed-code").input_value()
    assert "width:100%" in snippet and 'width="' not in snippet
    site = host_site(f"<!doctype html><meta name=viewport content='width=device-width'>"
                     f"<body style='margin:8px'>{snippet}</body>")
    phone = people(server.url, viewport=PHONE)
    phone.page.goto(site)
    expect(phone.page.frame_locator("iframe").locator("#join-form")).to_be_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    frame_width = phone.page.locator("iframe").bounding_box()["width"]
    assert frame_width == PHONE["width"] - 16  # the whole width but the page's margins
    wide = people(server.url)
    wide.page.goto(site)
    assert wide.page.locator("iframe").bounding_box()["width"] == 420


def test_intro_shows_the_chat_before_the_snippet_on_a_phone(server, people):
    phone = people(server.url, viewport=PHONE)
    phone.goto("/intro")
    chat = phone.page.locator(".intro-chat").bounding_box()
    snippet = phone.page.locator("#embed-code").bounding_box()
    assert chat["y"] < phone.page.locator("article.intro h1").bounding_box()["y"]
    assert chat["y"] + chat["height"] <= snippet["y"]
    wide = people(server.url)
    wide.goto("/intro")
    chat = wide.page.locator(".intro-chat").bounding_box()
    intro = wide.page.locator("article.intro").bounding_box()
    assert chat["x"] > intro["x"] + intro["width"] - 1  # beside the introduction, on the right


def test_embed_header_is_one_row_and_leaves_the_height_to_messages(server, people):
    person = people(server.url, viewport={"width": 375, "height": 600})
    person.goto("/embed?room=compact")
    join_panel(person, "Compact")
    row = [person.page.locator(selector).bounding_box()
           for selector in ["#chat-title", "#people", "#lang-switch", "#leave"]]
    middle = row[0]["y"] + row[0]["height"] / 2
    for box in row:
        assert box["y"] <= middle <= box["y"] + box["height"], row
    assert max(box["y"] + box["height"] for box in row) < 60
    assert person.page.locator("#log-scroll").bounding_box()["height"] > 600 * 0.6
    assert person.page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("path", ["/embed?room=again", "/intro"])
def test_reload_rejoins_with_the_stored_name_until_leave(server, people, path):
    person = people(server.url)
    person.goto(path)
    join_panel(person, "Returning")
    person.page.reload()
    person.wait_joined("Returning")
    expect(person.page.locator("#join-form")).to_be_hidden()
    person.page.locator("#leave").click()
    expect(person.page.locator("#join-form")).to_be_visible()
    person.page.reload()
    expect(person.page.locator("#join-form")).to_be_visible()
    expect(person.page.locator("#join-name")).to_have_value("Returning")
    assert person.errors == [] and person.dialogs == []


def test_launcher_is_served_from_a_stable_address_that_is_revalidated(server):
    response = requests.get(server.url + "/launcher.js", timeout=5)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    again = requests.get(server.url + "/launcher.js", timeout=5,
                         headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_launcher_opens_the_chat_on_a_site_with_a_strict_csp(server, people, host_site):
    policy = (f"default-src 'none'; script-src {server.url}; frame-src {server.url}; "
              "style-src 'none'; img-src 'none'")
    site = host_site(f'<!doctype html><html lang="en"><title>Shop</title><main><h1>A shop</h1>'
                     f'<a href="#top">A link before the button</a></main>'
                     f'<script src="{server.url}/launcher.js" data-room="launched" async></script>',
                     {"Content-Security-Policy": policy})
    staff = people(server.url)
    staff.goto("/chat?name=Staff&room=launched")
    staff.wait_joined("Staff")

    visitor = people(server.url, viewport=PHONE)
    visitor.page.goto(site)
    button = visitor.page.get_by_role("button", name="Open chat")
    expect(button).to_have_attribute("aria-expanded", "false")
    visitor.page.keyboard.press("Tab")
    visitor.page.keyboard.press("Tab")
    expect(button).to_be_focused()
    visitor.page.keyboard.press("Enter")
    close = visitor.page.get_by_role("button", name="Close chat")
    expect(close).to_have_attribute("aria-expanded", "true")
    widget = visitor.page.frame_locator("#comongus-launcher-panel iframe")
    widget.get_by_label("Nickname").fill("Shopper")
    widget.get_by_role("button", name="Join").click()
    expect(widget.locator("#people .person", has_text="Staff")).to_be_visible()
    widget.locator("#composer-text").fill("is this in stock?")
    widget.locator("#composer-text").press("Enter")
    expect(staff.page.locator("#messages .msg", has_text="in stock?")).to_be_visible()
    staff.say("yes, it is")
    expect(widget.locator("#messages .msg", has_text="yes, it is")).to_be_visible()

    widget.locator("#composer-text").press("Escape")  # a key inside the widget's frame
    expect(visitor.page.locator("#comongus-launcher-panel")).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    visitor.page.keyboard.press("Enter")
    expect(visitor.page.locator("#comongus-launcher-panel")).to_be_visible()
    visitor.page.locator("h1").click()
    visitor.page.keyboard.press("Escape")  # and one on the host page
    expect(visitor.page.locator("#comongus-launcher-panel")).to_be_hidden()
    assert visitor.violations() == [] and visitor.errors == []
    assert visitor.axe() == []
