"""The contract's REST API, through Flask's test client, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest


def post(client, **body):
    return client.post("/messages", json=body)


def texts(response):
    return [message["text"] for message in response.json["results"]]


def test_board_starts_empty(client):
    response = client.get("/messages")
    assert response.status_code == 200 and response.json == {"results": []}
    assert response.content_type == "application/json"


def test_post_stores_and_returns_the_message(client):
    response = post(client, username="Alice", text="hi there", roomname="lobby")
    assert response.status_code == 201
    message = response.json
    assert set(message) == {"id", "seq", "username", "text", "roomname", "date"}
    assert (message["username"], message["text"], message["roomname"], message["seq"]) == (
        "Alice", "hi there", "lobby", 1)
    assert message["date"].endswith("Z") and "T" in message["date"]
    assert client.get("/messages").json["results"] == [message]


def test_ids_grow_globally_and_seq_counts_per_room(client):
    made = [post(client, username="A", text=f"t{i}", roomname=room).json
            for i, room in enumerate(["lobby", "kitchen", "lobby", "lobby", "kitchen"])]
    assert [m["id"] for m in made] == sorted(m["id"] for m in made)
    assert [(m["roomname"], m["seq"]) for m in made] == [
        ("lobby", 1), ("kitchen", 1), ("lobby", 2), ("lobby", 3), ("kitchen", 2)]


@pytest.mark.parametrize("text", [
    "  <script>alert(1)</script> 안녕하세요 👋\n\ttabs & \"quotes\"  ",
    "e\u0301 is not é; ﬁ is not fi; Ａ is not A",  # text is not normalised, unlike names
    "👩‍👩‍👧‍👦 \u202e right-to-left override kept in text \u200b",
    "\U0010ffff" + "\\" * 3,
])
def test_text_round_trips_exactly(client, text):
    assert post(client, username="Alice", text=text, roomname="lobby").json["text"] == text
    assert texts(client.get("/messages")) == [text]


def test_paging_latest_after_before_and_room_filter(client):
    ids = [post(client, username="A", text=f"m{i}", roomname="lobby" if i % 2 else "kitchen")
           .json["id"] for i in range(1, 11)]
    assert texts(client.get("/messages?limit=3")) == ["m8", "m9", "m10"]
    assert texts(client.get(f"/messages?after={ids[2]}&limit=3")) == ["m4", "m5", "m6"]
    assert texts(client.get(f"/messages?before={ids[5]}&limit=2")) == ["m4", "m5"]
    assert texts(client.get(f"/messages?after={ids[1]}&before={ids[5]}")) == ["m3", "m4", "m5"]
    assert texts(client.get("/messages?roomname=lobby")) == ["m1", "m3", "m5", "m7", "m9"]
    assert texts(client.get("/messages?roomname=lobby&limit=2")) == ["m7", "m9"]
    assert texts(client.get("/messages?roomname=nowhere")) == []


def test_default_page_is_latest_hundred(client, save):
    save("lobby", "A", *[f"m{i}" for i in range(1, 106)])
    page = texts(client.get("/messages"))
    assert len(page) == 100 and page[0] == "m6" and page[-1] == "m105"


def test_resend_with_same_client_id_is_stored_once(client):
    first = client.post("/messages", json={"username": "A", "text": "x", "roomname": "r",
                                           "clientId": "abc"})
    again = client.post("/messages", json={"username": "A", "text": "x", "roomname": "r",
                                           "clientId": "abc"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert len(client.get("/messages").json["results"]) == 1


GOOD = {"username": "Alice", "text": "hello", "roomname": "lobby"}


@pytest.mark.parametrize("body, complaint, code", [
    ({"username": "Alice", "text": "hello"}, "Missing: roomname.", "bad_request"),
    ({"text": "hello", "roomname": "lobby"}, "Missing: username.", "bad_request"),
    ({"username": "Alice"}, "Missing: text, roomname.", "bad_request"),
    ({**GOOD, "text": None}, "text is required", "text_empty"),
    ({**GOOD, "username": ""}, "username is required", "name_invalid"),
    ({**GOOD, "roomname": "   "}, "roomname is required", "room_invalid"),
    ({**GOOD, "text": "  "}, "text is empty", "text_empty"),
    ({**GOOD, "username": "u" * 33}, "too long", "name_invalid"),
    ({**GOOD, "roomname": "r" * 65}, "too long", "room_invalid"),
    ({**GOOD, "text": "t" * 2001}, "too long", "text_too_long"),
    ({**GOOD, "username": 5}, "must be a string", "name_invalid"),
    ({**GOOD, "text": ["hello"]}, "must be a string", "bad_request"),
    ({**GOOD, "username": "admin"}, "reserved", "name_reserved"),
    ({**GOOD, "username": "Al\u202eice"}, "invisible", "name_invalid"),
    ({**GOOD, "text": "a\x00b"}, "NUL", "bad_request"),
    ({**GOOD, "text": "broken \ud800 half"}, "surrogate", "bad_request"),
    ({**GOOD, "username": "\u200bAlice"}, "invisible", "name_invalid"),
    ({**GOOD, "roomname": "lob\x07by"}, "invisible", "room_invalid"),
    ({**GOOD, "clientId": 12}, "clientId", "bad_request"),
    ({**GOOD, "extra": 1}, "Unknown field", "bad_request"),
    (["hello"], "JSON object", "bad_request"),
    ("hello", "JSON object", "bad_request"),
    (None, "JSON object", "bad_request"),
])
def test_bad_post_is_refused_with_reason_and_code_and_stores_nothing(client, body, complaint,
                                                                     code):
    response = client.post("/messages", json=body)
    assert response.status_code == 400, response.json
    assert complaint in response.json["error"] and response.json["code"] == code
    assert client.get("/messages").json["results"] == []


@pytest.mark.parametrize("body, code, params", [
    ({**GOOD, "text": "t" * 2001}, "text_too_long", {"max": 2000}),
    ({**GOOD, "username": "u" * 33}, "name_invalid", {"problem": "too_long", "max": 32}),
    ({**GOOD, "username": "Admin"}, "name_reserved", {"name": "Admin"}),
    ({**GOOD, "roomname": ""}, "room_invalid", {"problem": "required"}),
    ({**GOOD, "text": ""}, "text_empty", None),
])
def test_a_refused_post_carries_the_params_its_message_needs(client, body, code, params):
    answer = client.post("/messages", json=body).json
    assert answer["code"] == code and answer.get("params") == params


@pytest.mark.parametrize("data, content_type, status, code", [
    ('{"username": "A", "text": "hi", "roomname": "r"}', "text/plain", 400, "bad_request"),
    ("username=A&text=hi&roomname=r", "application/x-www-form-urlencoded", 400, "bad_request"),
    ("{not json", "application/json", 400, "bad_request"),
    ("[" * 20000 + "]" * 20000, "application/json", 400, "bad_request"),
    ('{"username": "A", "text": "' + "x" * 70000 + '", "roomname": "r"}', "application/json",
     413, "body_too_large"),
])
def test_body_that_is_not_usable_json_is_refused(client, data, content_type, status, code):
    response = client.post("/messages", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"] and response.json["code"] == code
    assert client.get("/messages").json["results"] == []


@pytest.mark.parametrize("query, code", [
    ("after=abc", "bad_request"), ("after=-1", "bad_request"), ("before=1.5", "bad_request"),
    ("limit=0", "bad_request"), ("limit=1001", "bad_request"), ("limit=ten", "bad_request"),
    ("room=lobby", "bad_request"), ("limit=1&limit=2", "bad_request"),
    ("roomname=" + "r" * 65, "room_invalid"), ("roomname=", "room_invalid"),
])
def test_bad_query_is_refused_with_reason_and_code(client, query, code):
    response = client.get("/messages?" + query)
    assert response.status_code == 400 and response.json["error"]
    assert response.json["code"] == code


def test_rest_errors_are_json_with_a_code_and_pages_are_not(client):
    refused = client.delete("/messages")
    assert refused.status_code == 405
    assert refused.json["error"] and refused.json["code"] == "method_not_allowed"
    missing = client.get("/messages/7")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    assert client.get("/no-such-page").content_type.startswith("text/html")


def test_a_failing_view_answers_json_with_server_error(app, client, monkeypatch):
    from comongus.store import store

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "latest_messages", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, not TESTING
    response = client.get("/messages")
    assert response.status_code == 500
    assert response.json["code"] == "server_error" and "a bug" not in response.json["error"]


@pytest.mark.settings(REST_POST_BURST=1, REST_POSTS_PER_SECOND=0.01)
def test_posting_too_fast_is_429_rate_limited(client):
    assert post(client, **GOOD).status_code == 201
    response = post(client, **GOOD)
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert response.json["code"] == "rate_limited" and response.json["error"]


def test_rooms_lists_who_is_online(client, connect):
    assert client.get("/rooms").json == {"results": []}
    connect().join("Alice", "lobby")
    connect().join("Bob", "lobby")
    connect().join("Olga", "kitchen")
    assert client.get("/rooms").json == {"results": [
        {"roomname": "kitchen", "users": [{"name": "Olga"}]},
        {"roomname": "lobby", "users": [{"name": "Alice"}, {"name": "Bob"}]},
    ]}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_names_what_fails_with_a_code(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from comongus.store import store

    def down():
        raise OperationalError("SELECT 1", {}, Exception("gone"))

    monkeypatch.setattr(store, "ping", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["failing"] == ["database"]
    assert response.json["code"] == "storage_unavailable"


def test_cors_allows_any_origin_by_default(client):
    response = client.get("/messages", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://example.org")


@pytest.mark.settings(CORS_ORIGINS=["https://school.example"])
def test_cors_origins_setting_limits_rest(client):
    allowed = client.get("/messages", headers={"Origin": "https://school.example"})
    foreign = client.get("/messages", headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://school.example"
    assert "Access-Control-Allow-Origin" not in foreign.headers


@pytest.mark.settings(CORS_ORIGINS=["https://a.example", "https://b.example"])
def test_a_cached_page_carries_the_cors_headers_of_each_origin(client, save):
    """The cache keeps one page per kind of Origin; each reader gets its own CORS answer."""
    save("lobby", "Alice", "hi")
    for _ in range(2):  # the second round comes from the cache
        for origin, allowed in (("https://a.example", True), ("https://B.example", True),
                                ("https://evil.example", False)):
            response = client.get("/messages?roomname=lobby", headers={"Origin": origin})
            assert response.headers.get("Access-Control-Allow-Origin") == (
                origin if allowed else None)
            assert texts(response) == ["hi"]


def test_a_cached_page_never_hides_a_newer_message(client, save):
    """Pages are cached; a message stored by anything else (another process) still shows."""
    assert texts(client.get("/messages?limit=2")) == []
    save("lobby", "Alice", "from elsewhere")
    assert texts(client.get("/messages?limit=2")) == ["from elsewhere"]
    client.post("/messages", json={"username": "Bob", "text": "over REST", "roomname": "lobby"})
    assert texts(client.get("/messages?limit=2")) == ["from elsewhere", "over REST"]
    assert texts(client.get("/messages?limit=1")) == ["over REST"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cached_page_shows_a_message_committed_after_a_newer_one(client, save, app):
    """On PostgreSQL ids are taken before commit: a slow writer's message can land after
    one with a higher id. The page read in between must not be served again after it."""
    from sqlalchemy.orm import Session

    from comongus.models import Message
    from comongus.store import store

    with app.app_context(), Session(store.engine) as slow_writer:
        slow_writer.add(Message(room="slow", seq=1, username="Alice", text="took a while",
                                created_at=datetime.now(UTC).replace(tzinfo=None)))
        slow_writer.flush()  # its id is taken, its commit is still to come
        save("fast", "Bob", "quick")  # a higher id, committed first
        assert texts(client.get("/messages?roomname=slow")) == []
        assert texts(client.get("/messages")) == ["quick"]
        slow_writer.commit()
    assert texts(client.get("/messages?roomname=slow")) == ["took a while"]
    assert texts(client.get("/messages")) == ["took a while", "quick"]
