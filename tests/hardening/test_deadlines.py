"""Deadlines and fair shares of the server: headers and bodies that trickle, IPv6
clients counted by /64, a trusted proxy, and running out of file handles."""
from __future__ import annotations

import errno
import re
import select
import socket
import subprocess
import time

import pytest
import requests

from tests.clients import open_from
from tests.helpers import app_py_under, start_up, wait_for

ATTACKER = "127.0.0.2"


def dribble(connection: socket.socket, data: bytes, every: float, for_seconds: float):
    """Send `data` one byte every `every` seconds until the server answers or closes.

    Returns what the server sent (b"" for a close), or None if after `for_seconds`
    it was still listening."""
    until = time.monotonic() + for_seconds
    for byte in data:
        if time.monotonic() > until:
            return None
        readable, _, _ = select.select([connection], [], [], every)
        try:
            if readable:
                return connection.recv(4096)
            connection.send(bytes([byte]))
        except (ConnectionResetError, BrokenPipeError):
            return b""
    raise AssertionError("ran out of bytes to dribble")


def answer_then_close(connection: socket.socket, seconds: float = 3) -> bytes:
    connection.settimeout(seconds)
    received = b""
    while chunk := connection.recv(4096):
        received += chunk
    return received


def one_response(connection: socket.socket) -> bytes:
    """One answer with a Content-Length, whole: a server may send its head and its body
    in two writes, which a single recv can split."""
    received = b""
    while b"\r\n\r\n" not in received and (chunk := connection.recv(4096)):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
    while len(body) < length and (chunk := connection.recv(4096)):
        body += chunk
    return head + b"\r\n\r\n" + body


def status_from(source: str, port: int, request: bytes, destination: str = "127.0.0.1") -> int:
    with open_from(source, port, destination) as connection:
        connection.sendall(request)
        return int(answer_then_close(connection).split(b" ", 2)[1])


def healthz(server) -> int:
    return requests.get(server.url + "/healthz", timeout=5).status_code


# Headers and bodies that trickle -----------------------------------------------------


def test_headers_dribbled_within_the_socket_timeout_are_cut_at_the_headers_deadline(servers):
    server = servers({"HEADERS_TIMEOUT": "1.5", "SOCKET_TIMEOUT": "5"})
    with open_from(ATTACKER, server.port) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        # Each byte comes well within SOCKET_TIMEOUT; the headers never end.
        answer = dribble(slow, b"X-Slow: " + b"a" * 100, every=0.3, for_seconds=4.5)
        assert answer is not None, "slow headers still held their connection after 4.5 s"
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
    assert healthz(server) == 200
    assert "its request headers took over 1.5s" in server.full_log()


def test_keep_alive_waits_for_its_next_request_as_long_as_the_socket_timeout(servers):
    server = servers({"HEADERS_TIMEOUT": "0.5", "SOCKET_TIMEOUT": "5"})
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port)) as connection:
        connection.settimeout(5)
        connection.sendall(request)
        assert one_response(connection).startswith(b"HTTP/1.1 200")
        time.sleep(1)  # idle past the headers deadline, within the socket timeout
        connection.sendall(request)
        assert one_response(connection).startswith(b"HTTP/1.1 200")


def test_a_body_slower_than_the_minimum_rate_is_cut(servers):
    server = servers({"BODY_GRACE_SECONDS": "0.5", "BODY_MIN_BYTES_PER_SECOND": "100",
                      "SOCKET_TIMEOUT": "5"})
    with open_from(ATTACKER, server.port) as slow:
        slow.sendall(b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2000\r\n\r\n")
        answer = dribble(slow, b'{"username": "' + b"a" * 1990, every=0.2, for_seconds=4)
        assert answer is not None, "a body at 5 bytes/s still held its connection after 4 s"
        if answer:
            assert answer.startswith(b"HTTP/1.1 400")
            answer_then_close(slow)  # and the connection is closed
    assert healthz(server) == 200
    assert "its request body came slower than 100 bytes/s" in server.full_log()


def test_a_body_that_keeps_the_minimum_rate_is_read(servers):
    server = servers({"BODY_GRACE_SECONDS": "0.2", "BODY_MIN_BYTES_PER_SECOND": "100"})
    body = b'{"username": "Slow", "roomname": "lobby", "text": "' + b"a" * 40 + b'"}'
    with open_from(ATTACKER, server.port) as sender:
        sender.sendall(b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        for start in range(0, len(body), 20):  # 20 bytes every 0.1 s: 200 bytes/s
            sender.sendall(body[start:start + 20])
            time.sleep(0.1)
        assert answer_then_close(sender).startswith(b"HTTP/1.1 201")


# IPv6: one client, one /64 -------------------------------------------------------------


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("fe80::1%lo", "fe80::/64"),
    ("not an address", "not an address"),
])
def test_client_key_is_the_ipv4_address_or_the_ipv6_64(address, key):
    from comongus.limits import client_key

    assert client_key(address) == key


