"""Clients for real servers, the one place tests get them from.

`ChatClient` is a python-socketio client that records what it receives;
`Member` is one that keeps its room whole the way the web client does. The raw
helpers speak Engine.IO and Socket.IO by hand, for what a library client never
does (and to read frames in the order the server wrote them). Each can leave
from another loopback address (127.x.y.z), as an attacker or a second person
behind nginx's `ip_hash` does.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import threading
from urllib.parse import urlparse

import requests
import socketio
from requests.adapters import HTTPAdapter

from tests.helpers import wait_for

# python-socketio connects over long-polling first, then upgrades to WebSocket.
BOTH_TRANSPORTS = ("websocket", "polling")


def open_from(source: str, port: int, destination: str = "127.0.0.1",
              timeout: float | None = None) -> socket.socket:
    """A TCP connection to `destination:port` that leaves from `source`."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    connection = socket.socket(family, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    connection.bind((source, 0))
    connection.connect((destination, port))
    return connection


class SourceAddressAdapter(HTTPAdapter):
    """Every connection of a requests.Session leaves from `source`."""

    def __init__(self, source: str, **kwargs) -> None:
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


def session_from(source: str | None) -> requests.Session:
    """A requests.Session whose connections leave from `source` (or anywhere, if None)."""
    session = requests.Session()
    if source:
        session.mount("http://", SourceAddressAdapter(source))
    return session


def _socket_for(url: str, source: str, timeout: float | None) -> socket.socket:
    """websocket-client takes no source address, but takes a connected socket (whose
    timeout it leaves as it is)."""
    parsed = urlparse(url)
    connection = open_from(source, parsed.port, parsed.hostname, timeout=10)
    connection.settimeout(timeout)
    return connection


def engineio_websocket(url: str, source: str | None = None, **options):
    """A raw Socket.IO connection over WebSocket, handshake and namespace connect done.

    It reads frames in the order the server wrote them (python-socketio's client
    hands each event to a thread of its own, so its order proves nothing).
    """
    import websocket

    if source:
        options["socket"] = _socket_for(url, source, options.get("timeout"))
    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", **options)
    assert ws.recv().startswith("0{")
    ws.send("40")
    # The owner's connection hears the broadcast that the host is online before its
    # namespace's CONNECT answer (socket.io-client buffers such events until then).
    ws.before_connect = []
    while not (answer := ws.recv()).startswith("40{"):
        assert answer.startswith("42["), answer
        ws.before_connect.append(answer)
    return ws


