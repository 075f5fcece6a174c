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

from .extensions import socketio
from .limits import client_key
from .server_limits import (
    LISTEN_BACKLOG,
    REFUSAL,
    TIMED_OUT,
    MinimumRateReader,
    RateLimitedLog,
    max_connections,
)

log = logging.getLogger(__name__)


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


class LeanHttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP handler with smaller buffers, deadlines, taking turns between requests.

    Each connection keeps its read and write buffers (8 KB and 16 KB by default)
    for as long as it is open, a WebSocket's whole life included, though a
    WebSocket writes to the socket directly, which adds up with thousands of
    connections; 2 KB each is enough for a request's head, and a larger response
    body is written in one piece after its headers.

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
        rfile, self.rfile = self.rfile, MinimumRateReader(self.rfile, self, eventlet.Timeout)
        try:
            return super().get_environ()
        finally:
            self.rfile = rfile


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
    """Collect less often: with thousands of connections alive, Python's default
    thresholds run collections of every live object often enough to delay the
    slowest deliveries (the measured cost: docs/performance.md). What exists at
    start-up is frozen out of the collections altogether."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


TRIM_SECONDS = 5
COLLECT_AFTER_DEPARTURES = 100


def _return_freed_memory() -> None:
    """Give the memory that sessions and bursts freed back to the OS, after churn.

    glibc keeps freed heap for reuse, so what a join burst used stays in the
    process. `malloc_trim` returns it; it runs only when the number of sessions
    changed since the last time. Not on a libc without it (musl).

    A closed session is garbage in reference cycles (eventlet's WebSocket and its
    frame reader, a session and its send queue), which only a full collection
    frees, and `_calm_the_garbage_collector` makes those rare. So once
    `COLLECT_AFTER_DEPARTURES` sessions have closed since the last one, whether
    in a wave or one by one while others join, a full collection runs first
    (its cost, like the trim's, is in docs/performance.md's records).
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
