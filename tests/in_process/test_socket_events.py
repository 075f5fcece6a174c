"""The contract's Socket.IO events, through Flask-SocketIO's test client, on both databases."""
from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime
from itertools import count
from types import FrameType, TracebackType

import pytest
from sqlalchemy import create_engine, text

from comongus.store import store, with_driver
from tests.helpers import wait_for


def test_join_welcomes_joiner_announces_to_others_and_lists_room(connect):
    alice, bob, outsider = connect(), connect(), connect()
    assert outsider.join("Olga", "elsewhere")[0] is None
    ack = alice.join("  Alice  ", "  lobby ")
    assert ack[0] is None
    assert ack[1]["user"] == {"name": "Alice", "room": "lobby"}
    assert ack[1]["users"] == [{"name": "Alice"}]
    assert ack[1]["history"] == []
    alice.wait_for_users(["Alice"])
    alice.forget()

    error, joined = bob.join("Bob", "lobby")
    assert error is None and joined["users"] == [{"name": "Alice"}, {"name": "Bob"}]
    welcome = bob.events("message")
    assert [m["user"] for m in welcome] == ["admin"]
    assert welcome[0]["text"] == "Bob, welcome to room lobby."
    assert welcome[0]["code"] == "welcome"
    assert welcome[0]["params"] == {"name": "Bob", "room": "lobby"}
    assert welcome[0]["id"] is None and welcome[0]["seq"] is None
    alice.wait_for_text("Bob has joined!")
    joined = [m for m in alice.events("message") if m["text"] == "Bob has joined!"]
    assert [(m["code"], m["params"]) for m in joined] == [("joined", {"names": ["Bob"]})]
    alice.wait_for_users(["Alice", "Bob"])
    assert "Bob has joined!" not in bob.texts()
    assert not any(event == "roomData" and payload["room"] == "lobby"
                   for event, payload in outsider.drain())


@pytest.mark.parametrize("taken_as", ["Alice", "alice", "ALICE", " alice ", "Ａｌｉｃｅ"])
def test_name_is_unique_in_room_ignoring_case_and_width(connect, taken_as):
    assert connect().join("Alice", "lobby")[0] is None
    error = connect().join(taken_as, "lobby")
    assert "The name 'Alice' is taken" in error[0]
    assert error[1] == {"code": "name_taken", "params": {"name": "Alice"}}
    assert connect().join(taken_as, "another room")[0] is None


REQUIRED, NOT_STRING = {"problem": "required"}, {"problem": "not_string"}


@pytest.mark.parametrize("payload, complaint, code, params", [
    (None, "object", "bad_request", {}),
    ("lobby", "object", "bad_request", {}),
    (["Alice", "lobby"], "object", "bad_request", {}),
    ({"room": "lobby"}, "name is required", "name_invalid", REQUIRED),
    ({"name": "Alice"}, "room is required", "room_invalid", REQUIRED),
    ({"name": "   ", "room": "lobby"}, "name is required", "name_invalid", REQUIRED),
    ({"name": "Alice", "room": ""}, "room is required", "room_invalid", REQUIRED),
    ({"name": 42, "room": "lobby"}, "name must be a string", "name_invalid", NOT_STRING),
    ({"name": "Alice", "room": {"x": 1}}, "room must be a string", "room_invalid", NOT_STRING),
    ({"name": "A" * 33, "room": "lobby"}, "too long", "name_invalid",
     {"problem": "too_long", "max": 32}),
    ({"name": "Alice", "room": "r" * 65}, "too long", "room_invalid",
     {"problem": "too_long", "max": 64}),
    ({"name": "\u2800", "room": "lobby"}, "visible letter", "name_invalid",
     {"problem": "no_visible"}),
    ({"name": "admin", "room": "lobby"}, "reserved", "name_reserved", {"name": "admin"}),
    ({"name": " ADMlN ", "room": "lobby"}, "reserved", "name_reserved", {"name": "ADMlN"}),
    ({"name": "Ad\u200bmin", "room": "lobby"}, "invisible", "name_invalid",
     {"problem": "invisible", "character": "U+200B"}),
    ({"name": "Alice", "room": "lob\x07by"}, "invisible", "room_invalid",
     {"problem": "invisible", "character": "U+0007"}),
    ({"name": "Alice", "room": "lobby", "since": -1}, "since", "bad_request", {}),
    ({"name": "Alice", "room": "lobby", "since": "3"}, "since", "bad_request", {}),
    ({"name": "Alice", "room": "lobby", "since": True}, "since", "bad_request", {}),
    ({"name": "Alice", "room": "lobby", "token": 7}, "token", "bad_request", {}),
    ({"name": "Alice", "room": "lobby", "token": "t" * 129}, "token", "bad_request", {}),
    ({"name": "Alice", "room": "lobby", "colour": "red"}, "Unknown field", "bad_request", {}),
])
def test_bad_join_gets_a_reason_and_a_code_and_seats_nobody(connect, client, payload,
                                                            complaint, code, params):
    watcher = connect()
    watcher.join("Watcher", "lobby")
    ack = connect().emit("join", payload)
    assert len(ack) == 2 and complaint in ack[0]
    assert ack[1] == {"code": code, "params": params}
    assert client.get("/rooms").json["results"] == [
        {"roomname": "lobby", "users": [{"name": "Watcher"}]}]


