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
import gc
import os
import signal
import socket

import eventlet
import eventlet.hubs
import eventlet.patcher
import eventlet.semaphore
import eventlet.wsgi
from flask import Flask

from .extensions import socketio
from .server_limits import (
    ACCEPTS_PER_TURN,
    LISTEN_BACKLOG,
    OpenByAddress,
    RateLimitedLog,
    RequestDeadlines,
    SpareFileHandle,
    close_every_session_and_exit,
    max_connections,
    refuse,
)


class ConnectionPool(eventlet.GreenPool):
    """The pool eventlet runs each connection in, capping the connections per client.

    Its size is the server-wide cap, counting connections (`open_slots`), not
    tasks: when it is full, new connections wait in the listen backlog. A
    connection over its client's cap (`OpenByAddress`) gets a 503 and is closed.
    """

    def __init__(self, size: int, per_address: int) -> None:
        super().__init__(size)
        self.open_slots = eventlet.semaphore.Semaphore(size)
        self.open_by_address = OpenByAddress(per_address)
        self.full_warning = RateLimitedLog()

    def spawn(self, function, connection, *args):
        # Without TCP_NODELAY a response written in two parts (headers, then a
        # body) waits for the client's delayed ACK: 40 ms per page of messages.
        connection[1].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = self.open_by_address.admit(connection[0][0])
        if key is None:
            return super().spawn(refuse, connection[1], connection[0][0])
        if self.open_slots.locked():
            self.full_warning("all %d connections (MAX_CONNECTIONS) in use: new ones wait "
                              "in the listen backlog", self.size)
        self.open_slots.acquire()
        return self.track(super().spawn(function, connection, *args), key)

    def track(self, task, key: str):
        """What eventlet's server links its end-of-connection work to: the task."""
        task.link(self._release, key)
        return task

    def _release(self, _connection, key: str) -> None:
        self.open_slots.release()
        self.open_by_address.release(key)


class LeanHttpProtocol(RequestDeadlines, eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP handler with smaller buffers, the deadlines of `RequestDeadlines`,
    taking turns between requests.

    Each connection keeps its read and write buffers (8 KB and 16 KB by default)
    for as long as it is open, a WebSocket's whole life included, though a
    WebSocket writes to the socket directly, which adds up with thousands of
    connections; 2 KB each is enough for a request's head, and a larger response
    body is written in one piece after its headers.
    """

    rbufsize = 2048
    wbufsize = 2048
    timeout_class = eventlet.Timeout

    def setup(self) -> None:
        self._begin_deadlines()
        super().setup()

    def _start_timer(self, seconds: float) -> eventlet.Timeout:
        return eventlet.Timeout(seconds)

    def _write_now(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def handle_one_request(self) -> None:
        """Answer one request within the deadlines, then let other connections go first.

        eventlet reads a keep-alive connection's next request straight away; a
        client that sends it as soon as it has the answer finds it waiting, and
        is answered again and again while every other connection waits.
        """
        handled, _ = self._handle_within_deadlines(super().handle_one_request)
        if handled and not self.close_connection:
            eventlet.sleep(0)

    def parse_request(self) -> bool:
        """Read the headers; the deadline ends with them (the app's time is not the client's)."""
        try:
            return super().parse_request()
        finally:
            self.headers_timer.cancel()

    def get_environ(self) -> dict:
        return self._environ_with_rate_limited_body(super().get_environ)


def _stop_on_sigterm(app: Flask) -> None:
    """Run `close_every_session_and_exit` in a greenlet when SIGTERM comes.

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
        close_every_session_and_exit(app, eventlet.sleep)

    eventlet.spawn_n(wait_then_shut_down)


def _calm_the_garbage_collector() -> None:
    """Collect less often: with thousands of connections alive, Python's default
    thresholds run collections of every live object often enough to delay the
    slowest deliveries. The young generations stay small, though: each of their
    collections holds every task up, and a middle generation of a million
    objects (long-polling's garbage) held it up for 400 ms (the measured costs:
    docs/performance.md). What exists at start-up is frozen out of the
    collections altogether."""
    gc.freeze()
    gc.set_threshold(10_000, 3, 100)


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
    handles in `accept()` refuses that connection (`SpareFileHandle`) instead of
    ending the loop, which raises any error of `accept()` but a few.

    eventlet's loop takes every connection waiting in the backlog before anything
    else runs, and each one's handshake is then served before the packets of the
    sessions already open: in a crowd arriving at once, those who are in wait
    seconds for their join while newcomers are let in. After `ACCEPTS_PER_TURN`
    the loop yields, so the others go first and the rest wait in the kernel's
    backlog (gevent's `max_accept`, the same idea, is set to the same number).
    """

    def __init__(self, sock) -> None:
        self.sock = sock
        self.spare = SpareFileHandle()
        self.accepted = 0

    def accept(self):
        self.accepted += 1
        if self.accepted % ACCEPTS_PER_TURN == 0:
            eventlet.sleep(0)
        while True:
            try:
                return self.sock.accept()
            except OSError as error:
                if error.errno not in SpareFileHandle.OUT_OF_HANDLES:
                    raise
                if not self.spare.refuse_one(error, self.sock.accept):
                    eventlet.sleep(0.1)  # handles are still short: let connections end

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
