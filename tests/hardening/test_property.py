"""Property-based hostile input: Hypothesis throws generated payloads at
every socket event and REST endpoint.

Invariants: the server always answers in the contract's shapes (an error string, or
`(None, payload)`; REST 2xx or 4xx JSON, never 5xx), and something is stored exactly
when the input was valid. Validity is worked out here, independently, from the
contract's and README's rules, not by calling the server's own validation.

Most examples run in-process (the app in threading mode and Flask-SocketIO's test
client, which still encodes and decodes every packet); a few go to a real server.
"""
from __future__ import annotations

import itertools
import json
import unicodedata
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from comongus import create_app
from comongus.extensions import socketio
from comongus.models import Message
from tests.clients import ChatClient
from tests.helpers import QUIET_LIMITS, server_processes

MAX_NAME, MAX_ROOM, MAX_TEXT, MAX_CLIENT_ID, MAX_TOKEN = 32, 64, 2000, 64, 128
# since/after/before: 0 to 2^53 - 1, exact in JavaScript and in every database (README)
LARGEST_COUNT = 2**53 - 1
EVENTS = ("join", "sendMessage", "typing", "leave")
IN_PROCESS = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])

# The oracle: the contract's rules, written out again -----------------------------------

INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}  # control, zero-width/bidi, separators, surrogates
# Characters that show as nothing (README: default-ignorable code points, fillers, blanks):
# Unicode's Default_Ignorable_Code_Point ranges, and U+2800 BRAILLE PATTERN BLANK.
DEFAULT_IGNORABLE_RANGES = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF)]
BRAILLE_BLANK = "\u2800"
EMOJI_JOINERS = {"\ufe0e", "\ufe0f", "\u200d"}  # the README lets emoji keep these in names
EITHER = None  # an input the rules do not decide: the server may take it or refuse it


def default_ignorable(char):
    return any(low <= ord(char) <= high for low, high in DEFAULT_IGNORABLE_RANGES)


def hidden(char):
    return char == BRAILLE_BLANK or default_ignorable(char)


# Unicode's confusables.txt, as the package ships it: the data is Unicode's, the
# skeleton below is written out again from UTS #39 section 4.
CONFUSABLES = json.loads(
    (Path(__file__).parents[2] / "comongus" / "confusables.json").read_text("ascii"))
PROTOTYPE = {int(source, 16): "".join(chr(int(point, 16)) for point in target.split())
             for source, target in CONFUSABLES["prototypes"].items()}


def skeleton(value):
    """UTS #39: NFD, without default-ignorables, each character as its prototype, NFD."""
    kept = "".join(char for char in unicodedata.normalize("NFD", value)
                   if not default_ignorable(char))
    return unicodedata.normalize("NFD", kept.translate(PROTOTYPE))


def blank(char):
    return char.isspace() or hidden(char) or unicodedata.category(char) in INVISIBLE


def clean_label(value, limit):
    """A trimmed, NFC name or room, or None when the contract refuses it."""
    if not isinstance(value, str):
        return None
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        return None  # no lone surrogate can be stored or shown
    label = unicodedata.normalize("NFC", value.strip())
    if not label or len(label) > limit:
        return None
    if any(unicodedata.category(char) in INVISIBLE or hidden(char) for char in label
           if char not in EMOJI_JOINERS):
        return None
    if all(blank(char) or unicodedata.category(char)[0] not in "LNPS" for char in label):
        return None  # no visible letter, digit, punctuation or symbol (marks, blanks, unassigned)
    return label


def label_verdict(value, limit):
    """False when refused; EITHER for emoji selectors and joiners (allowed only after symbols)."""
    label = clean_label(value, limit)
    if label is None:
        return False
    return EITHER if EMOJI_JOINERS & set(label) else True


