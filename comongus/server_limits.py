"""What every server here enforces, whichever library runs it: connections fitted to the
open-file limit, a cap per client, a deadline for a request's headers and a minimum rate
for its body, a spare file handle for running out of them, a clean stop on SIGTERM, log
lines a client cannot multiply.

comongus/serving.py (eventlet) and comongus/gevent_server.py (gevent) build on it: each
plugs these into its library's server through that library's own hooks.
"""
from __future__ import annotations

import errno
import gc
import logging
import os
import resource
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from . import presence_leases
from .config import SettingError
from .extensions import socketio
from .limits import client_key, queued_bytes

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
# New connections taken before the connections already open get a turn: a crowd
# arriving at once waits in the backlog, not in front of those already in.
ACCEPTS_PER_TURN = 32
DEFAULT_MAX_CONNECTIONS = 4096
# Open files kept for what is not a connection: the database, log files, Redis,
# the listening socket, the hub's own.
FILES_BESIDES_CONNECTIONS = 64

_REFUSAL_BODY = b'{"error": "Too many connections from your address."}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           b"Retry-After: 5\r\nConnection: close\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(_REFUSAL_BODY), _REFUSAL_BODY))

TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
             b"Content-Length: 0\r\n\r\n")


CLOSE_SECONDS = 3.0  # the most SIGTERM waits for the close packets to go out


def close_every_session_and_exit(app, sleep) -> None:
    """What SIGTERM does: close every session (clients reconnect elsewhere), let the
    close packets go out, exit 0. Runs in a task of its own, where `sleep` may wait.

    The sessions close without the app's disconnect handler: run once for each, it
    would leave the session's room and announce a member list to the room's others,
    sessions x room size in all, seconds of CPU at thousands. This process's presence
    leaves in one go instead (`presence_leases.retire`). Each session still sends
    Engine.IO's close packet (then a WebSocket's close frame), so its client
    reconnects; the connections close, at the latest, with the process.

    Nothing is acked that was not committed: an ack is sent only after its commit,
    and SQLite commits never yield to this task half-way.
    """
    began = time.monotonic()
    gc.freeze()  # what lives now dies with the process: no collection walks it
    eio = socketio.server.eio
    sessions = list(eio.sockets.values())
    app.logger.info("SIGTERM: closing %d sessions and stopping", len(sessions))
    eio.handlers.pop("disconnect", None)
    presence_leases.retire(app)
    for session in sessions:
        session.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
    still_sending = _wait_for_queues_to_drain(sessions, sleep)
    app.logger.info("SIGTERM: closed %d sessions in %.1f s%s", len(sessions),
                    time.monotonic() - began,
                    f", {still_sending} of them still sending" if still_sending else "")
    sleep(0.5)  # the last writes and the announcer's departures
    logging.shutdown()
    os._exit(0)


def _wait_for_queues_to_drain(sessions, sleep) -> int:
    """Until every closed session's writer took its close packet (or CLOSE_SECONDS):
    a long-polling session's waits for its client's next poll. How many had not.

    What may stay queued is the end mark (None) a writer that already ended leaves."""
    deadline = time.monotonic() + CLOSE_SECONDS
    while sessions and time.monotonic() < deadline:
        sleep(0.05)
        sessions = [session for session in sessions if queued_bytes(session.queue)]
    return len(sessions)


class RateLimitedLog:
    """A log line written at most once per `seconds`, with how often it was skipped:
    a line per connection would let a client fill the log."""

    def __init__(self, level: int = logging.WARNING, seconds: float = 10.0) -> None:
        self.level = level
        self.seconds = seconds
        self.last = -seconds
        self.skipped = 0

    def __call__(self, message: str, *args) -> None:
        now = time.monotonic()
        if now - self.last < self.seconds:
            self.skipped += 1
            return
        if self.skipped:
            message += " (%d more times since the last such line)"
            args = (*args, self.skipped)
        log.log(self.level, message, *args)
        self.last, self.skipped = now, 0


class OpenByAddress:
    """The connections each client has open, against the cap per client (0: none).

    A client is an IPv4 address or an IPv6 /64 (`client_key`), as the TCP peer
    sees it: behind a proxy, the proxy.
    """

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> str | None:
        """Count a new connection from `address`: its client's key, or None if over the cap."""
        key = client_key(address)
        if self.per_address and self.open[key] >= self.per_address:
            return None
        self.open[key] += 1
        return key

    def release(self, key: str) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]


