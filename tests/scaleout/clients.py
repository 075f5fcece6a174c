"""A test chat member that keeps its room whole the way the web client does.

It merges messages by `seq`; when a `seq` arrives above a hole it fetches the
hole over REST (`GET /messages?roomname=R&after=<id>`); on every (re)connect it
joins again with `since`. It can come from a chosen source address (127.x.y.z),
for the tests behind nginx's `ip_hash`.
"""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlparse

import requests
import socketio
from requests.adapters import HTTPAdapter

from tests.helpers import wait_for


class SourceAddressAdapter(HTTPAdapter):
    """Every connection of a requests.Session leaves from `source`."""

    def __init__(self, source: str, **kwargs) -> None:
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


def session_from(source: str | None) -> requests.Session:
    session = requests.Session()
    if source:
        adapter = SourceAddressAdapter(source)
        session.mount("http://", adapter)
    return session


def _socket_from(source: str, url: str) -> socket.socket:
    """websocket-client takes no source address, but takes a connected socket."""
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port), timeout=10,
                                    source_address=(source, 0))
    sock.settimeout(None)
    return sock


class Member:
    """One person in one room, over a real python-socketio client."""

    def __init__(self, url: str, name: str, room: str, token: str | None = None,
                 transports=("websocket", "polling"), source: str | None = None,
                 reconnection: bool = False, join: bool = True) -> None:
        self.url, self.name, self.room, self.token = url, name, room, token
        self.http = session_from(source)
        websocket_options = {}
        if source and "websocket" in transports:
            websocket_options["socket"] = _socket_from(source, url)
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                   reconnection_delay_max=1, http_session=self.http,
                                   websocket_extra_options=websocket_options)
        self.lock = threading.RLock()
        self.by_seq: dict[int, dict] = {}
        self.notices: list[str] = []
        self.room_data: list[list[str]] = []
        self.join_errors: list[str] = []
        self.joined = threading.Event()
        self.repairs = 0
        self.sio.on("message", self._on_message)
        self.sio.on("roomData", self._on_room_data)
        if join:
            self.sio.on("connect", self._join)
        self.sio.connect(url, transports=list(transports), wait_timeout=10)
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

    def seqs(self) -> list[int]:
        with self.lock:
            return sorted(self.by_seq)

    def texts(self) -> list[str]:
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

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        self.sio.reconnection = False

    # --- keeping whole
    def _join(self) -> None:
        payload = {"name": self.name, "room": self.room}
        if self.token:
            payload["token"] = self.token
        since = self.contiguous()
        if self.by_seq:
            payload["since"] = since
        self.sio.emit("join", payload, callback=self._on_join_ack)

    def _on_join_ack(self, error=None, joined=None) -> None:
        if error is not None:
            self.join_errors.append(error)
            self.joined.set()
            return
        self._add(joined["history"])
        self.room_data.append([user["name"] for user in joined["users"]])
        self.joined.set()

    def _on_message(self, message: dict) -> None:
        if message["seq"] is None:
            self.notices.append(message["text"])
            return
        self._add([message])
        if message["seq"] > self.contiguous() + 1:
            self.repair()

    def _on_room_data(self, data: dict) -> None:
        self.room_data.append([user["name"] for user in data["users"]])

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
