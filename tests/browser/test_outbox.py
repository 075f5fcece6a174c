"""The outbox: a message shows once while it is sent, and a refused one stays, with Retry."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.fixture
def strict_server(servers):
    """A server that lets a person send one message, then one every half second."""
    return servers({"SEND_BURST": "1", "SEND_RATE_PER_SECOND": "2"})


COUNT_COPIES = """() => {
  // After every change to the page, the most copies of one message text ever on it.
  window.__mostCopies = 0;
  new MutationObserver(() => {
    const copies = new Map();
    for (const text of document.querySelectorAll("#messages .msg-text, #outbox .msg-text")) {
      const count = (copies.get(text.textContent) || 0) + 1;
      copies.set(text.textContent, count);
      window.__mostCopies = Math.max(window.__mostCopies, count);
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_message_being_sent_is_never_shown_twice(server, people, transport):
    """Its broadcast usually comes before its ack: the page must not show both copies."""
    ann = people(server.url)
    forced = "&transport=polling" if transport == "polling" else ""
    ann.goto(f"/chat?name=Ann&room=shown-once-{transport}{forced}")
    ann.wait_joined("Ann")
    state = "polling" if transport == "polling" else "connected"  # upgraded to WebSocket
    expect(ann.page.locator("#conn-state")).to_have_attribute("data-state", state)
    ann.page.evaluate(COUNT_COPIES)
    said = [f"only once {number}" for number in range(1, 11)]
    for text in said:
        ann.say(text)

    statuses = ann.page.locator("#messages li.msg.own .msg-status")
    expect(statuses).to_have_text(["sent"] * len(said))
    expect(ann.page.locator("#outbox li")).to_have_count(0)
    assert ann.page.locator("#messages li.msg .msg-text").all_text_contents() == said
    assert ann.page.evaluate("window.__mostCopies") == 1


def refused_second_message(server, people, room, first, second):
    """Ann sends two messages at once on a strict server: the second is refused.
    Returns Ann and the locator of her failed outbox item."""
    ann = people(server.url)
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    ann.say(first)
    ann.say(second)
    failed = ann.page.locator("#outbox li.pending.is-failed")
    expect(failed).to_have_count(1)
    return ann, failed


def test_refused_message_fails_visibly_and_retry_sends_it_once(strict_server, people):
    ann, failed = refused_second_message(strict_server, people, "outbox",
                                         "first", "second, too fast")
    expect(failed.locator(".msg-text")).to_have_text("second, too fast")
    expect(failed.locator(".msg-error")).to_contain_text("too fast")
    retry = failed.get_by_role("button", name="Retry")
    sent = ann.page.locator("#messages li.msg.own", has_text="second, too fast")
    for _ in range(20):  # the bucket refills every half second
        retry.click()
        expect(ann.page.locator("#outbox li.is-sending")).to_have_count(0)
        if sent.count():
            break
    expect(sent.locator(".msg-status")).to_have_text("sent")
    expect(ann.page.locator("#outbox li")).to_have_count(0)
    texts = ann.page.locator("#messages li.msg .msg-text").all_text_contents()
    assert texts == ["first", "second, too fast"]


def test_a_failed_message_can_be_discarded(strict_server, people):
    ann, failed = refused_second_message(strict_server, people, "discard", "kept", "thrown away")
    failed.get_by_role("button", name="Discard").click()
    expect(ann.page.locator("#outbox li")).to_have_count(0)
    expect(ann.page.locator("#messages li.msg .msg-text")).to_have_text(["kept"])


def test_client_ids_work_without_crypto_random_uuid(server, people):
    """Plain http:// to a LAN address is not a secure context: no crypto.randomUUID."""
    ann = people(server.url)
    ann.context.add_init_script("delete Crypto.prototype.randomUUID;")
    ann.goto("/chat?name=Ann&room=no-uuid")
    ann.wait_joined("Ann")
    assert ann.page.evaluate("typeof crypto.randomUUID") == "undefined"
    ann.say("sent with a home-made id")
    mine = ann.page.locator("#messages li.msg.own", has_text="home-made id")
    expect(mine.locator(".msg-status")).to_have_text("sent")
    token = ann.page.evaluate("localStorage.getItem('comongus.token')")
    assert len(token) == 36 and token[14] == "4"


def test_a_refused_message_says_why_in_korean(strict_server, people):
    min_ = people(strict_server.url, locale="ko-KR")
    min_.goto("/chat?name=Minji&room=outbox-ko")
    min_.wait_joined("Minji")
    min_.say("첫 번째")
    min_.say("두 번째, 너무 빨리")
    failed = min_.page.locator("#outbox li.pending.is-failed")
    expect(failed.locator(".msg-error")).to_have_text(
        "너무 빨리 보내고 있습니다. 잠시 뒤에 다시 보내 주세요.")
    expect(failed.get_by_role("button", name="다시 보내기")).to_be_visible()
    min_.page.locator("#lang-switch").select_option("en")
    expect(failed.locator(".msg-error")).to_have_text(
        "You are sending too fast. Wait a moment, then retry.")