def clean_person(value):
    name = clean_label(value, MAX_NAME)
    if name is not None and skeleton(unicodedata.normalize("NFKC", name).casefold()) == "adrnin":
        return None  # "admin", in any case or width, or a look-alike (UTS #39 skeleton)
    return name


def person_verdict(value):
    if clean_person(value) is None:
        return False
    verdict = label_verdict(value, MAX_NAME)
    # Capital I and small l read alike: a name that spells admin with them may be refused.
    cased = skeleton(skeleton(unicodedata.normalize("NFKC", value)).casefold())
    maybe_admin = cased in {"adrnin", "adrnln"}
    return EITHER if verdict is EITHER or maybe_admin else True


def text_is_valid(value):
    return (isinstance(value, str) and not all(blank(c) for c in value) and len(value) <= MAX_TEXT
            and "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value))


def opaque_verdict(value, limit):
    """clientId and token: an optional non-empty string of at most `limit` characters."""
    if value is None:
        return True
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        return False
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        return False
    if any(unicodedata.category(char) in INVISIBLE for char in value):
        return EITHER  # README is silent on control characters in a clientId or token
    return True


def whole_number_verdict(value):
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return False
    return value <= LARGEST_COUNT


def on_the_wire(value):
    """What the server gets: JSON joins an escaped surrogate pair into one character."""
    return json.loads(json.dumps(value))


def both(*verdicts):
    if False in verdicts:
        return False
    return EITHER if EITHER in verdicts else True


def join_verdict(payload):
    if not isinstance(payload, dict) or set(payload) - {"name", "room", "since", "token"}:
        return False
    return both(person_verdict(payload.get("name")), label_verdict(payload.get("room"), MAX_ROOM),
                whole_number_verdict(payload.get("since")),
                opaque_verdict(payload.get("token"), MAX_TOKEN))


def send_verdict(payload):
    if isinstance(payload, str):
        payload = {"text": payload}
    if not isinstance(payload, dict) or set(payload) - {"text", "clientId"}:
        return False
    if not text_is_valid(payload.get("text")):
        return False
    return opaque_verdict(payload.get("clientId"), MAX_CLIENT_ID)


def post_verdict(body):
    if not isinstance(body, dict) or set(body) - {"username", "text", "roomname", "clientId",
                                                   "token"}:
        return False
    if not {"username", "text", "roomname"} <= set(body):
        return False
    if not text_is_valid(body["text"]):
        return False
    return both(person_verdict(body["username"]), label_verdict(body["roomname"], MAX_ROOM),
                opaque_verdict(body.get("clientId"), MAX_CLIENT_ID),
                opaque_verdict(body.get("token"), MAX_TOKEN))


def count_verdict(raw, low, high=None):
    if raw is None:
        return True
    if raw.isascii() and raw.isdigit():
        number = int(raw)
        if number < low or (high is not None and number > high):
            return False
        return number <= LARGEST_COUNT
    if raw.isdecimal() or raw.strip() != raw:
        return EITHER  # other scripts' digits, or padding: the contract does not say
    return False


def query_verdict(params):
    if set(params) - {"roomname", "after", "before", "limit"}:
        return False
    return both(label_verdict(params["roomname"], MAX_ROOM) if "roomname" in params else True,
                count_verdict(params.get("after"), 0), count_verdict(params.get("before"), 0),
                count_verdict(params.get("limit"), 1, 1000))


# Generated values ------------------------------------------------------------------

ODD_CHARACTERS = ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\u2028", "\x1f", " ", "\t",
                  "\u3000", "\ufeff", "Ａ", "é", "\u0301", "\U0001F600", "\n"]
