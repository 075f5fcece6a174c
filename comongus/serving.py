"""The production server: eventlet's WSGI server with connection caps, deadlines and a clean stop.

eventlet serves 1,024 connections by default, waits forever on a silent socket,
restarts its socket timeout with every byte (one byte every 29 s holds a
connection for ever), lets one address take every slot and exits when
`accept()` runs out of file handles. Here the server-wide cap (fitted to the
open-file limit), the cap per client, the socket timeout, a deadline for a
request's headers and a minimum rate for its body are settings, and SIGTERM
(how platforms stop a process) closes every session before the process exits.
"""
from __future__ import annotations

import ctypes
import errno
import gc
import logging
import os
import resource
import signal
import socket
import time
from collections import Counter

import eventlet
import eventlet.hubs
import eventlet.patcher
import eventlet.semaphore
import eventlet.wsgi
from flask import Flask

from .config import SettingError
from .extensions import socketio
from .limits import client_key

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


class ConnectionPool(eventlet.GreenPool):
    """The pool eventlet runs each connection in, capping the connections per client.

    Its size is the server-wide cap, counting connections (`open_slots`), not
    tasks: when it is full, new connections wait in the listen backlog. A
    connection over its client's cap gets a 503 and is closed; a client is an
    IPv4 address or an IPv6 /64 (`client_key`), as the TCP peer sees it: behind
    a proxy, the proxy.
    """

    def __init__(self, size: int, per_address: int) -> None:
        super().__init__(size)
        self.open_slots = eventlet.semaphore.Semaphore(size)
        self.per_address = per_address
        self.open_by_address: Counter[str] = Counter()
        self.full_warning = RateLimitedLog()

    def spawn(self, function, connection, *args):
        # Without TCP_NODELAY a response written in two parts (headers, then a
        # body) waits for the client's delayed ACK: 40 ms per page of messages.
        connection[1].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        address = client_key(connection[0][0])
        if self.per_address and self.open_by_address[address] >= self.per_address:
            return super().spawn(_refuse, connection)
        if self.open_slots.locked():
            self.full_warning("all %d connections (MAX_CONNECTIONS) in use: new ones wait "
                              "in the listen backlog", self.size)
        self.open_slots.acquire()
        self.open_by_address[address] += 1
        return self.track(super().spawn(function, connection, *args), address)

    def track(self, task, address: str):
        """What eventlet's server links its end-of-connection work to: the task."""
        task.link(self._release, address)
        return task

    def _release(self, _connection, address: str) -> None:
        self.open_slots.release()
        self.open_by_address[address] -= 1
        if self.open_by_address[address] <= 0:
            del self.open_by_address[address]


class HeadersTooSlow(Exception):
    """The request line and headers did not arrive within HEADERS_TIMEOUT."""


TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
             b"Content-Length: 0\r\n\r\n")


class LeanHttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP handler with smaller buffers, deadlines, taking turns between requests.

    Each connection keeps its read and write buffers (8 KB and 16 KB by default)
    for as long as it is open, a WebSocket's whole life included, though a
    WebSocket writes to the socket directly. At a thousand connections that was
    24 MB; 2 KB each is enough for a request's head, and a larger response body
    is written in one piece after its headers.

    eventlet's only clock is the socket timeout, which restarts with every byte.
    Here a request's line and headers must be complete `headers_timeout` seconds
    after the connection started or, on keep-alive, after the request's first
    byte (the idle wait before it has the socket timeout); and its body must keep
    up with `body_min_rate` bytes a second after `body_grace` seconds
    (`MinimumRateReader`). `configured` sets these from the settings.
    """

    rbufsize = 2048
    wbufsize = 2048
    slow_headers_log = RateLimitedLog(logging.INFO)
    headers_timeout = 10.0
    body_min_rate = 500
    body_grace = 5.0

    @classmethod
    def configured(cls, config) -> type[LeanHttpProtocol]:
        return type(cls.__name__, (cls,), {
            "headers_timeout": config["HEADERS_TIMEOUT"],
            "body_min_rate": config["BODY_MIN_BYTES_PER_SECOND"],
            "body_grace": config["BODY_GRACE_SECONDS"]})

    def setup(self) -> None:
        self.started = time.monotonic()
        self.requests_begun = 0
        super().setup()

    def handle_one_request(self) -> None:
        """Answer one request within the deadlines, then let other connections go first.

        eventlet reads a keep-alive connection's next request straight away; a
        client that sends it as soon as it has the answer finds it waiting, and
        is answered again and again while every other connection waits.
        """
        if self.requests_begun and not self._next_request_begins():
            self.close_connection = 1
            return
        deadline = (self.started if not self.requests_begun else time.monotonic()) \
            + self.headers_timeout
        self.requests_begun += 1
        self.headers_timer = eventlet.Timeout(max(deadline - time.monotonic(), 0), HeadersTooSlow)
        began = self.requests_begun > 1
        try:
            if not began and not self._next_request_begins():
                self.close_connection = 1
                return
            began = True
            super().handle_one_request()
        except HeadersTooSlow:
            self._time_out(began)
            return
        finally:
            self.headers_timer.cancel()
        if not self.close_connection:
            eventlet.sleep(0)

    def _next_request_begins(self) -> bool:
        """Wait for the first byte of a request; False if the client closed instead."""
        try:
            return bool(self.rfile.peek(1))
        except ConnectionError:
            return False

    def parse_request(self) -> bool:
        """Read the headers; the deadline ends with them (the app's time is not the client's)."""
        try:
            return super().parse_request()
        finally:
            self.headers_timer.cancel()

    def _time_out(self, began: bool) -> None:
        """Close the connection; a client that sent nothing at all is only idle."""
        self.close_connection = 1
        if not began:
            return
        self.slow_headers_log("closed a connection from %s: its request headers took over %gs",
                              self.client_address[0], self.headers_timeout)
        try:
            self.wfile.write(TIMED_OUT)
            self.wfile.flush()
        except OSError:
            pass

    def get_environ(self) -> dict:
        """The WSGI environ, its body read through `MinimumRateReader`."""
        if not self.body_min_rate:
            return super().get_environ()
        rfile, self.rfile = self.rfile, MinimumRateReader(self.rfile, self)
        try:
            return super().get_environ()
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

    def __init__(self, rfile, protocol: LeanHttpProtocol) -> None:
        self.rfile = rfile
        self.protocol = protocol
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
            with eventlet.Timeout(time_left, False):
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


def _refuse(connection) -> None:
    log.warning("refused a connection from %s: over its address's cap", connection[0][0])
    try:
        connection[1].sendall(REFUSAL)
    except OSError:
        pass


def _shut_down(app: Flask) -> None:
    """Close every session (clients reconnect elsewhere), then exit.

    Nothing is acked that was not committed: an ack is sent only after its
    commit, and SQLite commits never yield to this greenlet half-way.
    """
    sessions = list(socketio.server.eio.sockets.values())
    app.logger.info("SIGTERM: closing %d sessions and stopping", len(sessions))
    for session in sessions:
        session.close(wait=False, reason=socketio.server.eio.reason.SERVER_DISCONNECT)
    eventlet.sleep(0.5)  # let the close packets go out
    logging.shutdown()
    os._exit(0)


def _stop_on_sigterm(app: Flask) -> None:
    """Run `_shut_down` in a greenlet when SIGTERM comes.

    A signal handler runs inside the hub, where nothing may block or switch, and
    a greenlet it spawns would wait for the hub's next event; a byte down a pipe
    is such an event.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    write = eventlet.patcher.original("os").write  # the green one would wait on the hub
    signal.signal(signal.SIGTERM, lambda *_: write(write_end, b"!"))

    def wait_then_shut_down():
        eventlet.hubs.trampoline(read_end, read=True)
        _shut_down(app)

    eventlet.spawn_n(wait_then_shut_down)


