"""Hostile input against a real server, over both transports and REST.

Every case sends one bad thing on a raw connection (WebSocket frames through
websocket-client; HTTP long-polling through plain requests, with a long-poll GET
always pending as a real client keeps one) and then checks what a user would
notice: the bad connection was refused, cut or given an error ack; a newcomer
still joins and chats; /healthz answers; nothing was stored; and the log did
not grow a traceback.
"""
from __future__ import annotations

import json
import queue
import threading
import time

import pytest
import requests
import websocket

from tests.clients import ChatClient
from tests.helpers import QUIET_LIMITS, server_processes

PROBE_ID = 424242  # the ack id of the `leave` that asks "is this connection still served?"
CUT, REFUSED, ERROR_ACK, ALIVE = "cut", "refused", "error ack", "ignored (still served)"
PACKET_LIMIT = 1024 * 1024  # the default MAX_SOCKET_PACKET_BYTES


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for every case (each uses a connection of its own)."""
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("hostile"), QUIET_LIMITS)


# Raw sessions: what a hostile client can do that a library client never would ----------


class RawWebSocket:
    """An Engine.IO session over WebSocket, connected to the default namespace."""

    def __init__(self, url):
        self.ws = websocket.create_connection(
            url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=3)
        assert self.ws.recv().startswith("0{")
        self.ws.send("40")
        assert self.ws.recv().startswith("40{")

    def send(self, packet):
        try:
            if isinstance(packet, bytes):
                self.ws.send_binary(packet)
            else:
                self.ws.send(packet)
        except (OSError, websocket.WebSocketException):
            pass  # already cut: outcome() says so

    def outcome(self, ack_id):
        """Send the probe, then read until its ack (or the end of the connection)."""
        seen = ALIVE
        try:
            self.ws.send(f'42{PROBE_ID}["leave"]')
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                opcode, data = self.ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return CUT
                seen = _classify(data.decode(errors="replace"), ack_id, seen)
                if seen != ALIVE or data.startswith(f"43{PROBE_ID}".encode()):
                    return seen
            return "no answer in 3 s, connection still open"
        except (websocket.WebSocketTimeoutException, TimeoutError):
            return "no answer in 3 s, connection still open"
        except (websocket.WebSocketConnectionClosedException, OSError):
            return CUT
        except websocket.WebSocketProtocolException as error:
            return f"the server wrote something that is not a WebSocket frame ({error})"

    def close(self):
        self.ws.close(timeout=0.2)


class RawPolling:
    """An Engine.IO session over HTTP long-polling, with a GET always pending."""

    def __init__(self, url):
        self.url = url + "/socket.io/?EIO=4&transport=polling"
        handshake = requests.get(self.url, timeout=5)
        self.url += "&sid=" + json.loads(handshake.text[1:])["sid"]
        self.packets: queue.Queue[str | None] = queue.Queue()
        self.get_pending = threading.Event()
        self.responses: list[requests.Response] = []
        self.post("40")
        self.reader = threading.Thread(target=self._poll, daemon=True)
        self.reader.start()
        assert self.packets.get(timeout=5).startswith("40{")

    def _poll(self):
        try:
            while True:
                self.get_pending.set()
                response = requests.get(self.url, timeout=30)
                self.get_pending.clear()
                self.responses.append(response)
                if response.status_code != 200:
                    break
                for packet in response.text.split("\x1e"):
                    self.packets.put(packet)
                    if packet == "1":
                        return
        except requests.RequestException:
            pass
        finally:
            self.packets.put(None)  # the session is over

    def post(self, body):
        headers = {"Content-Type": "application/octet-stream" if isinstance(body, bytes)
                   else "text/plain;charset=UTF-8"}
        try:
            response = requests.post(self.url, data=body, headers=headers, timeout=5)
        except requests.RequestException as error:
            return f"no answer to the POST ({error.__class__.__name__})"
        self.responses.append(response)
        return response

    def send(self, packet):
        # A real client always has a GET waiting while it POSTs; without one, engine.io
        # holds a POST that closes the session until a GET takes the close packet.
        self.get_pending.wait(5)
        time.sleep(0.05)  # for the GET to reach the server: nothing to observe from here
        self.bad_post = self.post(packet)

    def outcome(self, ack_id):
        if not isinstance(self.bad_post, requests.Response):
            return self.bad_post
        if self.bad_post.status_code == 413 or (400 <= self.bad_post.status_code < 500):
            return REFUSED
        if self.bad_post.status_code != 200:
            return f"HTTP {self.bad_post.status_code} to the POST"
        probe = self.post(f'42{PROBE_ID}["leave"]')
        if not isinstance(probe, requests.Response) or probe.status_code != 200:
            return CUT
        seen = ALIVE
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                packet = self.packets.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if packet is None or packet in ("1", "41"):
                return CUT
            seen = _classify(packet, ack_id, seen)
            if seen != ALIVE or packet.startswith(f"43{PROBE_ID}"):
                return seen
        return "no answer in 3 s, session still open"

    def close(self):
        self.post("1")


def _classify(packet: str, ack_id, seen: str) -> str:
    if ack_id is not None and packet.startswith(f"43{ack_id}["):
        args = json.loads(packet[len(f"43{ack_id}"):])
        return ERROR_ACK if args and isinstance(args[0], str) else f"acked as a success: {args}"
    if packet.startswith("44"):
        return REFUSED  # CONNECT_ERROR: the namespace connection was refused
    if packet in ("41", "1"):
        return CUT
    return seen


# The cases -------------------------------------------------------------------------


def nested(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


# (id, packet, polling body if it differs, ack id the bad packet carries)
CASES = [
    ("eio-unknown-type", "9", None, None),
    ("eio-empty-packet", "", "\x1e", None),
    ("eio-binary-garbage", b"\xff\x00\xfe\x80garbage", None, None),
    ("eio-huge-type-number", "9" * 40, None, None),
    ("eio-message-without-payload", "4", None, None),
    ("sio-bad-json", '42["join",{', None, None),
    ("sio-unknown-type", "49", None, None),
    ("sio-event-is-an-object", "42{}", None, None),
    ("sio-event-name-not-a-string", "4231[1,2]", None, 31),
    ("sio-wrong-namespace", "40/nope,", None, None),
    ("sio-huge-ack-id", "42" + "9" * 30 + '["sendMessage",5]', None, "9" * 30),
    ("sio-nested-5000-deep-text", '4232["sendMessage",' + nested(5000) + "]", None, 32),
    ("sio-nested-objects-3000-deep-join",
     '4233["join",' + '{"a":' * 3000 + "1" + "}" * 3000 + "]", None, 33),
    ("sio-since-too-big-to-store",
     '4234["join",{"name":"Hugh","room":"r","since":' + "9" * 30 + "}]", None, 34),
    ("sio-name-with-lone-surrogate", '4235["join",{"name":"\\ud800","room":"r"}]', None, 35),
    ("sio-oversize-frame", "4236" + json.dumps(["sendMessage", "x" * (PACKET_LIMIT + 100)]),
     None, 36),
]


def _count_stored(server):
    return len(requests.get(server.url + "/messages?limit=1000", timeout=5).json()["results"])


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("case_id, packet, polling_body, ack_id", CASES,
                         ids=[case[0] for case in CASES])
def test_bad_packet_is_refused_and_the_server_keeps_serving(server, transport, case_id,
                                                            packet, polling_body, ack_id):
    assert len(packet) <= PACKET_LIMIT or case_id == "sio-oversize-frame"
    stored_before = _count_stored(server)
    log_start = len(server.full_log())
    raw = (RawWebSocket if transport == "websocket" else RawPolling)(server.url)
    try:
        raw.send(polling_body if transport == "polling" and polling_body else packet)
        outcome = raw.outcome(ack_id)
    finally:
        raw.close()

    newcomer = ChatClient(server.url, [transport])
    try:
        newcomer.join("Newcomer", f"after-{case_id}")
        error, message = newcomer.call("sendMessage", "still here")
        assert error is None and message["text"] == "still here"
        newcomer.wait_for_text("still here")
    finally:
        newcomer.close()
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200

    problems = []
    if outcome not in (CUT, REFUSED, ERROR_ACK):
        problems.append(f"the bad connection was not refused, cut or error-acked: {outcome}")
    if _count_stored(server) != stored_before + 1:  # + the newcomer's "still here"
        problems.append("something of the bad packet was stored")
    responses = getattr(raw, "responses", [])
    leaked = [r.status_code for r in responses if "Traceback" in r.text]
    if leaked:
        problems.append(f"HTTP {leaked} answers carried a Python traceback to the client")
    tracebacks = _tracebacks(server.full_log()[log_start:])
    if tracebacks:
        problems.append(f"{len(tracebacks)} traceback(s) in the log: {tracebacks}")
    assert not problems, "; ".join(problems)


def test_a_long_polling_post_of_more_packets_than_engineio_decodes_is_refused(server):
    """Engine.IO decodes at most 16 packets per POST and logs a traceback for more."""
    log_start = len(server.full_log())
    raw = RawPolling(server.url)
    try:
        raw.send("\x1e".join(["6"] * 17))  # 17 no-ops: each alone is harmless
        outcome = raw.outcome(None)
    finally:
        raw.close()
    assert outcome == REFUSED, outcome
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    assert not _tracebacks(server.full_log()[log_start:])


def _tracebacks(log: str) -> list[str]:
    """The exception line ending each traceback in `log`."""
    found = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        found.append(lines[0][:160] if lines else "?")
    return found


# REST ------------------------------------------------------------------------------

VALID = {"username": "Mallory", "text": "hello", "roomname": "lobby"}
JSON = {"Content-Type": "application/json"}


def body(**fields):
    return json.dumps({**VALID, **fields})


POSTS = [
    ("nested-arrays-in-username", '{"username":' + nested(30000) + ',"text":"x","roomname":"r"}'),
    ("nested-objects-in-clientId",
     body()[:-1] + ',"clientId":' + '{"a":' * 10000 + "1" + "}" * 10000 + "}"),
    ("username-a-number", body(username=5)),
    ("text-a-list", body(text=["hello"])),
    ("roomname-an-object", body(roomname={"name": "lobby"})),
    ("text-null", body(text=None)),
    ("clientId-a-number", body(clientId=7)),
    ("clientId-empty", body(clientId="")),
    ("clientId-too-long", body(clientId="c" * 65)),
    ("extra-field", body(admin=True)),
    ("not-an-object", json.dumps([VALID])),
    ("a-bare-string", json.dumps("hello")),
    ("null", "null"),
    ("truncated-json", body()[:-3]),
    ("invalid-utf8", b'{"username":"\xff\xfe","text":"x","roomname":"r"}'),
    ("huge-integer", '{"username":' + "9" * 5000 + ',"text":"x","roomname":"r"}'),
    ("infinity", '{"username":1e999,"text":"x","roomname":"r"}'),
    ("text-with-nul", body(text="a\x00b")),
    ("text-lone-surrogate", '{"username":"M","text":"\\ud800","roomname":"r"}'),
    ("username-lone-surrogate", '{"username":"\\ud800","text":"x","roomname":"r"}'),
    ("roomname-lone-surrogate", '{"username":"M","text":"x","roomname":"\\udfff"}'),
    ("clientId-lone-surrogate", body()[:-1] + ',"clientId":"\\udc00"}'),
    ("username-admin", body(username=" Admin ")),
    ("username-bidi-override", body(username="evil\u202egnp")),
    ("too-big", body(text="x" * 70000)),
]


@pytest.mark.parametrize("case_id, payload", POSTS, ids=[case[0] for case in POSTS])
def test_bad_post_gets_4xx_json_and_stores_nothing(server, case_id, payload):
    assert len(payload) <= 65536 or case_id == "too-big"  # within MAX_CONTENT_LENGTH
    stored_before = _count_stored(server)
    log_start = len(server.full_log())
    response = requests.post(server.url + "/messages", data=payload, headers=JSON, timeout=10)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["error"], str)
    assert _count_stored(server) == stored_before
    assert _tracebacks(server.full_log()[log_start:]) == []


QUERIES = [
    "limit=0", "limit=1001", "limit=-1", "limit=abc", "after=-5", "before=1.5",
    "after=%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "limit=%C2%B2",
    "after=" + "9" * 30,  # no database integer holds it
    "before=" + "9" * 30,
    "roomname=", "roomname=%00", "roomname=" + "r" * 65, "room=lobby", "after=1&nope=2",
]


@pytest.mark.parametrize("query", QUERIES)
def test_bad_query_gets_4xx_json(server, query):
    log_start = len(server.full_log())
    response = requests.get(server.url + "/messages?" + query, timeout=10)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert isinstance(response.json()["error"], str)
    assert _tracebacks(server.full_log()[log_start:]) == []
