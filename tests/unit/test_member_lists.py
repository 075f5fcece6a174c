"""A room's member list kept as JSON text: whatever the changes, a packet carries exactly
what building the list afresh would give, and the kept texts stay within their bound."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comongus import create_app, member_lists, packet_json
from comongus.member_lists import KEEP_FROM_NAMES, MemberLists, entries
from comongus.packet_json import RawJSON


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("member-lists")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/chat.db",
                      "OWNER_PASSWORD": "correct horse battery staple", "OWNER_NAME": "host"})
    with app.app_context():
        yield app


def as_sent(users) -> list:
    """What a client decodes from a packet carrying `users`."""
    return json.loads(packet_json.dumps([None, {"users": users}], separators=(",", ":")))[1][
        "users"]


def expected(names):
    return [{"name": name, "host": True} if name == "host" else {"name": name} for name in names]


names_strategy = st.lists(st.text(min_size=1, max_size=12), unique=True,
                          max_size=3 * KEEP_FROM_NAMES)


@settings(max_examples=60, deadline=None)
@given(changes=st.lists(st.tuples(st.sampled_from(["add", "remove", "replace"]), names_strategy),
                        min_size=1, max_size=8))
def test_every_sequence_of_lists_is_sent_as_built_afresh(app, changes):
    lists = MemberLists()
    names: list[str] = [f"u{i}" for i in range(KEEP_FROM_NAMES)] + ["host"]
    for change, more in changes:
        if change == "add":
            names = names + [name for name in more if name not in names]
        elif change == "remove":
            names = [name for name in names if name not in set(more[:5])] or names[:1]
        else:
            names = more
        assert as_sent(lists.encoded("hall", names)) == expected(names)


def test_a_join_at_the_end_extends_the_kept_text(app):
    lists = MemberLists()
    names = [f"person {i} \"quoted\" \\ 한국어 😀" for i in range(KEEP_FROM_NAMES)]
    first = lists.encoded("hall", names)
    assert isinstance(first, RawJSON)
    second = lists.encoded("hall", names + ["host"])
    assert second.text.startswith(first.text[:-1])
    assert as_sent(second) == expected(names + ["host"])
    assert as_sent(lists.encoded("hall", names[1:])) == expected(names[1:])


def test_small_rooms_are_built_each_time_and_not_kept(app):
    lists = MemberLists()
    names = [f"u{i}" for i in range(KEEP_FROM_NAMES)]
    assert isinstance(lists.encoded("hall", names), RawJSON)
    assert lists.encoded("hall", names[:3]) == expected(names[:3])
    assert lists._kept == {}


def test_the_kept_texts_stay_within_their_bound(app, monkeypatch):
    monkeypatch.setattr(member_lists, "KEEP_CHARACTERS", 10_000)
    lists = MemberLists()
    for room in range(20):
        names = [f"room {room} person {i}" for i in range(KEEP_FROM_NAMES)]
        assert as_sent(lists.encoded(f"room {room}", names)) == expected(names)
        assert lists._characters == sum(len(text) for _names, text in lists._kept.values())
        assert lists._characters <= 10_000 or len(lists._kept) == 1
    assert "room 19" in lists._kept and "room 0" not in lists._kept


def test_rest_lists_carry_the_host_mark_too(app):
    assert entries(["Vera", "host"]) == [{"name": "Vera"}, {"name": "host", "host": True}]


@pytest.mark.parametrize("text", ["x", "[1,2]", '{"a":"b"}'])
def test_packet_json_writes_raw_text_in_place_and_the_rest_as_json_does(text):
    payload = {"raw": RawJSON(text), "again": [RawJSON(text)], "s": "ünï \"q\" \u2028", "n": 1.5}
    encoded = packet_json.dumps(payload, separators=(",", ":"))
    plain = {**payload, "raw": "X", "again": ["X"]}
    assert encoded == json.dumps(plain, separators=(",", ":")).replace('"X"', text)


def test_a_string_that_looks_like_the_stand_in_is_left_alone():
    lookalike = packet_json._PLACEHOLDER + "0"
    encoded = packet_json.dumps([lookalike, RawJSON("[]"), lookalike])
    assert json.loads(encoded) == [lookalike, [], lookalike]


def test_anything_else_unencodable_is_still_an_error():
    with pytest.raises(TypeError):
        packet_json.dumps({"x": object()})
