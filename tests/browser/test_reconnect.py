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
    # The server welcomed the rejoin too; the page showed the welcome once, for the visit.
    expect(ann.page.locator("#messages .notice", has_text="welcome")).to_have_count(1)


SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}


@pytest.mark.parametrize("size", list(SIZES))
def test_offline_banner_says_when_it_retries_and_retry_now_reconnects_at_once(
        servers, people, size):
    server = servers()
    ann, bob = people(server.url, **SIZES[size]), people(server.url)
    ann.goto("/chat?name=Ann&room=offline")
    ann.wait_joined("Ann")
    bob.goto("/chat?name=Bob&room=offline")
    ann.wait_joined("Bob")
    banner = ann.page.get_by_role("status").filter(has_text="You are offline.")
    expect(banner).to_be_hidden()
    panel = ann.page.locator("#people-panel")
    expect(panel.get_by_text("may be out of date")).to_be_hidden()

    # The server goes, and until we say so no try of the page can reach it.
    ann.page.route("**/socket.io/**", lambda route: route.abort())
    server.stop()
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Next try at")
    # The list is kept, marked as out of date in words, not only in grey.
    expect(panel).to_have_class("people is-stale")
    expect(panel.get_by_text("Last known list, may be out of date")).to_be_visible()
    expect(ann.page.locator("#people .person")).to_have_count(2)
    ann.say("kept while offline")
    expect(ann.page.locator("#outbox li.pending .msg-status")).to_have_text("sending…")

    server.start()
    ann.page.wait_for_function(
        "() => Number(document.getElementById('offline').dataset.nextTry) - Date.now() > 2000")
    next_try = int(ann.page.locator("#offline").get_attribute("data-next-try"))
    ann.page.evaluate("""() => new MutationObserver((changes, observer) => {
        if (document.getElementById("conn-state").dataset.state !== "reconnecting") {
            window.__backAt = Date.now(); observer.disconnect(); }
        }).observe(document.getElementById("conn-state"), { attributes: true })""")
    ann.page.unroute("**/socket.io/**")
    banner.get_by_role("button", name="Retry now").click()

    expect(ann.page.locator("#conn-state")).to_have_attribute("data-state", "connected")
    assert ann.page.evaluate("window.__backAt") < next_try  # it did not wait for the timer
    expect(banner).to_be_hidden()
    expect(panel).not_to_have_class("people is-stale")
    expect(panel.get_by_text("may be out of date")).to_be_hidden()
    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_text("sent")


def test_the_offline_banner_is_in_korean_for_a_korean_reader(servers, people):
    server = servers()
    min_ = people(server.url, locale="ko-KR")
    min_.goto("/chat?name=Minji&room=offline-ko")
    min_.wait_joined("Minji")
    server.stop()
    banner = min_.page.locator("#offline")
    expect(banner).to_contain_text("연결이 끊겼습니다.")
    expect(banner).to_contain_text("에 다시 연결합니다.")
    expect(banner.get_by_role("button")).to_have_text("지금 다시 연결")
    expect(min_.page.locator("#people-stale")).to_have_text(
        "마지막으로 확인한 목록이라 지금과 다를 수 있습니다")