def refuse(sock, address: str) -> None:
    """Answer a connection over its client's cap with a 503, and close it.

    What the client has sent so far is read first, without waiting (64 KB at the
    most): closing a socket with unread bytes resets the connection, and the
    reset may overtake the answer, which the client then never reads.
    """
    log.warning("refused a connection from %s: over its address's cap", address)
    try:
        sock.sendall(REFUSAL)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0)
        for _ in range(16):
            if not sock.recv(4096):
                break
    except OSError:  # nothing more to read (BlockingIOError), or the client is gone
        pass
    finally:
        sock.close()


class SpareFileHandle:
    """A file handle kept for when `accept()` runs out of them.

    Out of handles, a server loop would end (eventlet) or log a traceback and
    pause (gevent) while the connection waits. Here the spare is let go, the
    waiting connection is accepted and closed at once, and the spare is taken
    back; one warning line every ten seconds says so.
    """

    OUT_OF_HANDLES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

    def __init__(self) -> None:
        self.fd: int | None = os.open(os.devnull, os.O_RDONLY)
        self.warning = RateLimitedLog()

    def refuse_one(self, error: OSError, accept: Callable[[], Any]) -> bool:
        """Refuse the connection `accept()` returns (a (socket, address) pair or None);
        False if handles are still short, and connections must end first."""
        self.warning("refused a connection: out of file handles (%s); MAX_CONNECTIONS "
                     "leaves too few for the rest of the process", error.strerror)
        if self.fd is not None:
            os.close(self.fd)
        try:
            accepted = accept()
            if accepted:
                accepted[0].close()
            return True
        except OSError:
            return False
        finally:
            try:
                self.fd = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self.fd = None


class RequestDeadlines:
    """What both servers' HTTP handlers add to their library's: a deadline for a request's
    line and headers, a minimum rate for its body, turns between requests.

    A library's only clock is the socket timeout, which restarts with every byte.
    Here a request's line and headers must be complete `headers_timeout` seconds
    after the connection started or, on keep-alive, after the request's first
    byte (the idle wait before it has the socket timeout); its body must keep up
    with `body_min_rate` bytes a second after `body_grace` seconds
    (`MinimumRateReader`). `configured` sets these from the settings.

    A handler mixes it in before its library's handler class, defines
    `timeout_class` (the library's Timeout), `_start_timer` and `_write_now`,
    runs its `handle_one_request` through `_handle_within_deadlines`, cancels
    `headers_timer` once the headers are read, and builds its environ through
    `_environ_with_rate_limited_body`.
    """

    headers_timeout = 10.0
    body_min_rate = 500
    body_grace = 5.0
    slow_headers_log = RateLimitedLog(logging.INFO)
    timeout_class: Any = None

    @classmethod
    def configured(cls, config) -> type:
        return type(cls.__name__, (cls,), {
            "headers_timeout": config["HEADERS_TIMEOUT"],
            "body_min_rate": config["BODY_MIN_BYTES_PER_SECOND"],
            "body_grace": config["BODY_GRACE_SECONDS"]})

    def _start_timer(self, seconds: float):
        """A started `timeout_class` that raises itself after `seconds`."""
        raise NotImplementedError

    def _write_now(self, data: bytes) -> None:
        """Write straight to the client's socket."""
        raise NotImplementedError

    def _begin_deadlines(self) -> None:
        self.started = time.monotonic()
        self.requests_begun = 0
        self.headers_timer = None

    def _handle_within_deadlines(self, handle_one_request: Callable[[], Any]) -> tuple[bool, Any]:
        """(True, what `handle_one_request` returned), or (False, None) when the client
        closed or its headers took too long: the connection is then to be closed."""
        if self.requests_begun and not self._next_request_begins():
            self.close_connection = True
            return False, None
        now = time.monotonic()
        deadline = (self.started if not self.requests_begun else now) + self.headers_timeout
        self.requests_begun += 1
        began = self.requests_begun > 1
        self.headers_timer = self._start_timer(max(deadline - now, 0))
        try:
            if not began and not self._next_request_begins():
                self.close_connection = True
                return False, None
            began = True
            return True, handle_one_request()
        except self.timeout_class as timeout:
            if timeout is not self.headers_timer:
                raise
            self._time_out(began)
            return False, None
        finally:
            self.headers_timer.cancel()

    def _next_request_begins(self) -> bool:
        """Wait for the first byte of a request; False if the client closed instead."""
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False

    def _time_out(self, began: bool) -> None:
        """Close the connection; a client that sent nothing at all is only idle."""
        self.close_connection = True
        if not began:
            return
        self.slow_headers_log("closed a connection from %s: its request headers took over %gs",
                              self.client_address[0], self.headers_timeout)
        try:
            self._write_now(TIMED_OUT)
        except OSError:
            pass

    def _environ_with_rate_limited_body(self, get_environ: Callable[[], dict]) -> dict:
        """`get_environ()`, the body it reads through `MinimumRateReader`."""
        if not self.body_min_rate:
            return get_environ()
        rfile, self.rfile = self.rfile, MinimumRateReader(self.rfile, self, self.timeout_class)
        try:
            return get_environ()
        finally:
            self.rfile = rfile


