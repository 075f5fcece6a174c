"""The host's presence in Chromium: visitors on /intro and /embed see the host come and
go, live, in English and Korean; the owner is online while /owner is open and chats
as the host from /chat."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.helpers import wait_for
from tests.owner_helpers import PASSWORD

AWAY = "The host is away: leave a note and they will see it"
HERE = "The host is here"


def test_visitors_see_the_host_come_and_go(owner_server, people):
    intro = people(owner_server.url)
    intro.goto("/intro")
    embed = people(owner_server.url, locale="ko-KR")
    sockets = []
    embed.page.on("websocket", lambda socket: sockets.append(socket))
    embed.goto("/embed?room=porch")
    expect(intro.page.locator("#host-status")).to_have_text(AWAY)
    expect(embed.page.locator("#host-status")).to_have_text(
        "호스트가 자리에 없어요: 메모를 남기면 호스트가 볼 거예요")
    assert intro.axe() == [] and embed.axe() == []

    owner = people(owner_server.url)
    owner.sign_in_as_owner(PASSWORD)  # /owner open: the host is here
    expect(intro.page.locator("#host-status")).to_have_text(HERE)
    expect(embed.page.locator("#host-status")).to_have_text("호스트가 여기 있어요")
    assert intro.axe() == [] and embed.axe() == []

    owner.goto("/chat?name=whoever&room=porch")  # the owner chats as the host
    if not sockets:  # before joining, the presence has a socket of its own ...
        embed.page.wait_for_event("websocket")
    embed.page.get_by_label("닉네임").fill("Vera")
    embed.page.get_by_label("닉네임").press("Enter")
    expect(embed.page.locator("#people .person", has_text="host")).to_be_visible()
    if not sockets[0].is_closed():  # ... closed once the chat's is open
        sockets[0].wait_for_event("close")
    owner.say("Hello from the host")
    expect(embed.page.locator("#messages")).to_contain_text("Hello from the host")

    owner.close()
    expect(intro.page.locator("#host-status")).to_have_text(AWAY)
    expect(embed.page.locator("#host-status")).to_have_text(
        "호스트가 자리에 없어요: 메모를 남기면 호스트가 볼 거예요")
    for person in (intro, embed):
        assert person.errors == [] and person.violations() == []


def test_without_an_owner_the_pages_show_no_host(server, people):
    person = people(server.url)
    person.goto("/intro")
    expect(person.page.locator(".chat")).to_be_visible()
    assert person.page.locator("#host-status").count() == 0
    expect(person.page.locator("#launcher-code")).not_to_have_value(re.compile("data-host-status"))


def test_without_an_owner_the_launcher_shows_no_dot(server, people, host_site):
    visitor = people(server.url)
    with visitor.page.expect_response(f"{server.url}/host") as answer:
        visitor.page.goto(shop(host_site, server.url))
    assert answer.value.status == 404
    button = visitor.page.locator("#comongus-launcher")
    expect(button).to_have_attribute("aria-label", "Open chat")
    expect(button.locator("span[data-online]")).to_have_count(0)
    expect(button.locator("span[aria-hidden=true]").last).to_be_hidden()


def test_visitors_see_the_host_badge_in_their_language(owner_server, people):
    owner = people(owner_server.url)
    owner.sign_in_as_owner(PASSWORD)
    owner.goto("/chat?name=whoever&room=badges")
    owner.wait_joined("host")
    owner.say("Welcome, I am the owner here")
    ann = people(owner_server.url)
    ann.goto("/chat?name=Ann&room=badges")
    min_ = people(owner_server.url, locale="ko-KR")
    min_.goto("/chat?name=Min&room=badges")
    ann.say("hello from a visitor")

    for person, badge in ((ann, "Host"), (min_, "호스트")):
        hosts = person.page.locator("#messages li.msg", has_text="I am the owner here")
        expect(hosts.get_by_text(badge, exact=True)).to_be_visible()
        visitor = person.page.locator("#messages li.msg", has_text="hello from a visitor")
        expect(visitor).to_be_visible()
        expect(visitor.locator(".host-badge")).to_have_count(0)
        expect(person.page.locator("#people .person", has_text="host").get_by_text(
            badge, exact=True)).to_be_visible()
        expect(person.page.locator("#people .person", has_text="Ann").locator(".host-badge")
               ).to_have_count(0)
        expect(person.page.locator("#host-tools")).to_be_hidden()  # no owner controls
        assert person.axe() == []

    board = people(owner_server.url)
    board.goto("/?room=badges")
    entry = board.page.locator(".board-entry", has_text="I am the owner here")
    expect(entry.get_by_text("Host", exact=True)).to_be_visible()
    for person in (ann, min_, board):
        assert person.errors == [] and person.violations() == []


def shop(serve, url):
    """Another site's page with the launcher asking for the host's presence."""
    return serve(f'<!doctype html><html lang="en"><title>Shop</title><main><h1>A shop</h1>'
                 f'</main><script src="{url}/launcher.js" data-room="shop" data-host-status '
                 'async></script>',
                 {"Content-Security-Policy": f"default-src 'none'; script-src {url}; "
                                             f"frame-src {url}; connect-src {url}"})


def test_the_launcher_shows_whether_the_host_is_here(owner_server, people, host_site):
    url = owner_server.url
    site = shop(host_site, url)
    intro = people(url)
    intro.goto("/intro")  # the snippet it offers asks for the dot
    expect(intro.page.locator("#launcher-code")).to_have_value(re.compile("data-host-status"))
    visitor = people(url)
    visitor.page.goto(site)
    button = visitor.page.locator("#comongus-launcher")
    expect(button).to_have_attribute("aria-label", "Open chat (the host is away)")
    dot = button.locator("span[data-online]")
    expect(dot).to_have_attribute("data-online", "false")
    expect(dot).to_be_visible()

    owner = people(url)
    owner.sign_in_as_owner(PASSWORD)
    # /owner's own connection makes the host here; the launcher asks when it opens.
    wait_for(lambda: requests.get(url + "/host", timeout=5).json()["online"],
             message="the host online once /owner connected")
    button.click()
    expect(button).to_have_attribute("aria-label", "Close chat (the host is here)")
    expect(dot).to_have_attribute("data-online", "true")
    assert visitor.axe() == []
    assert visitor.errors == [] and visitor.violations() == []
