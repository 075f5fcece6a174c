"""Names that look like someone else's, text that shows nothing, and what REST and the
pages take from a request (README: "names", "text", `PUBLIC_URL`, `INTRO_TRUST_HTML`).

The attacker speaks from 127.0.0.2 (REST, and Socket.IO over long-polling through the
same bound session); the people it imitates sit on 127.0.0.1.
"""
from __future__ import annotations

import re

import pytest
import requests

from comongus import create_app
from tests.clients import session_from
from tests.helpers import QUIET_LIMITS, server_processes, stored, wait_for

ATTACKER = "127.0.0.2"
ALLOWED_ORIGIN = "https://a.example"
HOSTILE_INTRO = """# Welcome

Read this <img src=x onerror=alert(1)> and <script>alert(2)</script> then
<a href="javascript:alert(3)" onclick="alert(4)">click</a>.
"""

# Each shows as nothing, or as the name without it.
INVISIBLE_NAMES = {
    "combining grapheme joiner": "Alice\u034f",
    "variation selector": "Ali\ufe00ce",
    "variation selector supplement": "Alice\U000e0100",
    "Khmer inherent vowel": "Ali\u17b4ce",
    "Hangul filler": "\u3164",
    "Hangul choseong filler": "Al\u115fice",
    "Hangul jungseong filler": "Alice\u1160",
    "halfwidth Hangul filler": "\uffa0Alice",
    "Mongolian free variation selector": "Alice\u180b",
    "word joiner": "Ali\u2060ce",
    "braille blank": "\u2800",
    "braille blank beside a name": "Alice\u2800",
    "ADMIN and an invisible character": "ADMIN\u034f",
    "a name that starts with an emoji variation selector": "\ufe0fAlice",
    "a name that starts with a zero-width joiner": "\u200d\u2764Alice",
}
LOOK_ALIKES_OF_ALICE = {
    "Cyrillic A": "\u0410lice",
    "Cyrillic a and e": "\u0430lic\u0435",
    "digit one for l": "A1ice",
    "fullwidth": "\uff21\uff4c\uff49\uff43\uff45",
    "Greek capital alpha": "\u0391lice",
}
LOOK_ALIKES_OF_ADMIN = {
    "Cyrillic a": "\u0430dmin",
    "Cyrillic capitals": "\u0410DMIN",
    "small L for capital I": "ADMlN",
    "r and n for m": "adrnin",
    "Greek capital alpha": "\u0391dmin",
}
EMPTY_TEXTS = {
    "zero-width space": "\u200b",
    "zero-width joiners and word joiner": "\u200d\u200c\u2060",
    "braille blanks": "\u2800\u2800",
    "Hangul fillers": "\u3164\uffa0",
    "a lone variation selector": "\ufe0f",
    "spaces and a grapheme joiner": " \u034f ",
}


@pytest.fixture(scope="module")
def intro_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("intro") / "intro.md"
    path.write_text(HOSTILE_INTRO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, intro_file):
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("names"),
                    {**QUIET_LIMITS, "INTRO_FILE": str(intro_file)})


@pytest.fixture(scope="module")
def one_origin_server(tmp_path_factory):
    """CORS_ORIGINS with a single origin: flask-cors then says Vary only when it grants."""
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("origin"), {**QUIET_LIMITS,
                                                        "CORS_ORIGINS": ALLOWED_ORIGIN})


@pytest.fixture
def attacker():
    session = session_from(ATTACKER)
    yield session
    session.close()


@pytest.fixture
def attacker_socket(server, clients):
    """A Socket.IO client over long-polling from the attacker's address."""
    return lambda: clients(server.url, ["polling"], source=ATTACKER).sio


@pytest.fixture
def people(server, clients):
    return lambda: clients(server.url)


def post(session, server, username, room, text="hello", **extra):
    return session.post(server.url + "/messages", timeout=10,
                        json={"username": username, "roomname": room, "text": text, **extra})


def join_error(client, name, room):
    ack = client.call("join", {"name": name, "room": room}, timeout=10)
    return ack[0] if isinstance(ack, (list, tuple)) else ack


@pytest.mark.parametrize("name", INVISIBLE_NAMES.values(), ids=INVISIBLE_NAMES.keys())
def test_names_with_invisible_characters_are_refused(server, attacker, attacker_socket, name):
    error = join_error(attacker_socket(), name, "hidden")
    assert isinstance(error, str) and re.search("invisible|visible|reserved", error), error
    response = post(attacker, server, name, "hidden")
    assert response.status_code == 400, response.text
    assert re.search("invisible|visible|reserved", response.json()["error"])
    assert stored(server, "hidden") == []


@pytest.mark.parametrize("name", LOOK_ALIKES_OF_ALICE.values(), ids=LOOK_ALIKES_OF_ALICE.keys())
def test_a_look_alike_of_a_present_name_is_taken(server, people, attacker_socket, name):
    room = f"look-{ord(name[0]):x}-{ord(name[-1]):x}-{len(name)}"
    alice = people()
    alice.join("Alice", room)
    error = join_error(attacker_socket(), name, room)
    assert isinstance(error, str) and "taken" in error, error
    assert alice.last_users() == ["Alice"]


@pytest.mark.parametrize("name", LOOK_ALIKES_OF_ADMIN.values(), ids=LOOK_ALIKES_OF_ADMIN.keys())
def test_look_alikes_of_a_reserved_name_are_reserved(server, attacker, attacker_socket, name):
    error = join_error(attacker_socket(), name, "reserved")
    assert isinstance(error, str) and "reserved" in error, error
    response = post(attacker, server, name, "reserved")
    assert response.status_code == 400 and "reserved" in response.json()["error"]


