"""What every server here enforces, whichever library runs it: connections fitted to the
open-file limit, the answers for a refused or too slow request, a body's minimum rate,
log lines a client cannot multiply.

comongus/serving.py (eventlet) and comongus/gevent_server.py (gevent) build on it.
"""
from __future__ import annotations

import logging
import resource
import time

from .config import SettingError

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
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


def connections_the_file_limit_allows(files_per_connection: int = 1) -> tuple[int, int]:
    """Raise the open-file soft limit to the hard limit; the limit and the
    connections it leaves room for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # an unlimited hard limit is capped by the kernel
            pass
    limit = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return limit, (limit - FILES_BESIDES_CONNECTIONS) // files_per_connection


def max_connections(configured: int | None, files_per_connection: int = 1) -> int:
    """MAX_CONNECTIONS checked against the open-file limit (unset: the most that fits,
    up to `DEFAULT_MAX_CONNECTIONS`); a connection may hold `files_per_connection`."""
    limit, allowed = connections_the_file_limit_allows(files_per_connection)
    if configured is None:
        connections = min(DEFAULT_MAX_CONNECTIONS, allowed)
    elif configured > allowed:
        wanted = configured * files_per_connection + FILES_BESIDES_CONNECTIONS
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