characters = st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS))
strings = st.one_of(
    st.text(characters, max_size=40),
    st.sampled_from(["admin", " Admin ", "ａｄｍｉｎ", "", "   ", "lobby", "e\u0301"]),
    # around the limits: 32 (name), 64 (room, clientId), 128 (token), 2000 (text)
    st.builds(lambda n, fill, tail: fill * n + tail, st.sampled_from([31, 32, 33, 63, 64, 65, 128,
                                                                      129, 1999, 2000, 2001]),
              st.sampled_from(["x", " "]), st.sampled_from(["", "x", " "])),
    st.builds(lambda core, pad: pad + core + pad, st.text(characters, min_size=1, max_size=8),
              st.sampled_from(["", " ", "\t", "\u3000"])),
)
# Mostly-ordinary text, so that a good share of the generated input is valid.
plausible = st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1,
                    max_size=24)
field_strings = st.one_of(plausible, plausible, plausible, strings)
integers = st.one_of(st.integers(min_value=-3, max_value=10**6),
                     st.sampled_from([LARGEST_COUNT, LARGEST_COUNT + 1, 2**63 - 1, 10**30,
                                      -(10**30), 2**64])), st.integers()
scalars = st.one_of(st.none(), st.booleans(), *integers,
                    st.floats(allow_nan=True, allow_infinity=True), strings)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(strings, inner, max_size=4)),
    max_leaves=12)


def near_valid(required, optional):
    """Objects with the right keys (values anything), sometimes with an extra key."""
    return st.fixed_dictionaries(
        {key: st.one_of(field_strings, scalars) for key in required},
        optional={**{key: json_values for key in optional}, "extra": json_values})


join_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries({"name": plausible, "room": plausible},
                          optional={"since": st.integers(0, 100), "token": plausible}),
    near_valid(["name", "room"], []),
    st.fixed_dictionaries({"name": field_strings, "room": field_strings},
                          optional={"since": st.one_of(st.integers(0, 100), scalars),
                                    "token": st.one_of(plausible, scalars)}),
)
send_payloads = st.one_of(
    json_values, field_strings,
    st.fixed_dictionaries({"text": field_strings},
                          optional={"clientId": st.one_of(plausible, scalars)}),
    near_valid(["text"], ["clientId"]),
)
post_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"username": plausible, "text": plausible, "roomname": plausible},
                          optional={"clientId": plausible}),
    st.fixed_dictionaries({"username": field_strings, "text": field_strings,
                           "roomname": field_strings},
                          optional={"clientId": st.one_of(plausible, scalars)}),
    near_valid(["username", "text", "roomname"], ["clientId"]),
)
url_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
query_params = st.dictionaries(
    st.one_of(*[st.sampled_from(["roomname", "after", "before", "limit"])] * 4, url_text),
    st.one_of(url_text, plausible, *[st.integers(min_value=-5, max_value=2000).map(str)] * 3,
              st.sampled_from(["9" * 30, "²", "١٢", " 5", "0", "1000", "1001", "lobby"])),
    max_size=4)
query_params = st.one_of(query_params, st.fixed_dictionaries({}, optional={
    "roomname": plausible, "after": st.integers(0, 10**6).map(str),
    "before": st.integers(0, 10**6).map(str), "limit": st.integers(1, 1000).map(str)}))
unknown_events = st.text(min_size=1, max_size=20).filter(
    lambda name: name not in (*EVENTS, "connect", "disconnect", "message", "json"))


# The in-process app ----------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    database = tmp_path_factory.mktemp("property") / "chat.sqlite3"
    # LEAVE_GRACE_SECONDS 0: each example is a stranger; a name's grace would hold it
    # against the next example that happens to pick it.
    return create_app({"DATABASE_URL": f"sqlite:///{database}", "SOCKETIO_ASYNC_MODE": "threading",
                       "ROOMDATA_INTERVAL": 0.01, "SEND_BURST": 10**9,
                       "REST_POSTS_PER_SECOND": 0, "LEAVE_GRACE_SECONDS": 0})


@pytest.fixture(scope="module")
def stored_count(app):
    def count():
        with app.app_context():
            from comongus.store import store
            with store.engine.connect() as connection:
                return connection.scalar(select(func.count()).select_from(Message))
    return count


