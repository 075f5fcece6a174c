"""The chat panel in the reader's language: notices and errors from codes, days and times."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.helpers import post_message

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
LOCALES = {"en": "en-US", "ko": "ko-KR"}


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


def open_chat(server, people, room, name, lang="en", size="desktop", **options):
    person = people(server.url, locale=LOCALES[lang], timezone_id="UTC", **SIZES[size], **options)
    person.goto(f"/chat?name={name}&room={room}")
    person.wait_joined(name)
    return person


def backdate(server, room, text, when):
    """Move a stored message to another moment, as if it had been written then."""
    stamp = when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(server.workdir / "chat.sqlite3") as db:
        changed = db.execute("UPDATE messages SET created_at = ? WHERE room = ? AND text = ?",
                             (stamp, room, text)).rowcount
    assert changed == 1


CODE_TEXT = """async ([code, params, fallback]) => {
  const { codeText } = await import("/static/js/i18n.js");
  return codeText(code, params, fallback);
}"""


@pytest.mark.parametrize("lang, names, expected", [
    ("en", ["Ann"], "Ann has joined."),
    ("en", ["Ann", "Bob"], "Ann and Bob have joined."),
    ("en", ["Ann", "Bob", "Cy"], "Ann, Bob, and Cy have joined."),
    ("en", ["Ann", "Bob", "Cy", "Di", "Ed"], "Ann, Bob and 3 others have joined."),
    ("en", ["Ann", "Bob", "Cy", "Di"], "Ann, Bob and 2 others have left."),
    ("ko", ["민지"], "민지 님이 들어왔습니다."),
    ("ko", ["민지", "서준"], "민지 및 서준 님이 들어왔습니다."),
    ("ko", ["민지", "서준", "하나", "지우"], "민지, 서준 님 외 2명이 들어왔습니다."),
])
def test_joined_notices_read_naturally_for_one_or_many(server, people, lang, names, expected):
    ann = open_chat(server, people, f"plural-{lang}-{len(names)}", "Ann", lang)
    code = "left" if "left" in expected else "joined"
    assert ann.page.evaluate(CODE_TEXT, [code, {"names": names}, "fallback"]) == expected


def test_unknown_or_missing_codes_fall_back_to_the_servers_text(server, people):
    ann = open_chat(server, people, "fallback", "Ann", "ko")
    assert ann.page.evaluate(CODE_TEXT, ["shrugged", {}, "Ann shrugged."]) == "Ann shrugged."
    assert ann.page.evaluate(CODE_TEXT, [None, None, "plain v1 text"]) == "plain v1 text"
    assert ann.page.evaluate(CODE_TEXT, ["joined", {}, "Bob has joined!"]) == "Bob has joined!"
    assert ann.page.evaluate(CODE_TEXT, ["welcome", {"name": "Ann"}, "hi Ann"]) == "hi Ann"


def test_days_are_separated_and_times_follow_the_language(server, people, size):
    room = f"days-{size}"
    now = datetime.now(UTC)
    earlier = (now - timedelta(days=3)).replace(hour=9, minute=5, second=0, microsecond=0)
    for text in ("three days ago", "yesterday's", "today's"):
        post_message(server.url, room, "Bot", text)
    backdate(server, room, "three days ago", earlier)
    backdate(server, room, "yesterday's", now - timedelta(days=1))

    ann = open_chat(server, people, room, "Ann", "en", size)
    days = ann.page.locator("#messages li.day")
    expect(days).to_have_count(3)
    expected_date = earlier.strftime("%A, %B ") + str(earlier.day)
    if earlier.year != now.year:
        expected_date += f", {earlier.year}"
    expect(days).to_have_text([expected_date, "Yesterday", "Today"])
    # Each separator comes right before the first message of its day.
    order = ann.page.locator("#messages > li").evaluate_all(
        "items => items.map(i => i.classList.contains('day') ? 'day' : i.textContent)")
    assert [entry if entry == "day" else "msg" for entry in order[:6]] == ["day", "msg"] * 3
    old = ann.page.locator("#messages li.msg", has_text="three days ago").locator("time")
    expect(old).to_have_text("9:05 AM")  # the reader's hour, no leading zero
    expect(old).to_have_attribute("title", f"{expected_date}, {earlier.year} at 9:05 AM"
                                  if earlier.year == now.year else f"{expected_date} at 9:05 AM")

    ann.page.locator("#lang-switch").select_option("ko")
    expect(days.nth(1)).to_have_text("어제")
    expect(days.nth(2)).to_have_text("오늘")
    expect(days.nth(0)).to_contain_text(f"{earlier.month}월 {earlier.day}일")
    expect(old).to_have_text("오전 9:05")
    expect(old).to_have_attribute("title", f"{earlier.year}년 {earlier.month}월 {earlier.day}일 "
                                  f"{'월화수목금토일'[earlier.weekday()]}요일 오전 9:05")


def test_a_korean_reader_sees_korean_days_and_times_from_the_start(server, people):
    room = "days-ko"
    post_message(server.url, room, "Bot", "아침 인사")
    morning = datetime.now(UTC).replace(hour=7, minute=3) - timedelta(days=1)
    backdate(server, room, "아침 인사", morning)
    min_ = open_chat(server, people, room, "Minji", "ko")
    # Yesterday's message, then today's welcome notice.
    expect(min_.page.locator("#messages li.day")).to_have_text(["어제", "오늘"])
    expect(min_.page.locator("#messages li.msg time")).to_have_text("오전 7:03")


def test_a_long_press_shows_the_full_date_on_a_phone(server, people):
    room = "long-press"
    post_message(server.url, room, "Bot", "press my time")
    ann = open_chat(server, people, room, "Ann", "en", "phone")
    time = ann.page.locator("#messages li.msg time")
    full = time.get_attribute("title")
    assert full and "at" in full and full != time.text_content()
    time.dispatch_event("pointerdown", {"pointerType": "touch", "bubbles": True})
    expect(time).to_have_text(full)


def test_korean_reader_sees_welcome_joined_and_left_in_korean(server, people, size):
    room = f"codes-ko-{size}"
    min_ = open_chat(server, people, room, "Minji", "ko", size)
    notices = min_.page.locator("#messages li.notice .notice-text")
    expect(notices).to_have_text([f"Minji 님, #{room} 방에 오신 것을 환영합니다."])
    bob = open_chat(server, people, room, "Bob")
    expect(notices.last).to_have_text("Bob 님이 들어왔습니다.")
    bob.close()
    expect(notices.last).to_have_text("Bob 님이 나갔습니다.")

    min_.page.locator("#lang-switch").select_option("en")
    expect(notices).to_have_text([f"Minji, welcome to #{room}.", "Bob has joined.",
                                  "Bob has left."])


def test_a_taken_name_is_explained_in_korean_in_the_panel_and_on_the_join_page(server, people):
    open_chat(server, people, "taken-ko", "Eve")
    taken = "이 방에서 이미 쓰고 있는 닉네임입니다. 다른 닉네임을 골라 주세요."
    visitor = people(server.url, locale="ko-KR")
    visitor.goto("/chat?name=EVE&room=taken-ko")
    visitor.page.wait_for_url("**/rtcjoin?**")
    expect(visitor.page.locator("#name-error")).to_have_text(taken)
    expect(visitor.page.locator("#room-error")).to_be_hidden()

    visitor.goto("/embed?room=taken-ko")
    visitor.page.locator("#join-name").fill("eve")
    visitor.page.locator("#join-form button[type=submit]").click()
    error = visitor.page.locator("#join-name-error")
    expect(error).to_have_text(taken)
    expect(visitor.page.locator("#join-name")).to_be_focused()
    visitor.page.locator("#lang-switch").select_option("en")
    expect(error).to_have_text("This nickname is already taken in this room. Choose another.")


def test_a_reserved_name_is_explained_in_the_readers_language(server, people):
    ann = people(server.url, locale="en-US")
    ann.goto("/chat?name=admin&room=reserved")
    ann.page.wait_for_url("**/rtcjoin?**")
    expect(ann.page.locator("#name-error")).to_have_text(
        "This nickname is reserved. Choose another.")


def test_times_follow_the_readers_own_english(server, people):
    room = "days-en-gb"
    post_message(server.url, room, "Bot", "teatime")
    backdate(server, room, "teatime", datetime.now(UTC).replace(hour=17, minute=25)
             - timedelta(days=1))
    ann = people(server.url, locale="en-GB", timezone_id="UTC")
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    expect(ann.page.locator("#messages li.msg time")).to_have_text("17:25")
    expect(ann.page.locator("#messages li.day").first).to_have_text("Yesterday")


@pytest.mark.parametrize("lang, name, expected", [
    ("ko", "N" * 33, "닉네임이 너무 깁니다. 최대 32자까지 쓸 수 있습니다."),
    ("en", "N" * 33, "This nickname is too long: at most 32 characters."),
    ("en", "Ann\u200b",
     "This nickname holds an invisible character (U+200B). Remove it and try again."),
])
def test_why_a_name_cannot_be_used_is_said_precisely(server, people, lang, name, expected):
    person = people(server.url, locale=LOCALES[lang])
    person.goto(f"/chat?{urlencode({'name': name, 'room': f'precise-{lang}'})}")
    person.page.wait_for_url("**/rtcjoin?**")
    expect(person.page.locator("#name-error")).to_have_text(expected)