@pytest.mark.settings(MAX_NAME_LENGTH=3, MAX_ROOM_LENGTH=4, MAX_TEXT_LENGTH=5)
def test_limits_are_settings_and_their_codes_carry_them(connect):
    reason, error = connect().join("Abcd", "room")
    assert "too long" in reason and error["params"] == {"problem": "too_long", "max": 3}
    reason, error = connect().join("Abc", "rooms")
    assert "too long" in reason and error["params"] == {"problem": "too_long", "max": 4}
    joined = connect()
    assert joined.join("Abc", "room")[0] is None
    assert joined.emit("sendMessage", "123456")[1] == {"code": "text_too_long",
                                                       "params": {"max": 5}}
    assert joined.emit("sendMessage", "12345")[0] is None


def test_send_reaches_whole_room_only_and_acks_stored_message(connect, client):
    alice, bob, outsider = connect(), connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    outsider.join("Olga", "kitchen")
    error, message = alice.emit("sendMessage", "hello <b>world</b>")
    assert error is None
    assert message["user"] == "Alice" and message["room"] == "lobby"
    assert message["text"] == "hello <b>world</b>" and message["seq"] == 1
    assert isinstance(message["id"], int) and message["date"].endswith("Z")
    alice.wait_for_text("hello <b>world</b>")
    bob.wait_for_text("hello <b>world</b>")
    assert [m for m in bob.events("message") if m["user"] == "Alice"] == [message]
    assert "hello <b>world</b>" not in outsider.texts()
    stored = client.get("/messages?roomname=lobby").json["results"]
    assert stored == [{"id": message["id"], "seq": 1, "username": "Alice",
                       "text": "hello <b>world</b>", "roomname": "lobby", "date": message["date"]}]


def test_object_payload_and_seq_counts_per_room(connect):
    alice, olga = connect(), connect()
    alice.join("Alice", "lobby")
    olga.join("Olga", "kitchen")
    first = alice.emit("sendMessage", {"text": "one"})[1]
    other = olga.emit("sendMessage", {"text": "elsewhere"})[1]
    second = alice.emit("sendMessage", {"text": "two"})[1]
    assert (first["seq"], other["seq"], second["seq"]) == (1, 1, 2)
    assert first["id"] < other["id"] < second["id"]


@pytest.mark.parametrize("payload, complaint, code, params", [
    ("", "empty", "text_empty", {}),
    ("   \n ", "empty", "text_empty", {}),
    ("\u200b\u2800", "empty", "text_empty", {}),
    ({"text": ""}, "empty", "text_empty", {}),
    ({}, "text is required", "text_empty", {}),
    (None, "object", "bad_request", {}),
    (123, "object", "bad_request", {}),
    (["hi"], "object", "bad_request", {}),
    ({"text": 5}, "text must be a string", "bad_request", {}),
    ({"text": "x" * 2001}, "too long", "text_too_long", {"max": 2000}),
    ({"text": "a\x00b"}, "NUL", "bad_request", {}),
    ({"text": "hi", "clientId": 5}, "clientId", "bad_request", {}),
    ({"text": "hi", "clientId": ""}, "clientId", "bad_request", {}),
    ({"text": "hi", "clientId": "c" * 65}, "clientId", "bad_request", {}),
    ({"text": "hi", "room": "kitchen"}, "Unknown field", "bad_request", {}),
])
def test_bad_send_gets_a_reason_and_a_code_and_stores_nothing(connect, client, payload,
                                                              complaint, code, params):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    bob.forget()
    ack = alice.emit("sendMessage", payload)
    assert len(ack) == 2 and complaint in ack[0]
    assert ack[1] == {"code": code, "params": params}
    assert client.get("/messages").json["results"] == []
    assert [m for m in bob.events("message") if m["user"] != "admin"] == []


