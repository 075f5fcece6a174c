"""The production server: eventlet's WSGI server with connection caps and a clean stop.

eventlet serves 1,024 connections by default, waits forever on a silent socket
and lets one address take every slot. Here the server-wide cap, the cap per
client address and the socket timeout are settings, and SIGTERM (how platforms
stop a process) closes every session before the process exits.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import socket
import socketserver
from collections import Counter

import eventlet
import eventlet.hubs
import eventlet.patcher
import eventlet.semaphore
import eventlet.wsgi
import greenlet
from flask import Flask

from .extensions import socketio

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 4096  # the kernel caps it at net.core.somaxconn

_REFUSAL_BODY = b'{"error": "Too many connections from your address."}'
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           b"Retry-After: 5\r\nConnection: close\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(_REFUSAL_BODY), _REFUSAL_BODY))


class Connection:
    """One accepted connection. It ends when its task ends, unless the task kept it
    open for a WebSocket that lives on without a task (parked_websockets), which
    then ends it itself.

    eventlet links its own end-of-connection work (shutdown, close, forget) to the
    task that `spawn` returns; here that work waits for the connection's real end.
    """

    __slots__ = ("_at_end", "kept")

    def __init__(self, task: eventlet.greenthread.GreenThread) -> None:
        self._at_end: list = []
        self.kept = False
        task.link(self._task_ended)

    def link(self, function, *args) -> None:
        """Run `function(self, *args)` when the connection ends (GreenThread's API)."""
        self._at_end.append((function, args))

    def keep_open(self) -> None:
        """Keep the connection after its task ends; whoever keeps it calls `end`."""
        self.kept = True

    def _task_ended(self, _task) -> None:
        if not self.kept:
            self.end()

    def end(self) -> None:
        at_end, self._at_end = self._at_end, []
        for function, args in at_end:
            try:
                function(self, *args)
            except Exception:  # the rest must still run: the slot, the count
                log.exception("ending a connection failed")


def current_connection() -> Connection | None:
    """The connection the running task serves, if `ConnectionPool` started it."""
    return getattr(greenlet.getcurrent(), "comongus_connection", None)


class ConnectionPool(eventlet.GreenPool):
    """The pool eventlet runs each connection in, capping the connections per address.

    Its size is the server-wide cap, counting connections, not tasks (a parked
    WebSocket has none): when it is full, new connections wait in the listen
    backlog. A connection over its address's cap gets a 503 and is closed.
    """

    def __init__(self, size: int, per_address: int) -> None:
        super().__init__(size)
        self.open_slots = eventlet.semaphore.Semaphore(size)
        self.per_address = per_address
        self.open_by_address: Counter[str] = Counter()

    def spawn(self, function, connection, *args):
        # Without TCP_NODELAY a response written in two parts (headers, then a
        # body) waits for the client's delayed ACK: 40 ms per page of messages.
        connection[1].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        address = connection[0][0]
        if self.per_address and self.open_by_address[address] >= self.per_address:
            return super().spawn(_refuse, connection)
        self.open_slots.acquire()
        self.open_by_address[address] += 1
        task = super().spawn(function, connection, *args)
        task.comongus_connection = handle = Connection(task)
        handle.link(self._release, address)
        return handle

    def _release(self, _connection, address: str) -> None:
        self.open_slots.release()
        self.open_by_address[address] -= 1
        if self.open_by_address[address] <= 0:
            del self.open_by_address[address]


class LeanHttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP handler with smaller buffers, taking turns between requests.

    Each connection keeps its read and write buffers (8 KB and 16 KB by default)
    for as long as it is open, a WebSocket's whole life included, though a
    WebSocket writes to the socket directly. At a thousand connections that was
    24 MB; 2 KB each is enough for a request's head, and a larger response body
    is written in one piece after its headers.
    """

    rbufsize = 2048
    wbufsize = 2048

    def handle_one_request(self) -> None:
        """Answer one request, then let other connections go before the next.

        eventlet reads a keep-alive connection's next request straight away; a
        client that sends it as soon as it has the answer finds it waiting, and
        is answered again and again while every other connection waits.
        """
        super().handle_one_request()
        if not self.close_connection:
            eventlet.sleep(0)

    def finish(self) -> None:
        """Close the socket, unless a parked WebSocket kept it: then only the buffers."""
        connection = current_connection()
        if connection is None or not connection.kept:
            super().finish()
            return
        try:
            socketserver.StreamRequestHandler.finish(self)
        except OSError:
            pass  # the WebSocket meets a broken socket itself


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
    from .eventlet_sessions import SendQueue  # here: it imports this module (parked_websockets)

    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    sessions = socketio.server.eio.sockets

    def upkeep():
        # Departures are the sessions opened minus the growth in those online, so
        # a session that opened and closed between two looks counts too.
        trimmed_at = online = len(sessions)
        opened = SendQueue.created
        departures = 0
        while True:
            eventlet.sleep(TRIM_SECONDS)
            departures += (SendQueue.created - opened) - (len(sessions) - online)
            opened, online = SendQueue.created, len(sessions)
            if departures >= COLLECT_AFTER_DEPARTURES:
                gc.collect()
                departures = 0
            if online != trimmed_at and trim is not None:
                trimmed_at = online
                trim(0)

    eventlet.spawn_n(upkeep)


def serve(app: Flask, host: str, port: int) -> None:
    """Serve `app` on eventlet at host:port until SIGTERM or Ctrl-C."""
    config = app.config
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
    eventlet.wsgi.server(listener, app, log_output=False, debug=False, protocol=LeanHttpProtocol,
                         custom_pool=ConnectionPool(config["MAX_CONNECTIONS"],
                                                    config["MAX_CONNECTIONS_PER_ADDRESS"]),
                         socket_timeout=config["SOCKET_TIMEOUT"])