def upgrade_request(port: int) -> bytes:
    """The HTTP request that opens an Engine.IO WebSocket, as a raw client sends it."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def next_packet(ws, prefix: str) -> str:
    """The next frame that starts with `prefix`, heartbeats answered; "" once closed."""
    import websocket

    while True:
        try:
            frame = ws.recv()
        except (websocket.WebSocketConnectionClosedException, OSError):
            return ""
        if frame == "2":
            ws.send("3")
        elif not frame or frame == "1" or frame.startswith(prefix):
            return frame


def read_events(ws, event: str, count: int, keep=lambda payload: True) -> list:
    """The next `count` payloads of `event` that `keep` accepts, on a raw connection."""
    found = []
    while len(found) < count:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")  # answer the heartbeat
        elif frame.startswith("42["):
            name, *args = json.loads(frame[2:])
            if name == event and keep(args[0]):
                found.append(args[0])
    return found


class ChatClient:
    """A real python-socketio client that records what it receives.

    With `rejoin` (a join payload), it behaves as the web client does: on every
    `connect`, including the reconnections python-socketio makes by itself, it
    joins with `since` = the highest `seq` it has seen, and takes the history the
    ack carries. With `source`, its connections leave from that address; `headers` go
    with its handshake (a `Cookie`, say).
    """

    def __init__(self, url, transports=("websocket",), reconnection=False, rejoin=None,
                 source=None, reconnection_delay=0.1, reconnection_delay_max=0.3, headers=None):
        self.url = url
        self.http = session_from(source)
        websocket_options = {}
        if source and "websocket" in transports:
            websocket_options["socket"] = _socket_for(url, source, None)
        self.sio = socketio.Client(reconnection=reconnection,
                                   reconnection_delay=reconnection_delay,
                                   reconnection_delay_max=reconnection_delay_max,
                                   randomization_factor=0, http_session=self.http,
                                   websocket_extra_options=websocket_options)
        self.lock = threading.RLock()
        self.received: list[tuple[str, object]] = []
        self.connects = 0
        self.disconnects = 0
        self.disconnected = threading.Event()
        self.rejoin = rejoin
        self.join_errors: list[str] = []
        for event in ("message", "roomData", "typing", "host"):
            self.sio.on(event, lambda data, event=event: self._record(event, data))
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.connect(url, transports=list(transports), wait_timeout=10,
                         headers=headers or {})

    def _record(self, event, data):
        with self.lock:
            self.received.append((event, data))

    def since(self) -> int | None:
        """The `since` of a rejoin: the highest seq seen, or None before any."""
        seen = [m["seq"] for m in self.chat_messages()]
        return max(seen) if seen else None

    def _on_connect(self):
        self.connects += 1
        if self.rejoin is None:
            return
        payload = dict(self.rejoin)
        since = self.since()
        if since is not None:
            payload["since"] = since
        # emit, not call: this runs on the client's reading thread.
        self.sio.emit("join", payload, callback=self._on_joined)

    def _on_joined(self, error=None, joined=None):
        if error is not None:
            self.join_errors.append(error)
            return
        with self.lock:
            self.received.extend(("message", m) for m in joined["history"])

    def _on_disconnect(self, *reason):
        self.disconnects += 1
        self.disconnected.set()

    def call(self, event, data=None, timeout=10):
        """Emit and wait for the ack; its arguments always come back as a tuple."""
        ack = self.sio.call(event, data, timeout=timeout)
        return tuple(ack) if isinstance(ack, (list, tuple)) else (ack,)

    def join(self, name, room="lobby", **extra):
        error, *rest = self.call("join", {"name": name, "room": room, **extra})
        assert error is None, error
        return rest[0]

    def events(self, name):
        with self.lock:
            return [data for event, data in self.received if event == name]

    def texts(self):
        """The text of every message event received, notices included, in arrival order."""
        return [m["text"] for m in self.events("message")]

    def chat_messages(self):
        return [m for m in self.events("message") if m["seq"] is not None]

    def last_users(self):
        data = self.events("roomData")
        return [user["name"] for user in data[-1]["users"]] if data else None

    def wait_for_text(self, text, timeout=10):
        wait_for(lambda: text in self.texts(), timeout=timeout, message=repr(text))

    def close(self):
        self.rejoin = None
        self.sio.reconnection = False
        try:
            self.sio.disconnect()
        except Exception:  # already gone
            pass


class Member(ChatClient):
    """One person in one room who keeps the room whole the way the web client does.

    It merges messages by `seq`; when a `seq` arrives above a hole it fetches the
    hole over REST (`GET /messages?roomname=R&after=<id>`); on every (re)connect it
    joins again with `since` = the end of what it holds without a hole.
    """

    def __init__(self, url: str, name: str, room: str, token: str | None = None,
                 transports=BOTH_TRANSPORTS, source: str | None = None,
                 reconnection: bool = False, join: bool = True) -> None:
        self.name, self.room = name, room
        self.by_seq: dict[int, dict] = {}
        self.notices: list[str] = []
        self.room_data: list[list[str]] = []
        self.joined = threading.Event()
        self.repairs = 0
        rejoin = {"name": name, "room": room, **({"token": token} if token else {})}
        super().__init__(url, transports, reconnection, rejoin=rejoin if join else None,
                         source=source, reconnection_delay=0.2, reconnection_delay_max=1)
        if join:
            assert self.joined.wait(10), f"{name} was not acked: {self.join_errors}"

    # --- what the member sees
    def contiguous(self) -> int:
        """The highest seq up to which the member has every message."""
        with self.lock:
            seq = 0
            while seq + 1 in self.by_seq:
                seq += 1
            return seq

    def since(self) -> int | None:
        return self.contiguous() if self.by_seq else None

    def seqs(self) -> list[int]:
        with self.lock:
            return sorted(self.by_seq)

    def room_texts(self) -> list[str]:
        """The texts of the room's messages the member holds, in seq order."""
        with self.lock:
            return [self.by_seq[seq]["text"] for seq in sorted(self.by_seq)]

    def users(self) -> list[str] | None:
        return self.room_data[-1] if self.room_data else None

    def wait_for_users(self, names: list[str], timeout: float = 10) -> None:
        wait_for(lambda: self.users() == names, timeout, message=f"{self.name} to see {names}, "
                 f"last {self.users()}")

    def wait_for_notice(self, text: str, timeout: float = 10) -> None:
        wait_for(lambda: text in self.notices, timeout,
                 message=f"{self.name} to get {text!r}, got {self.notices}")

    # --- what the member does
    def send(self, text: str, client_id: str | None = None) -> dict:
        payload = {"text": text, "clientId": client_id} if client_id else text
        ack = self.sio.call("sendMessage", payload, timeout=15)
        assert isinstance(ack, tuple | list), f"refused: {ack}"
        error, message = ack
        assert error is None, error
        self._add([message])
        return message

    # --- keeping whole
    def _on_joined(self, error=None, joined=None) -> None:
        super()._on_joined(error, joined)
        if error is None:
            self._add(joined["history"])
            self.room_data.append([user["name"] for user in joined["users"]])
        self.joined.set()

    def _record(self, event, data) -> None:
        super()._record(event, data)
        if event == "roomData":
            self.room_data.append([user["name"] for user in data["users"]])
        elif event == "message" and data["seq"] is None:
            self.notices.append(data["text"])
        elif event == "message":
            self._add([data])
            if data["seq"] > self.contiguous() + 1:
                self.repair()

    def _add(self, messages: list[dict]) -> None:
        with self.lock:
            for message in messages:
                known = self.by_seq.setdefault(message["seq"], message)
                assert known["id"] == message["id"], (known, message)

    def repair(self) -> None:
        """Fetch the hole after the contiguous part over REST, as the web client does."""
        with self.lock:
            last = self.by_seq.get(self.contiguous())
        after = last["id"] if last else 0
        answer = self.http.get(self.url + "/messages", timeout=10,
                               params={"roomname": self.room, "after": after, "limit": 1000})
        answer.raise_for_status()
        self.repairs += 1
        self._add([{"id": m["id"], "seq": m["seq"], "user": m["username"], "text": m["text"],
                    "room": m["roomname"], "date": m["date"]} for m in answer.json()["results"]])