def test_text_of_exactly_the_limit_is_accepted(connect):
    alice = connect()
    alice.join("Alice", "lobby")
    assert alice.emit("sendMessage", "é" * 2000)[0] is None


def test_a_fault_on_the_server_is_acked_as_server_error(connect, monkeypatch):
    alice = connect()
    alice.join("Alice", "lobby")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "save_message", broken)
    reason, error = alice.emit("sendMessage", "hi")
    assert reason == "Something went wrong on the server; try again."
    assert error == {"code": "server_error", "params": {}}


def test_send_before_join_is_refused(connect, client):
    reason, error = connect().emit("sendMessage", "hello")
    assert "Join a room" in reason and error == {"code": "not_joined", "params": {}}
    assert client.get("/messages").json["results"] == []


def test_resend_with_same_client_id_is_stored_and_delivered_once(connect, client):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    first = alice.emit("sendMessage", {"text": "only once", "clientId": "c-1"})
    again = alice.emit("sendMessage", {"text": "only once", "clientId": "c-1"})
    assert first == again and first[0] is None
    bob.wait_for_text("only once")
    alice.emit("sendMessage", "a later message")
    bob.wait_for_text("a later message")
    assert bob.texts().count("only once") == 1
    assert [m["text"] for m in client.get("/messages").json["results"]] == [
        "only once", "a later message"]


def test_same_client_id_from_another_user_is_another_message(connect):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    a = alice.emit("sendMessage", {"text": "hi", "clientId": "same"})[1]
    b = bob.emit("sendMessage", {"text": "hi", "clientId": "same"})[1]
    assert a["id"] != b["id"] and (a["seq"], b["seq"]) == (1, 2)


@pytest.mark.settings(SEND_BURST=3, SEND_RATE_PER_SECOND=0.01)
def test_rate_limit_refuses_a_flood_and_stores_none_of_the_excess(connect):
    alice = connect()
    alice.join("Alice", "lobby")
    acks = [alice.emit("sendMessage", f"m{i}") for i in range(6)]
    assert [ack[0] for ack in acks[:3]] == [None, None, None]
    assert all("too fast" in ack[0] for ack in acks[3:])
    assert all(ack[1] == {"code": "rate_limited", "params": {}} for ack in acks[3:])
    mine = [m["text"] for m in alice.events("message") if m["user"] == "Alice"]
    assert mine == ["m0", "m1", "m2"]


def test_join_history_is_latest_fifty_oldest_first(connect, save):
    save("lobby", "Alice", *[f"m{i}" for i in range(1, 61)])
    history = connect().join("Bob", "lobby")[1]["history"]
    assert [m["seq"] for m in history] == list(range(11, 61))
    assert history[0]["text"] == "m11" and set(history[0]) == {"id", "seq", "user", "text",
                                                                 "room", "date"}


def test_join_with_since_replays_exactly_what_was_missed(connect, save):
    save("lobby", "Alice", *[f"m{i}" for i in range(1, 8)])
    save("kitchen", "Olga", "not this room")
    history = connect().join("Bob", "lobby", since=4)[1]["history"]
    assert [m["text"] for m in history] == ["m5", "m6", "m7"]
    assert connect().join("Carol", "lobby", since=7)[1]["history"] == []


def test_a_join_sees_what_anything_else_stored_or_deleted_since_the_last_join(
        connect, save, database_url):
    """A room's join history is read once and kept while nothing is committed; a
    message stored, or a message deleted, through another connection to the database
    (another process, say) shows at the very next join."""
    readers = count()

    def history():
        ack = connect().join(f"Reader{next(readers)}", "lobby")
        return [(m["text"], m.get("deleted", False)) for m in ack[1]["history"]]

    save("lobby", "Alice", "m1", "m2")
    assert history() == history() == [("m1", False), ("m2", False)]
    save("lobby", "Bob", "m3")
    assert history() == [("m1", False), ("m2", False), ("m3", False)]
    elsewhere = create_engine(with_driver(database_url))
    try:
        with elsewhere.begin() as connection:
            connection.execute(text("UPDATE messages SET username = '', text = '' "
                                    "WHERE text = 'm2'"))
    finally:
        elsewhere.dispose()
    assert history() == [("m1", False), ("", True), ("m3", False)]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_join_sees_a_message_committed_after_a_newer_one(connect, save, app):
    """On PostgreSQL ids are taken before commit: a slow writer's message can land after
    one with a higher id. The history read in between must not be kept past it."""
    from sqlalchemy.orm import Session

    from comongus.models import Message

    readers = count()

    def history():
        ack = connect().join(f"Reader{next(readers)}", "lobby")
        return [m["text"] for m in ack[1]["history"]]

    with app.app_context(), Session(store.engine) as slow_writer:
        slow_writer.add(Message(room="lobby", seq=1, username="Alice", text="took a while",
                                created_at=datetime.now(UTC).replace(tzinfo=None)))
        slow_writer.flush()  # its id is taken, its commit is still to come
        save("kitchen", "Bob", "quick")  # a higher id, committed first
        assert history() == []
        slow_writer.commit()
    assert history() == ["took a while"]


