"""One WebSocket cannot hold the server: what it sends is read fairly, bounded in bytes.

Each attack runs from 127.0.0.2 against a real server, while /healthz and a
victim's chat round trip run from 127.0.0.1 and must keep answering. The frames
of the raw attacks are crafted by hand (`frame`), as a hostile client would.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
import requests
import websocket

from tests.clients import engineio_websocket, open_from, upgrade_request

ATTACKER = "127.0.0.2"
MIB = 1024 * 1024
TEXT, BINARY, CONTINUATION, PING = 0x1, 0x2, 0x0, 0x9


def frame(opcode: int, payload: bytes = b"", final: bool = True) -> bytes:
    """A client's WebSocket frame, masked as RFC 6455 requires."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = bytes([0x80 * final | opcode, 0x80 | length])
    elif length < 65536:
        head = bytes([0x80 * final | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x80 * final | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big") if length else b""
    return head + mask + masked


def raw_upgrade(server) -> socket.socket:
    """An upgraded Engine.IO WebSocket from the attacker's address, its open packet read."""
    sock = open_from(ATTACKER, server.port, timeout=5)
    sock.sendall(upgrade_request(server.port))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def rss_kib(server) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Attack(threading.Thread):
    """Runs `send_all(sock)` until the server cuts the connection or `seconds` pass."""

    def __init__(self, sock, send_all, seconds: float) -> None:
        super().__init__(daemon=True)
        self.sock, self.send_all, self.deadline = sock, send_all, time.monotonic() + seconds
        self.cut_after: float | None = None
        self.started_at = time.monotonic()
        self.start()

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.send_all(self.sock)
        except (OSError, websocket.WebSocketException):  # the server closed the connection
            self.cut_after = time.monotonic() - self.started_at

    def stop(self) -> None:
        self.deadline = 0
        self.join(10)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server ends the connection (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionError, OSError) as error:
        return not isinstance(error, TimeoutError)
    return False


def assert_others_served(server, victim, seconds: float) -> None:
    """For `seconds`: /healthz answers within 2 s each time and the victim's sends are acked."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            response = requests.get(server.url + "/healthz", timeout=2)
        except requests.RequestException as error:
            raise AssertionError(f"/healthz did not answer within 2 s: {error}") from None
        assert response.status_code == 200
        count += 1
        error, message = victim.call("sendMessage", f"still here {count}", timeout=3)
        assert error is None, error
        victim.wait_for_text(f"still here {count}", timeout=3)
        time.sleep(max(0.0, 0.2 - (time.monotonic() - started)))


@pytest.fixture
def served(servers, clients):
    """A server, and a victim from 127.0.0.1 sitting in a room."""
    server = servers()
    victim = clients(server.url)
    victim.join("Victim", "lobby")
    return server, victim


@pytest.mark.slow
def test_an_endless_fragmented_message_is_cut_once_it_passes_the_limit(served):
    server, victim = served
    rss_before = rss_kib(server)
    sock = raw_upgrade(server)
    fragment = frame(CONTINUATION, b"x" * 60_000, final=False)
    sock.sendall(frame(TEXT, b"4" + b"x" * 60_000, final=False))
    attack = Attack(sock, lambda sock: sock.sendall(fragment), seconds=6)
    try:
        assert_others_served(server, victim, seconds=3)
        attack.join(6)
        assert attack.cut_after is not None or closed_by_server(sock, 1), \
            "the message kept growing and its sender was not cut"
    finally:
        attack.stop()
        sock.close()
    assert rss_kib(server) - rss_before < 50 * 1024
    log = server.full_log()
    assert log.count("message over") == 1, log[-3000:]
    assert "Traceback" not in log


@pytest.mark.slow
def test_large_frames_in_a_loop_leave_the_others_served(served):
    server, victim = served
    ws = engineio_websocket(server.url, source=ATTACKER, timeout=5)
    packet = "6" + "x" * 60_000  # an Engine.IO no-op, each one read and dropped
    attack = Attack(ws, lambda ws: ws.send(packet), seconds=4)
    try:
        assert_others_served(server, victim, seconds=3)
    finally:
        attack.stop()
        ws.sock.close()
    assert "Traceback" not in server.full_log()


@pytest.mark.slow
def test_a_flood_of_pings_is_cut(served):
    server, victim = served
    sock = raw_upgrade(server)
    pings = frame(PING) * 10_000
    attack = Attack(sock, lambda sock: sock.sendall(pings), seconds=5)
    try:
        assert_others_served(server, victim, seconds=2)
        assert closed_by_server(sock, 3), "the ping flood was never cut"
    finally:
        attack.stop()
        sock.close()
    log = server.full_log()
    assert log.count("control frames") == 1, log[-3000:]
    assert "Traceback" not in log


ATTACHMENTS = '451000000-["x",{"_placeholder":true,"num":0}]'  # a million to follow


@pytest.mark.parametrize("how", ["announced attachments", "binary frame"])
def test_binary_over_websocket_closes_the_connection(served, how):
    server, victim = served
    ws = engineio_websocket(server.url, source=ATTACKER, timeout=5)
    try:
        if how == "announced attachments":
            ws.send(ATTACHMENTS)
        for _ in range(20):
            ws.send_binary(b"\x00" * 1000)
        ws.settimeout(3)
        while ws.recv_data()[0] != websocket.ABNF.OPCODE_CLOSE:
            pass
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass  # closed, as it should be
    except websocket.WebSocketTimeoutException:
        raise AssertionError("the connection is still open") from None
    finally:
        ws.sock.close()
    assert_others_served(server, victim, seconds=0.1)
    log = server.full_log()
    assert log.count("binary") == 1, log[-3000:]
    assert "Traceback" not in log


@pytest.mark.parametrize("body", [ATTACHMENTS, "bAAECAw=="], ids=["announced attachments",
                                                                   "base64 binary"])
def test_binary_over_long_polling_is_refused(served, body):
    server, victim = served
    url = server.url + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(url, timeout=5).text[1:])["sid"]
    url += "&sid=" + sid
    assert requests.post(url, data="40", timeout=5).status_code == 200
    assert requests.get(url, timeout=5).text.startswith("40{")
    answer = requests.post(url, data=body, timeout=5)
    assert answer.status_code == 400
    assert requests.get(url, timeout=5).status_code == 400  # the session is gone
    log = server.full_log()
    assert log.count("binary") == 1, log[-3000:]
    assert "Traceback" not in log


def test_overlong_text_gets_an_error_ack_and_the_connection_stays(served, clients):
    server, _ = served
    sender = clients(server.url)
    sender.join("Sender", "long")
    error, *_ = sender.call("sendMessage", "y" * 100_000)
    assert error is not None and "too long" in error
    error, message = sender.call("sendMessage", "short")
    assert error is None and message["text"] == "short"
    assert sender.call("leave") == (None,)
