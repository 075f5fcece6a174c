"""The server restarts under an open page: it comes back by itself and misses nothing."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message, stored_texts


@pytest.mark.parametrize("how", ["stop", "kill"])  # SIGTERM as platforms do, and a crash
def test_page_reconnects_after_a_restart_and_shows_what_it_missed_once(servers, people, how):
    server = servers()
    ann = people(server.url)
    ann.goto("/chat?name=Ann&room=restart")
    ann.wait_joined("Ann")
    post_message(server.url, "restart", "Other", "before the restart")
    expect(ann.page.locator("#messages li.msg", has_text="before the restart")).to_be_visible()
    state = ann.page.locator("#conn-state")
    expect(state).to_have_attribute("data-state", "connected")

    getattr(server, how)()
    expect(state).to_have_attribute("data-state", "reconnecting")
    ann.say("written while offline")
    pending = ann.page.locator("#outbox li.pending", has_text="written while offline")
    expect(pending.locator(".msg-status")).to_have_text("sending…")

    server.start()
    missed = [f"missed {number}" for number in range(1, 6)]
    for text in missed:
        post_message(server.url, "restart", "Other", text)

    expect(state).to_have_attribute("data-state", "connected", timeout=20_000)
    log = ann.page.locator("#messages li.msg .msg-text")
    expect(ann.page.locator("#messages li.msg", has_text="missed 5")).to_be_visible()
    mine = ann.page.locator("#messages li.msg.own", has_text="written while offline")
    expect(mine.locator(".msg-status")).to_have_text("sent")
    expect(ann.page.locator("#outbox li")).to_have_count(0)

    shown = log.all_text_contents()
    for text in ["before the restart", *missed, "written while offline"]:
        assert shown.count(text) == 1, (text, shown)
    positions = [shown.index(text) for text in missed]
    assert positions == sorted(positions), shown
    seqs = [int(seq) for seq in ann.page.locator("#messages li.msg").evaluate_all(
        "items => items.map(item => item.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1)), seqs

    assert stored_texts(server.url, "restart").count("written while offline") == 1