@pytest.mark.settings(REPLAY_LIMIT=5)
def test_since_replay_is_capped_and_rest_pages_the_rest(connect, client, save):
    save("lobby", "Alice", *[f"m{i}" for i in range(1, 13)])
    history = connect().join("Bob", "lobby", since=2)[1]["history"]
    assert [m["seq"] for m in history] == [3, 4, 5, 6, 7]
    rest = client.get(f"/messages?roomname=lobby&after={history[-1]['id']}").json
    assert [m["seq"] for m in rest["results"]] == [8, 9, 10, 11, 12]


@pytest.mark.settings(LEAVE_GRACE_SECONDS=0.3)
def test_token_lets_one_person_hold_a_name_from_several_tabs(connect):
    bob = connect()
    bob.join("Bob", "lobby")
    tab1, tab2, thief, tokenless = connect(), connect(), connect(), connect()
    assert tab1.join("Alice", "lobby", token="secret-1")[0] is None
    bob.wait_for_text("Alice has joined!")
    ack = tab2.join("alice", "lobby", token="secret-1")
    assert ack[0] is None and ack[1]["user"]["name"] == "Alice"
    assert ack[1]["users"] == [{"name": "Bob"}, {"name": "Alice"}]
    assert "taken" in thief.join("Alice", "lobby", token="secret-2")[0]
    assert "taken" in tokenless.join("Alice", "lobby")[0]

    tab1.disconnect()
    tab2.emit("sendMessage", "still here")
    bob.wait_for_text("still here")
    assert bob.texts().count("Alice has joined!") == 1
    assert "Alice has left." not in bob.texts()
    tab2.disconnect()
    bob.wait_for_text("Alice has left.")
    bob.wait_for_users(["Bob"])


def test_name_without_token_cannot_be_shared(connect):
    assert connect().join("Alice", "lobby")[0] is None
    assert "taken" in connect().join("Alice", "lobby")[0]
    assert "taken" in connect().join("Alice", "lobby", token="mine-now")[0]


def test_joining_again_moves_rooms(connect):
    alice, bob, carol = connect(), connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    carol.join("Carol", "kitchen")
    assert bob.join("Bob", "kitchen")[0] is None
    alice.wait_for_text("Bob has left.")
    alice.wait_for_users(["Alice"])
    carol.wait_for_users(["Carol", "Bob"])
    alice.emit("sendMessage", "lobby only")
    carol.emit("sendMessage", "kitchen only")
    bob.wait_for_text("kitchen only")
    assert "lobby only" not in bob.texts()


def test_a_join_asks_presence_once(app, connect, monkeypatch):
    """Seat, arrival and the room's members come from one answer, however the join goes
    (first, again, another tab, a move); the announcer is told who changed, not asking."""
    alice, bob, bobs_tab = connect(), connect(), connect()
    alice.join("Alice", "lobby")
    table, caller, asked = app.extensions["comongus.presence"], threading.get_ident(), []

    def counting(name, method):
        def counted(*args, **kwargs):
            if threading.get_ident() == caller:  # not the announcer's own task
                asked.append(name)
            return method(*args, **kwargs)
        return counted

    for name in ("join", "leave", "seat_of", "holder", "members", "occupied_rooms"):
        monkeypatch.setattr(table, name, counting(name, getattr(table, name)))
    assert bob.join("Bob", "lobby", token="t")[1]["users"] == [{"name": "Alice"}, {"name": "Bob"}]
    assert bob.join("Bob", "lobby", token="t")[0] is None
    assert bobs_tab.join("Bob", "lobby", token="t")[0] is None
    assert bob.join("Bob", "kitchen", token="t")[1]["users"] == [{"name": "Bob"}]
    assert asked == ["join"] * 4