names = (f"P{n}" for n in itertools.count())


class Socket:
    """One Flask-SocketIO test client; `emit` returns the ack's arguments, or None."""

    def __init__(self, app):
        self.client = socketio.test_client(app, flask_test_client=app.test_client())

    def emit(self, event, payload):
        ack = self.client.emit(event, payload, callback=True)
        if ack is None:
            return None
        return tuple(ack) if isinstance(ack, list) else (ack,)

    def close(self):
        if self.client.is_connected():
            self.client.disconnect()


def assert_error(ack):
    assert ack is not None and len(ack) == 2, f"no error ack: {ack!r}"
    assert isinstance(ack[0], str) and ack[0].strip(), f"not a readable reason: {ack!r}"
    assert isinstance(ack[1]["code"], str) and isinstance(ack[1]["params"], dict), ack


@given(payload=join_payloads)
@example(payload={"name": "\ud800", "room": "lobby"})  # no lone surrogate can be stored
@example(payload={"name": "Hugh", "room": "lobby", "since": 10**30})  # past any DB integer
@example(payload={"name": "M", "room": "\udfff"})
@IN_PROCESS
def test_join_answers_in_the_contract_shape_and_stores_nothing(app, stored_count, payload):
    payload = on_the_wire(payload)
    verdict, before = join_verdict(payload), stored_count()
    event(f"join valid: {verdict}")
    sock = Socket(app)
    try:
        ack = sock.emit("join", payload)
    finally:
        sock.close()
    assert stored_count() == before
    if verdict is False:
        assert_error(ack)
        return
    if verdict is EITHER and ack[0] is not None:
        assert_error(ack)
        return
    assert ack is not None and ack[0] is None and len(ack) == 2, ack
    # A replay (`since`) also says whether it left messages out for REST to page; every
    # join says the room's settings (v1.1); no owner here, so no `host`.
    replay = payload.get("since") is not None
    assert set(ack[1]) == {"user", "users", "history", "settings"} | (
        {"more"} if replay else set())
    assert ack[1]["settings"] == {"locked": False, "slowModeSeconds": 0}
    assert not replay or isinstance(ack[1]["more"], bool)
    assert ack[1]["user"] == {"name": clean_person(payload["name"]),
                              "room": clean_label(payload["room"], MAX_ROOM)}
    assert {"name": ack[1]["user"]["name"]} in ack[1]["users"]
    assert isinstance(ack[1]["history"], list)


@given(payload=send_payloads)
@example(payload={"text": "hi", "clientId": "\ud800"})
@IN_PROCESS
def test_send_stores_exactly_the_valid_messages(app, stored_count, payload):
    payload = on_the_wire(payload)
    verdict, name = send_verdict(payload), next(names)
    event(f"sendMessage valid: {verdict}")
    sock = Socket(app)
    try:
        assert sock.emit("join", {"name": name, "room": "property"})[0] is None
        before = stored_count()
        ack = sock.emit("sendMessage", payload)
        after = stored_count()
    finally:
        sock.close()
    if verdict is False or (verdict is EITHER and ack is not None and ack[0] is not None):
        assert_error(ack)
        assert after == before, "a refused message was stored"
        return
    assert ack is not None and ack[0] is None and len(ack) == 2, f"valid input refused: {ack}"
    message = ack[1]
    text = payload if isinstance(payload, str) else payload["text"]
    assert set(message) == {"id", "seq", "user", "text", "room", "date"}
    assert (message["text"], message["user"], message["room"]) == (text, name, "property")
    assert after == before + 1


@given(event=st.one_of(st.sampled_from(["typing", "leave"]), unknown_events),
       payload=json_values, joined=st.booleans())
