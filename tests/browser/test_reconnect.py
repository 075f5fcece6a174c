"""The server restarts under an open page: it comes back by itself and misses nothing."""
from __future__ import annotations

import requests
from playwright.sync_api import expect


def post(server, text):
    response = requests.post(server.url + "/messages",
                             json={"username": "Other", "roomname": "restart", "text": text}, timeout=5)
    assert response.status_code == 201, response.text


def test_page_reconnects_after_a_restart_and_shows_what_it_missed_once(live_server, people):
    ann = people(live_server.url)
    ann.goto("/chat?name=Ann&room=restart")
    ann.wait_joined("Ann")
    post(live_server, "before the restart")
    expect(ann.page.locator("#messages li.msg", has_text="before the restart")).to_be_visible()
    state = ann.page.locator("#conn-state")
    expect(state).to_have_attribute("data-state", "connected")

    live_server.stop()
    expect(state).to_have_attribute("data-state", "reconnecting")
    ann.say("written while offline")
    pending = ann.page.locator("#outbox li.pending", has_text="written while offline")
    expect(pending.locator(".msg-status")).to_have_text("sending…")

    live_server.start()
    missed = [f"missed {number}" for number in range(1, 6)]
    for text in missed:
        post(live_server, text)

    expect(state).to_have_attribute("data-state", "connected", timeout=20_000)
    log = ann.page.locator("#messages li.msg .msg-text")
    expect(ann.page.locator("#messages li.msg", has_text="missed 5")).to_be_visible()
    mine = ann.page.locator("#messages li.msg.own", has_text="written while offline")
    expect(mine.locator(".msg-status")).to_have_text("sent")
    expect(ann.page.locator("#outbox li")).to_have_count(0)

    texts = log.all_text_contents()
    for text in ["before the restart", *missed, "written while offline"]:
        assert texts.count(text) == 1, (text, texts)
    positions = [texts.index(text) for text in missed]
    assert positions == sorted(positions), texts
    seqs = [int(seq) for seq in ann.page.locator("#messages li.msg").evaluate_all(
        "items => items.map(item => item.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1)), seqs

    stored = requests.get(live_server.url + "/messages", params={"roomname": "restart"}, timeout=5)
    assert [m["text"] for m in stored.json()["results"]].count("written while offline") == 1