def _calm_the_garbage_collector() -> None:
    """Collect less often: with a thousand connections alive, Python's default
    thresholds run collections of every live object often enough to add 150 ms
    to the slowest deliveries (benchmarks, docs/performance.md). What exists
    at start-up is frozen out of the collections altogether."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


TRIM_SECONDS = 5
COLLECT_AFTER_DEPARTURES = 100


def _return_freed_memory() -> None:
    """Give the memory that sessions and bursts freed back to the OS, after churn.

    glibc keeps freed heap for reuse: after 1,000 people joined, some 12 MB of
    what the join burst used stayed in the process. `malloc_trim` returns it
    (about 2 ms with 1,000 sessions open); it runs only when the number of
    sessions changed since the last time. Not on a libc without it (musl).

    A closed session is garbage in reference cycles (eventlet's WebSocket and its
    frame reader, a session and its send queue), which only a full collection
    frees, and `_calm_the_garbage_collector` makes those rare. So once
    `COLLECT_AFTER_DEPARTURES` sessions have closed since the last one, whether
    in a wave or one by one while others join, a full collection runs first:
    about 30 ms with 1,000 open.
    """
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    eio = socketio.server.eio
    sessions = eio.sockets
    opened_count = [0]
    handle_connect = eio.handlers["connect"]

    def count_opened(eio_sid, environ):
        opened_count[0] += 1
        return handle_connect(eio_sid, environ)

    eio.on("connect", count_opened)

    def upkeep():
        # Departures are the sessions opened minus the growth in those online, so
        # a session that opened and closed between two looks counts too.
        trimmed_at = online = len(sessions)
        opened = opened_count[0]
        departures = 0
        while True:
            eventlet.sleep(TRIM_SECONDS)
            departures += (opened_count[0] - opened) - (len(sessions) - online)
            opened, online = opened_count[0], len(sessions)
            if departures >= COLLECT_AFTER_DEPARTURES:
                gc.collect()
                departures = 0
            if online != trimmed_at and trim is not None:
                trimmed_at = online
                trim(0)

    eventlet.spawn_n(upkeep)


class GuardedListener:
    """The listening socket, for eventlet's server loop: running out of file
    handles in `accept()` refuses that connection instead of ending the loop.

    eventlet's loop raises any error of `accept()` but a few, and the process
    exits. Here, out of handles, a spare one kept for the purpose is let go,
    the waiting connection is accepted and closed at once, and the spare is
    taken back; one warning line every ten seconds says so.
    """

    OUT_OF_HANDLES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

    def __init__(self, sock) -> None:
        self.sock = sock
        self.spare = os.open(os.devnull, os.O_RDONLY)
        self.warning = RateLimitedLog()

    def accept(self):
        while True:
            try:
                return self.sock.accept()
            except OSError as error:
                if error.errno not in self.OUT_OF_HANDLES:
                    raise
                self._refuse_one(error)

    def _refuse_one(self, error: OSError) -> None:
        self.warning("refused a connection: out of file handles (%s); MAX_CONNECTIONS "
                     "leaves too few for the rest of the process", error.strerror)
        if self.spare is not None:
            os.close(self.spare)
        try:
            connection, _ = self.sock.accept()
            connection.close()
        except OSError:
            eventlet.sleep(0.1)  # handles are still short: let connections end
        finally:
            try:
                self.spare = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self.spare = None

    def __getattr__(self, name):
        return getattr(self.sock, name)


def connections_the_file_limit_allows() -> tuple[int, int]:
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


def serve(app: Flask, host: str, port: int, tuning=None) -> None:
    """Serve `app` on eventlet at host:port until SIGTERM or Ctrl-C.

    `tuning`: what `eventlet_tuning.install` returned (None: stock), whose
    connection pool and HTTP protocol, subclasses of the ones here, let an
    upgraded WebSocket outlive its task.
    """
    pool_class = tuning.connection_pool if tuning else ConnectionPool
    protocol_class = tuning.http_protocol if tuning else LeanHttpProtocol
    config = app.config
    connections = max_connections(config["MAX_CONNECTIONS"])
    _stop_on_sigterm(app)
    _calm_the_garbage_collector()
    _return_freed_memory()
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # eventlet listens with a backlog of 50: a burst of new connections (long-polling
    # clients open one per request) overflows it, and each dropped SYN costs its
    # client a one-second retransmit.
    listener = eventlet.listen(address, family, backlog=LISTEN_BACKLOG)
    app.logger.info("ComongUS on http://%s:%d (%s)", host, port, socketio.async_mode)
    # debug=False: eventlet's default writes tracebacks into 500 answers.
    eventlet.wsgi.server(GuardedListener(listener), app, log_output=False, debug=False,
                         protocol=protocol_class.configured(config),
                         custom_pool=pool_class(connections,
                                                config["MAX_CONNECTIONS_PER_ADDRESS"]),
                         socket_timeout=config["SOCKET_TIMEOUT"])
