"""The home page: the chatterbox board, its filter, its form, and the glowing link."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import post_message


def test_board_post_shows_on_the_board_and_reaches_the_chat(server, people):
    reader, poster = people(server.url), people(server.url)
    reader.goto("/chat?name=Reader&room=porch")
    reader.wait_joined("Reader")

    poster.goto("/")
    form = poster.page.locator("#post-form")
    form.get_by_label("Nickname").fill("Poster")
    form.get_by_label("Room").fill("porch")
    form.get_by_label("Message").fill("posted from the board <b>bold?</b>")
    form.get_by_role("button", name="Post").click()

    entry = poster.page.locator("#board .board-entry", has_text="posted from the board")
    expect(entry).to_have_count(1)
    expect(entry.locator(".board-room")).to_have_text("#porch")
    expect(entry.locator(".board-text")).to_have_text("posted from the board <b>bold?</b>")
    expect(form.get_by_label("Message")).to_have_value("")
    arrived = reader.page.locator("#messages li.msg", has_text="posted from the board")
    expect(arrived).to_have_count(1)
    expect(arrived.locator(".msg-user")).to_have_text("Poster")
    assert poster.violations() == [] and poster.errors == []


def test_board_shows_new_messages_without_reload_and_filters_by_room(server, people):
    post_message(server.url, "attic", "Ann", "attic one")
    post_message(server.url, "cellar", "Bob", "cellar one")
    visitor = people(server.url)
    visitor.goto("/")
    board = visitor.page.locator("#board")
    expect(board.locator(".board-entry", has_text="cellar one")).to_be_visible()

    post_message(server.url, "attic", "Ann", "attic two, arrived by polling")
    expect(board.locator(".board-entry").first).to_contain_text("attic two, arrived by polling")

    visitor.page.locator("#filter-room").fill("attic")
    visitor.page.get_by_role("button", name="Show").click()
    expect(board.locator(".board-entry", has_text="attic two")).to_be_visible()
    expect(board.locator(".board-entry", has_text="cellar one")).to_have_count(0)
    rooms = set(board.locator(".board-room").all_text_contents())
    assert rooms == {"#attic"}
    assert "room=attic" in visitor.page.url

    post_message(server.url, "cellar", "Bob", "cellar two")
    post_message(server.url, "attic", "Ann", "attic three")
    expect(board.locator(".board-entry").first).to_contain_text("attic three")
    expect(board.locator(".board-entry", has_text="cellar two")).to_have_count(0)

    visitor.page.get_by_role("button", name="All rooms").click()
    expect(board.locator(".board-entry", has_text="cellar two")).to_be_visible()


def test_board_refuses_bad_posts_inline(server, people):
    visitor = people(server.url)
    visitor.goto("/")
    form = visitor.page.locator("#post-form")
    form.get_by_label("Nickname").fill("Ann")
    form.get_by_role("button", name="Post").click()
    expect(visitor.page.locator("#post-text-error")).to_be_visible()
    form.get_by_label("Nickname").fill("admin")  # reserved: the server says no
    form.get_by_label("Message").fill("hello")
    form.get_by_role("button", name="Post").click()
    expect(visitor.page.locator("#post-name-error")).to_contain_text("reserved")
    assert visitor.dialogs == []


def glow_animation(page):
    return page.locator("#glow-link").evaluate(
        "link => getComputedStyle(link, '::before').animationName")


def test_glow_is_an_animated_layer_and_still_under_reduced_motion(server, people):
    visitor = people(server.url)
    visitor.goto("/")
    link = visitor.page.locator("#glow-link")
    expect(link).to_have_attribute("href", "/rtcjoin")
    assert glow_animation(visitor.page) == "glow-pulse"
    assert link.evaluate("link => getComputedStyle(link).textShadow") == "none"

    visitor.page.emulate_media(reduced_motion="reduce")
    assert glow_animation(visitor.page) == "none"