@IN_PROCESS
def test_other_events_answer_or_ignore_and_store_nothing(app, stored_count, event, payload,
                                                         joined):
    sock = Socket(app)
    try:
        if joined:
            assert sock.emit("join", {"name": next(names), "room": "property"})[0] is None
        before = stored_count()
        ack = sock.emit(event, payload)
        assert sock.client.is_connected()
        if event == "leave":
            assert ack in (None, (), (None,)), ack  # ack(null); the test client unwraps it
        elif event == "typing":
            assert ack in (None, ()), ack  # nothing to say
        # then the connection still works
        assert sock.emit("join", {"name": next(names), "room": "property-2"})[0] is None
    finally:
        sock.close()
    assert stored_count() == before


first_texts: dict[tuple[str, str, str], str] = {}  # (room, user, clientId) -> first text


@given(body=post_bodies)
@example(body={"username": "\ud800", "text": "hi", "roomname": "lobby"})
@example(body={"username": "M", "text": "hi", "roomname": "lobby", "clientId": "\udc00"})
@IN_PROCESS
def test_post_messages_stores_exactly_the_valid_bodies(app, stored_count, body):
    body = on_the_wire(body)
    verdict, before = post_verdict(body), stored_count()
    event(f"POST valid: {verdict}")
    response = app.test_client().post("/messages", data=json.dumps(body),
                                      content_type="application/json")
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
    assert response.is_json and isinstance(response.get_json(), dict)
    if verdict is False or (verdict is EITHER and response.status_code != 201):
        assert 400 <= response.status_code < 500 and isinstance(response.json["error"], str)
        assert stored_count() == before
        return
    assert response.status_code == 201, response.json
    key = (clean_label(body["roomname"], MAX_ROOM), clean_person(body["username"]),
           body.get("clientId"))
    first_time = key[2] is None or key not in first_texts
    if key[2] is not None:
        first_texts.setdefault(key, body["text"])
    # a resend of a clientId stores nothing and answers with the first message
    assert response.json["text"] == (body["text"] if first_time else first_texts[key])
    assert stored_count() == before + (1 if first_time else 0)


@given(params=query_params)
@example(params={"after": "\u00b2"})  # str.isdigit() says yes, int() says no
@example(params={"limit": "\u00b2"})
@example(params={"before": "9" * 30})
@IN_PROCESS
def test_get_messages_answers_200_or_4xx_json(app, params):
    verdict = query_verdict(params)
    event(f"query valid: {verdict}")
    response = app.test_client().get("/messages?" + urlencode(params))
    assert response.status_code < 500, (params, response.status_code)
    assert response.is_json
    if verdict is True:
        assert response.status_code == 200, (params, response.json)
        assert isinstance(response.json["results"], list)
    elif verdict is False:
        assert 400 <= response.status_code < 500 and "error" in response.json, params


# A few examples against the real server -------------------------------------------


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    """One server for every generated example (hypothesis reruns a test, not its fixtures)."""
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("property-real"),
                    {**QUIET_LIMITS, "LEAVE_GRACE_SECONDS": "0"})  # as for `app`


def real_count(server):
    return len(requests.get(server.url + "/messages?limit=1000", timeout=5).json()["results"])


@pytest.mark.slow
@given(event=st.sampled_from(["join", "sendMessage"]), data=st.data())
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_real_server_answers_generated_payloads(real_server, event, data):
    """No shrinking here: a missing ack costs the call's timeout on a real server."""
    payload = on_the_wire(data.draw(join_payloads if event == "join" else send_payloads))
    verdict = (join_verdict if event == "join" else send_verdict)(payload)
    client = ChatClient(real_server.url)
    try:
        name = next(names)
        client.join(name, "property-real")
        before = real_count(real_server)
        ack = client.call(event, payload, timeout=5)
        added = real_count(real_server) - before
    finally:
        client.close()
    if verdict is False or (verdict is EITHER and ack[0] is not None):
        assert_error(ack)
        assert added == 0
    else:
        assert ack[0] is None and len(ack) == 2, ack
        assert added == (1 if event == "sendMessage" else 0)
