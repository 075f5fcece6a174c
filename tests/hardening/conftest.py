"""Fixtures for the hardening tests: real servers, real clients, a fault proxy, the full log."""
from __future__ import annotations

import threading

import pytest
import requests
import socketio
from hypothesis import Phase, settings

from tests.faultproxy import FaultProxy
from tests.helpers import ServerProcess, server_processes, wait_for

# The tests open many sessions, send many events and post many messages from one
# address in a few seconds; each of those limits has tests of its own.
QUIET_LIMITS = {"HANDSHAKE_BURST": "100000", "HANDSHAKES_PER_SECOND": "100000",
                "SEND_BURST": "10000", "EVENT_BUDGET_BURST": "100000",
                "REST_POSTS_PER_SECOND": "0"}


class ChatClient:
    """A real python-socketio client that records what it receives.

    With `rejoin` (a join payload), it behaves as the web client does: on every
    `connect`, including the reconnections python-socketio makes by itself, it
    joins with `since` = the highest `seq` it has seen, and takes the history the
    ack carries.
    """

    def __init__(self, url, transports=("websocket",), reconnection=False, rejoin=None):
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.1,
                                   reconnection_delay_max=0.3, randomization_factor=0)
        self.lock = threading.Lock()
        self.received: list[tuple[str, object]] = []
        self.connects = 0
        self.disconnects = 0
        self.rejoin = rejoin
        self.join_errors: list[str] = []
        for event in ("message", "roomData", "typing"):
            self.sio.on(event, lambda data, event=event: self._record(event, data))
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.connect(url, transports=list(transports), wait_timeout=10)

    def _record(self, event, data):
        with self.lock:
            self.received.append((event, data))

    def _on_connect(self):
        self.connects += 1
        if self.rejoin is None:
            return
        payload = dict(self.rejoin)
        seen = [m["seq"] for m in self.chat_messages()]
        if seen:
            payload["since"] = max(seen)
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
        try:
            self.sio.disconnect()
        except Exception:  # already gone
            pass


@pytest.fixture
def clients():
    """Open real clients: `alice = clients(server.url)`; all closed at teardown."""
    opened = []

    def open_client(url, transports=("websocket",), **options):
        opened.append(ChatClient(url, transports, **options))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture
def servers(tmp_path):
    """Start real servers: `server = servers(env)`; all killed at teardown."""
    with server_processes() as start:
        yield lambda env=None, workdir=None: start(workdir or tmp_path,
                                                   {**QUIET_LIMITS, **(env or {})})


@pytest.fixture
def proxies():
    """A fault proxy in front of a port: `proxy = proxies(server.port)`; closed at teardown."""
    opened = []

    def open_proxy(port):
        opened.append(FaultProxy(port))
        return opened[-1]

    yield open_proxy
    for proxy in opened:
        proxy.close()


def full_log(server: ServerProcess) -> str:
    """The whole log of a server (ServerProcess.log() keeps only its tail)."""
    return server.log_path.read_text(errors="replace")


def stored(server: ServerProcess, room: str | None = None) -> list[dict]:
    query = {"limit": 1000, **({"roomname": room} if room else {})}
    response = requests.get(server.url + "/messages", params=query, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["results"]


# `pytest tests/hardening/test_property.py --hypothesis-profile=explore` skips the pinned
# examples of known bugs and generates many more, to look for new ones.
settings.register_profile("explore", phases=[Phase.generate, Phase.shrink],
                          max_examples=1000, deadline=None)