def test_failed_move_keeps_the_old_seat(connect):
    alice, bob, carol = connect(), connect(), connect()
    alice.join("Alice", "lobby")
    carol.join("Carol", "kitchen")
    bob.join("Carol", "lobby")
    assert "taken" in bob.join("Carol", "kitchen")[0]
    error, message = bob.emit("sendMessage", "still in the lobby")
    assert error is None and message["room"] == "lobby"


def test_typing_reaches_the_others_in_the_room_only(connect):
    alice, bob, outsider = connect(), connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    outsider.join("Olga", "kitchen")
    alice.emit("typing", True)
    wait_for(lambda: bob.events("typing") == [{"user": "Alice", "typing": True}])
    alice.emit("typing", False)
    wait_for(lambda: bob.events("typing")[-1] == {"user": "Alice", "typing": False})
    alice.emit("typing", "yes")  # not a boolean: ignored
    assert alice.events("typing") == [] and outsider.events("typing") == []
    assert len(bob.events("typing")) == 2


@pytest.mark.parametrize("how", ["leave", "disconnect"])
def test_leaving_tells_the_room_and_updates_the_list(connect, client, how):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    alice.wait_for_users(["Alice", "Bob"])
    if how == "leave":
        assert bob.emit("leave") == (None,)
        assert "Join a room" in bob.emit("sendMessage", "ghost")[0]
    else:
        bob.disconnect()
    alice.wait_for_text("Bob has left.")
    alice.wait_for_users(["Alice"])
    left = [m for m in alice.events("message") if m["text"] == "Bob has left."][0]
    assert left["user"] == "admin" and left["id"] is None
    assert left["code"] == "left" and left["params"] == {"names": ["Bob"]}
    assert client.get("/rooms").json["results"] == [
        {"roomname": "lobby", "users": [{"name": "Alice"}]}]


def test_rest_post_reaches_the_room_live(connect, client):
    alice, outsider = connect(), connect()
    alice.join("Alice", "lobby")
    outsider.join("Olga", "kitchen")
    response = client.post("/messages", json={"username": "Webby", "text": "from REST",
                                              "roomname": "lobby"})
    assert response.status_code == 201
    alice.wait_for_text("from REST")
    live = [m for m in alice.events("message") if m["text"] == "from REST"][0]
    assert live == {"id": response.json["id"], "seq": 1, "user": "Webby", "text": "from REST",
                    "room": "lobby", "date": response.json["date"]}
    assert "from REST" not in outsider.texts()


def test_database_refusing_writes_gives_error_ack_and_no_broadcast(connect, app, client):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby")
    bob.join("Bob", "lobby")
    with app.app_context(), store.engine.begin() as connection:
        connection.execute(text("DROP TABLE messages"))
    bob.forget()
    ack = alice.emit("sendMessage", "lost?")
    assert "could not be stored" in ack[0]
    assert ack[1] == {"code": "storage_unavailable", "params": {}}
    response = client.post("/messages", json={"username": "W", "text": "x", "roomname": "lobby"})
    assert response.status_code == 503 and response.json["error"]
    assert response.json["code"] == "storage_unavailable"
    alice.emit("typing", True)  # something that does arrive, to flush anything in flight
    wait_for(lambda: bob.events("typing"))
    assert [m for m in bob.events("message") if m["user"] != "admin"] == []


@pytest.mark.settings(ROOMDATA_INTERVAL=0.3)
def test_a_burst_of_joins_is_one_notice_and_one_list(connect):
    """1,000 people joining must not cost 1,000 notices and lists to each of 1,000 people."""
    watcher = connect()
    watcher.join("Watcher", "hall")
    watcher.wait_for_users(["Watcher"])
    watcher.forget()
    burst = [connect() for _ in range(8)]
    names = [f"P{i}" for i in range(8)]
    for name, person in zip(names, burst, strict=True):
        assert person.join(name, "hall")[0] is None
    watcher.wait_for_users(["Watcher", *names])
    wait_for(lambda: any("P7" in text for text in watcher.texts()))
    notices = [m["text"] for m in watcher.events("message")]
    assert len(notices) <= 4 and len(watcher.events("roomData")) <= 2
    assert notices[-1].endswith("P5, P6 and P7 have joined!")
    assert all(name in " ".join(notices) for name in names)  # everyone is named
    assert "P5, P6 and P7 have joined!" in burst[7].texts()[-1]  # joiners learn of each other
    named = assert_names_are_the_params(watcher.events("message"), "joined")
    assert sorted(named) == names and len(burst[7].events("message")[-1]["params"]["names"]) > 1