@pytest.fixture
def one_64_on_loopback():
    """Three addresses of one /64 and one of another, on `lo` (needs root)."""
    ours = ["fd00:c0:6::a", "fd00:c0:6::b", "fd00:c0:6::c"]
    other = "fd00:c0:7::a"
    added = []
    try:
        for address in [*ours, other]:
            result = subprocess.run(["ip", "-6", "addr", "add", f"{address}/64", "dev", "lo",
                                     "nodad"], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"cannot add IPv6 addresses to lo: {result.stderr.strip()}")
            added.append(address)
        yield ours, other
    finally:
        for address in added:
            subprocess.run(["ip", "-6", "addr", "del", f"{address}/64", "dev", "lo"])


def test_ipv6_addresses_of_one_64_share_one_per_address_cap(servers, one_64_on_loopback):
    ours, other = one_64_on_loopback
    server = servers({"HOST": "::", "MAX_CONNECTIONS_PER_ADDRESS": "2"})
    destination = other  # the server's own address, reached over lo
    held = [open_from(ours[0], server.port, destination),
            open_from(ours[1], server.port, destination)]
    try:
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert status_from(ours[2], server.port, request, destination) == 503
        assert status_from(other, server.port, request, destination) == 200
        assert healthz(server) == 200  # IPv4 through the dual-stack listener
    finally:
        for connection in held:
            connection.close()


# A trusted proxy -------------------------------------------------------------------


def handshake(forwarded_for: str) -> bytes:
    return (b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
            b"X-Forwarded-For: %s\r\nConnection: close\r\n\r\n" % forwarded_for.encode())


def test_behind_a_trusted_proxy_handshakes_are_limited_per_forwarded_client(servers):
    server = servers({"TRUSTED_PROXIES": "1", "HANDSHAKE_BURST": "3",
                      "HANDSHAKES_PER_SECOND": "0.01"})
    flood = [status_from(ATTACKER, server.port, handshake("203.0.113.7")) for _ in range(6)]
    assert flood == [200, 200, 200, 429, 429, 429]
    assert status_from(ATTACKER, server.port, handshake("203.0.113.8")) == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(servers):
    server = servers({"HANDSHAKE_BURST": "3", "HANDSHAKES_PER_SECOND": "0.01"})
    statuses = [status_from(ATTACKER, server.port, handshake(f"203.0.113.{i}"))
                for i in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]


# Settings checked at start, and file handles -----------------------------------------


@pytest.mark.parametrize("value", ["0", "-5"])
def test_max_connections_of_zero_or_less_is_a_start_up_error(tmp_path, value):
    result = start_up({"MAX_CONNECTIONS": value, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
                      open_files=1024)
    assert result.returncode != 0
    assert f"MAX_CONNECTIONS must be at least 1, not {value}" in result.stderr
    assert "Traceback" not in result.stderr


def test_max_connections_beyond_the_open_file_limit_is_a_start_up_error(tmp_path):
    result = start_up({"MAX_CONNECTIONS": "1000", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
                      open_files=256)
    assert result.returncode != 0
    assert "MAX_CONNECTIONS=1000" in result.stderr and "may open 256" in result.stderr
    assert "ulimit -n" in result.stderr and "LimitNOFILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_connections_past_the_open_file_limit_wait_and_the_server_lives(servers):
    open_files = 256
    server = servers({"MAX_CONNECTIONS_PER_ADDRESS": "0", "HEADERS_TIMEOUT": "30",
                      "SOCKET_TIMEOUT": "30"}, command=app_py_under(open_files))
    flood = []
    try:
        for _ in range(open_files + 50):
            flood.append(open_from(ATTACKER, server.port))
        wait_for(lambda: server.process.poll() is not None or "connections (MAX_CONNECTIONS) in use"
                 in server.full_log(), timeout=10, message="the server full")
        assert server.process.poll() is None, "the server exited:\n" + server.log()
        for connection in flood:
            connection.close()
        flood.clear()
        wait_for(lambda: healthz(server) == 200, timeout=10, message="/healthz after the flood")
        assert server.process.poll() is None
        assert "serving up to 192 connections" in server.full_log()
    finally:
        for connection in flood:
            connection.close()


def test_out_of_file_handles_in_accept_refuses_that_connection_and_keeps_listening():
    from comongus.serving import GuardedListener

    class Listener:
        def __init__(self):
            self.results = [OSError(errno.EMFILE, "Too many open files"),
                            (Refused(), ("203.0.113.7", 1)),
                            ("next", ("203.0.113.8", 2))]

        def accept(self):
            result = self.results.pop(0)
            if isinstance(result, OSError):
                raise result
            return result

    class Refused:
        closed = False

        def close(self):
            self.closed = True

    listener = Listener()
    refused = listener.results[1][0]
    assert GuardedListener(listener).accept() == ("next", ("203.0.113.8", 2))
    assert refused.closed