class RawMember:
    """One person in one room on a raw Socket.IO WebSocket, read by a thread of its own.

    Cheap enough for a few hundred in one test, and it sees frames in the order
    the server wrote them. It joins at once (`join_error`, or `join_ack`: what the
    join's ack carried); `send` returns the ack id, `acks`
    holds what came back, `messages` every chat message (notices left out).
    """

    def __init__(self, url: str, name: str, room: str, **options) -> None:
        self.ws = engineio_websocket(url, **options)
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.acks: dict[int, list] = {}
        self.next_id = 1
        self.closed = False
        self.ws.send("420" + json.dumps(["join", {"name": name, "room": room}]))
        while not (frame := self.ws.recv()).startswith("430"):
            self._take(frame)
        self.join_error, *joined = json.loads(frame[3:])
        self.join_ack = joined[0] if joined else None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def send(self, text: str) -> int:
        with self.lock:
            ack_id, self.next_id = self.next_id, self.next_id + 1
        self.ws.send(f"42{ack_id}" + json.dumps(["sendMessage", text]))
        return ack_id

    def _take(self, frame: str) -> None:
        if frame == "2":
            self.ws.send("3")  # answer the heartbeat
        elif frame.startswith("42["):
            name, *args = json.loads(frame[2:])
            if name == "message" and args[0]["seq"] is not None:
                with self.lock:
                    self.messages.append(args[0])
        elif frame.startswith("43"):
            ack_id, _, rest = frame[2:].partition("[")
            with self.lock:
                self.acks[int(ack_id)] = json.loads("[" + rest)
        elif frame in ("", "1", "41"):  # closed, Engine.IO close, Socket.IO disconnect
            self.closed = True

    def _read(self) -> None:
        import websocket

        self.ws.settimeout(None)
        try:
            while not self.closed:
                self._take(self.ws.recv())
        except (websocket.WebSocketException, OSError):
            self.closed = True

    def close(self) -> None:
        self.ws.close(timeout=0.5)


# A watcher: what a room was told, in the order the server wrote it ----------------

def watch(url: str, room: str = "lobby"):
    """A raw connection seated as "Watcher" in `room`; reads time out after 20 s."""
    ws = engineio_websocket(url, timeout=20)
    ws.send("420" + json.dumps(["join", {"name": "Watcher", "room": room}]))
    return ws


def events_until(ws, stop) -> list[tuple[str, dict]]:
    """Every event on `ws`, in the order written, up to the first that `stop` accepts."""
    seen = []
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")  # answer the heartbeat
        elif frame.startswith("42["):
            name, payload = json.loads(frame[2:])
            seen.append((name, payload))
            if stop(name, payload):
                return seen


def listed(payload: dict) -> list[str]:
    return [user["name"] for user in payload["users"]]


def list_is(names):
    return lambda event, payload: event == "roomData" and listed(payload) == names


def told(code: str, name: str):
    return lambda event, payload: (event == "message" and payload.get("code") == code
                                   and name in payload["params"]["names"])


def mentions(seen, name: str) -> list[dict]:
    """The notices in `seen` that tell `name` as joining or leaving."""
    return [payload for event, payload in seen
            if event == "message" and payload.get("code") in ("joined", "left")
            and name in payload["params"]["names"]]