class MinimumRateReader:
    """A request body's reader that gives up on a body arriving too slowly.

    From the first read, the body has `body_grace` seconds plus one second per
    `body_min_rate` bytes received; a client past that gets what came so far
    (the app answers 400 for a short body) and its connection is closed. A
    trickle of bytes cannot hold a connection longer than its size allows.
    """

    LONGEST_LINE = 64 * 1024  # chunk-size lines and trailers are short
    slow_body_log = RateLimitedLog(logging.INFO)

    def __init__(self, rfile, protocol, timeout) -> None:
        self.rfile = rfile
        self.protocol = protocol  # the connection's handler: body_grace, body_min_rate,
        # client_address, close_connection
        self.timeout = timeout  # eventlet.Timeout or gevent.Timeout: the server's own
        self.began: float | None = None
        self.received = 0
        self.too_slow = False

    def _time_left(self) -> float:
        if self.began is None:
            self.began = time.monotonic()
        return (self.began + self.protocol.body_grace + self.received / self.protocol.body_min_rate
                - time.monotonic())

    def _read_in_time(self, read, size: int) -> bytes | None:
        """`read(size)` if it completes in time; None (and the connection closes) if not."""
        if self.too_slow:
            return None
        data = None
        time_left = self._time_left()
        if time_left > 0:
            with self.timeout(time_left, False):
                data = read(size)
        if data is None:
            self.too_slow = True
            self.protocol.close_connection = 1
            self.slow_body_log("closed a connection from %s: its request body came slower "
                               "than %d bytes/s", self.protocol.client_address[0],
                               self.protocol.body_min_rate)
            return None
        self.received += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(self.LONGEST_LINE), b""))
        data = bytearray()
        while len(data) < size:
            chunk = self._read_in_time(self.rfile.read1, size - len(data))
            if not chunk:
                break
            data += chunk
        return bytes(data)

    def readline(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.LONGEST_LINE
        return self._read_in_time(self.rfile.readline, size) or b""

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        for line in iter(self.readline, b""):
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines


def connections_the_file_limit_allows() -> tuple[int, int]:
    """Raise the open-file soft limit to the hard limit; the limit and the
    connections it leaves room for (one file each: under both servers a WebSocket
    reads the socket its request came on)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # an unlimited hard limit is capped by the kernel
            pass
    limit = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return limit, limit - FILES_BESIDES_CONNECTIONS


def max_connections(configured: int | None) -> int:
    """MAX_CONNECTIONS checked against the open-file limit (unset: the most that fits,
    up to `DEFAULT_MAX_CONNECTIONS`)."""
    limit, allowed = connections_the_file_limit_allows()
    if configured is None:
        connections = min(DEFAULT_MAX_CONNECTIONS, allowed)
    elif configured > allowed:
        wanted = configured + FILES_BESIDES_CONNECTIONS
        raise SettingError(
            f"MAX_CONNECTIONS={configured} needs {wanted} open files, but this process may "
            f"open {limit}, which leaves room for {max(allowed, 0)} connections. "
            f"Raise the limit (`ulimit -n {wanted}` in the shell that starts the server, "
            f"LimitNOFILE={wanted} in its systemd unit, --ulimit nofile={wanted} for docker) "
            f"or lower MAX_CONNECTIONS.")
    else:
        connections = configured
    if connections < 1:
        raise SettingError(f"the open-file limit of {limit} leaves no room for connections: "
                           f"raise it (ulimit -n, LimitNOFILE) above {FILES_BESIDES_CONNECTIONS}")
    log.info("open-file limit %d: serving up to %d connections (MAX_CONNECTIONS%s)",
             limit, connections, "" if configured is not None else " unset")
    return connections