def test_emoji_in_names_and_texts_stay(server, people):
    heart = people()
    assert heart.join("Ann \u2764\ufe0f", "emoji")["user"]["name"] == "Ann \u2764\ufe0f"
    error, message = heart.call("sendMessage", {"text": "\U0001f469\u200d\U0001f4bb\u2764\ufe0f"})
    assert error is None and message["text"] == "\U0001f469\u200d\U0001f4bb\u2764\ufe0f"


@pytest.mark.parametrize("text", EMPTY_TEXTS.values(), ids=EMPTY_TEXTS.keys())
def test_text_that_shows_nothing_is_empty(server, people, attacker, text):
    sender = people()
    sender.join("Quiet", f"empty-{len(text)}-{ord(text[0]):x}")
    error, *_ = sender.call("sendMessage", {"text": text})
    assert isinstance(error, str) and "empty" in error, error
    response = post(attacker, server, "Mallory", "empty", text)
    assert response.status_code == 400 and "empty" in response.json()["error"]
    assert stored(server, "empty") == []


def test_rest_cannot_speak_as_someone_present(server, people, attacker):
    alice, bob = people(), people()
    alice.join("Alice", "impostor", token="alice-secret-token")
    bob.join("Bob", "impostor")
    for spelling in ("Alice", "ALICE", "\u0410lice"):
        response = post(attacker, server, spelling, "impostor", "send me your password")
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "name_taken" and "Alice" in response.json()["error"]
    wrong = post(attacker, server, "Alice", "impostor", "guess", token="alice-secret-tokeN")
    assert wrong.status_code == 409
    assert stored(server, "impostor") == []

    own = post(requests, server, "Alice", "impostor", "from my script",
               token="alice-secret-token")
    assert own.status_code == 201, own.text
    bob.wait_for_text("from my script")
    # Elsewhere the name is free, and after Alice leaves it is free here too.
    assert post(attacker, server, "Alice", "another-room").status_code == 201
    alice.close()
    wait_for(lambda: bob.last_users() == ["Bob"], timeout=10)
    assert post(attacker, server, "Alice", "impostor", "hi all").status_code == 201
    assert [m["text"] for m in stored(server, "impostor")] == ["from my script", "hi all"]


@pytest.mark.parametrize("field", ["limit", "after", "before"])
def test_thousands_of_digits_are_a_clean_400(server, attacker, field):
    response = attacker.get(server.url + "/messages", params={field: "7" * 5000}, timeout=10)
    assert response.status_code == 400, response.text[:200]
    assert field in response.json()["error"]
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("origin", [ALLOWED_ORIGIN, "https://b.example", None])
def test_every_rest_answer_varies_on_origin(one_origin_server, origin):
    server = one_origin_server
    headers = {"Origin": origin} if origin else {}
    answers = [requests.get(server.url + path, headers=headers, timeout=10)
               for path in ("/messages?roomname=vary", "/messages?roomname=vary", "/rooms",
                            "/healthz", "/messages?bad=1")]
    answers.append(requests.post(server.url + "/messages", json={}, headers=headers, timeout=10))
    for answer in answers:
        vary = [value.strip().lower() for value in answer.headers.get("Vary", "").split(",")]
        assert "origin" in vary, (answer.request.method, answer.url, answer.headers)


def test_a_forged_host_reaches_neither_the_snippet_nor_the_csp(server, attacker):
    page = attacker.get(server.url + "/intro", headers={"Host": "evil.example"}, timeout=10)
    assert page.status_code == 200
    snippet = re.search(r'<textarea id="embed-code".*?</textarea>', page.text, re.S).group(0)
    assert "/embed?room=intro" in snippet and "evil.example" not in snippet
    injected = attacker.get(server.url + "/intro", timeout=10,
                            headers={"Host": "x.example; script-src * 'unsafe-inline'"})
    policy = injected.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and policy.count("script-src") == 1


def test_intro_markdown_loses_its_raw_html(server, attacker):
    page = attacker.get(server.url + "/intro", timeout=10).text
    intro = page[page.index('<article class="intro'):page.index('<section class="embed')]
    assert "<h1>Welcome</h1>" in intro and "click</a>" in intro
    for hostile in ("onerror", "<script", "alert(2)", "javascript:", "onclick"):
        assert hostile not in intro, hostile


# The settings, in-process -----------------------------------------------------------


def intro_app(tmp_path, **settings):
    return create_app({"TESTING": True, "SOCKETIO_ASYNC_MODE": "threading",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}", **settings})


def test_public_url_makes_the_snippet(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://chat.example.org/")
    client = intro_app(tmp_path).test_client()
    page = client.get("/intro", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert 'src="https://chat.example.org/embed?room=intro"' in page.replace("&#34;", '"')
    assert "evil.example" not in page


@pytest.mark.parametrize("value", ["chat.example.org", "ftp://chat.example.org",
                                   "https://chat.example.org/?x=1", "https://"])
def test_a_public_url_that_is_not_one_stops_the_start(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PUBLIC_URL", value)
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        intro_app(tmp_path)


def test_trusted_intro_html_is_shown_as_written(tmp_path):
    intro = tmp_path / "intro.html"
    intro.write_text('<p>Hi <span onclick="go()">there</span></p>', encoding="utf-8")
    trusted = intro_app(tmp_path, INTRO_FILE=str(intro), INTRO_TRUST_HTML=True).test_client()
    assert 'onclick="go()"' in trusted.get("/intro").get_data(as_text=True)
    sanitised = intro_app(tmp_path, INTRO_FILE=str(intro)).test_client()
    page = sanitised.get("/intro").get_data(as_text=True)
    assert "<span>there</span>" in page and "onclick" not in page