@pytest.mark.settings(ROOMDATA_INTERVAL=0.3)
def test_a_burst_of_leaves_is_one_notice(connect):
    watcher = connect()
    watcher.join("Watcher", "hall")
    people = [connect() for _ in range(6)]
    for i, person in enumerate(people):
        person.join(f"P{i}", "hall")
    wait_for(lambda: any("P5" in text and "joined" in text for text in watcher.texts()))
    watcher.forget()
    for person in people:
        person.disconnect()
    watcher.wait_for_users(["Watcher"])
    wait_for(lambda: any("P5" in text and "left" in text for text in watcher.texts()))
    notices = [m["text"] for m in watcher.events("message")]
    assert len(notices) <= 4 and notices[-1].endswith("P4 and P5 have left.")
    assert all(f"P{i}" in " ".join(notices) for i in range(6))
    assert sorted(assert_names_are_the_params(watcher.events("message"), "left")) == [
        f"P{i}" for i in range(6)]


def assert_names_are_the_params(notices, code):
    """Each notice's `names` are exactly the people its English text names; returns them all."""
    verb = {"joined": ("has joined!", "have joined!"), "left": ("has left.", "have left.")}[code]
    named = []
    for notice in notices:
        assert notice["code"] == code and set(notice["params"]) == {"names"}, notice
        people = notice["params"]["names"]
        listed = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]
        assert notice["text"] == f"{listed} {verb[len(people) > 1]}", notice
        named += people
    return named


@pytest.mark.settings(LEAVE_GRACE_SECONDS=2)
def test_a_closed_tab_stays_listed_through_its_grace_then_is_told_as_leaving(connect, client):
    alice, bob = connect(), connect()
    alice.join("Alice", "lobby", token="alice-token")
    bob.join("Bob", "lobby")
    bob.wait_for_users(["Alice", "Bob"])
    alice.disconnect()
    assert client.get("/rooms").json["results"] == [
        {"roomname": "lobby", "users": [{"name": "Alice"}, {"name": "Bob"}]}]
    bob.wait_for_text("Alice has left.")
    bob.wait_for_users(["Bob"])
    assert all("Alice" in [user["name"] for user in data["users"]]
               for data in bob.events("roomData")[:-1])


@pytest.mark.settings(LEAVE_GRACE_SECONDS=1)
def test_a_reload_within_its_grace_is_told_nothing(connect):
    alice, bob, carol = connect(), connect(), connect()
    bob.join("Bob", "lobby")  # first, so the others' join notices come to Bob, once
    alice.join("Alice", "lobby", token="alice-token")
    carol.join("Carol", "lobby", token="carol-token")
    bob.wait_for_users(["Bob", "Alice", "Carol"])
    wait_for(lambda: any("Carol" in text and "joined" in text for text in bob.texts()),
             message="Carol told as joining")  # a notice comes apart from the list
    bob.forget()
    alice.disconnect()
    assert connect().join("Alice", "lobby", token="alice-token")[0] is None
    carol.disconnect()  # after Alice: once Carol is told as leaving, Alice's grace is over
    bob.wait_for_text("Carol has left.")
    bob.wait_for_users(["Bob", "Alice"])
    assert [m["text"] for m in bob.events("message")] == ["Carol has left."]


@pytest.mark.parametrize("handshake", [
    {},  # over long-polling
    {"Connection": "Upgrade", "Upgrade": "websocket"},  # straight over WebSocket
])
def test_events_leave_the_cycle_collector_almost_nothing(connect, handshake):
    """Garbage in reference cycles waits for a collection, and each collection holds
    every delivery up: an event must not leave an exception, its traceback and
    its frames behind (Flask matching Socket.IO's path to no route did, about
    sixty objects an event)."""
    alice = connect(handshake)
    alice.join("Alice", "lobby")
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees is kept, to look at
    try:
        for number in range(20):
            assert alice.emit("sendMessage", f"message {number}")[0] is None
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    heavy = [type(thing).__name__ for thing in garbage
             if isinstance(thing, BaseException | TracebackType | FrameType)]
    assert heavy == []
    assert len(garbage) < 20 * 20, len(garbage)
