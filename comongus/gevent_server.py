"""The second server: gevent's WSGI server with the caps, deadlines and clean stop of serving.py.

`SERVER=gevent python app.py` runs the stock Flask-SocketIO app (WebSocket
through simple-websocket) on `gevent.pywsgi`, for when eventlet is not wanted.
Everything here goes through gevent's public API: the pool that caps the
connections, `WSGIServer.handle` for the cap per client, `do_read` for running
out of file handles, `WSGIHandler.handle_one_request` / `read_request` /
`get_environ` for the deadlines, `gevent.signal_handler` for SIGTERM.
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import time
from collections import Counter

import gevent
import gevent.pool
from flask import Flask
from gevent.pywsgi import WSGIHandler, WSGIServer

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


class ConnectionPool(gevent.pool.Pool):
    """The server-wide cap: when every slot is taken, gevent stops accepting and new
    connections wait in the listen backlog; one warning line every ten seconds says so."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.full_warning = RateLimitedLog()

    def full(self) -> bool:
        if not super().full():
            return False
        self.full_warning("all %d connections (MAX_CONNECTIONS) in use: new ones wait "
                          "in the listen backlog", self.size)
        return True


class DeadlineHandler(WSGIHandler):
    """gevent's HTTP handler with serving.py's deadlines, taking turns between requests.

    A request's line and headers must be complete `headers_timeout` seconds after
    the connection started or, on keep-alive, after the request's first byte (the
    idle wait before it has the socket timeout); its body must keep up with
    `body_min_rate` bytes a second after `body_grace` seconds (`MinimumRateReader`).
    """

    headers_timeout = 10.0
    body_min_rate = 500
    body_grace = 5.0
    slow_headers_log = RateLimitedLog(logging.INFO)

    @classmethod
    def configured(cls, config) -> type[DeadlineHandler]:
        return type(cls.__name__, (cls,), {
            "headers_timeout": config["HEADERS_TIMEOUT"],
            "body_min_rate": config["BODY_MIN_BYTES_PER_SECOND"],
            "body_grace": config["BODY_GRACE_SECONDS"]})

    def __init__(self, sock, address, server) -> None:
        super().__init__(sock, address, server)
        self.started = time.monotonic()
        self.requests_begun = 0
        self.headers_timer: gevent.Timeout | None = None

    def handle_one_request(self):
        """Answer one request within the deadlines, then let other connections go first."""
        if self.requests_begun and not self._next_request_begins():
            return None
        now = time.monotonic()
        deadline = (self.started if not self.requests_begun else now) + self.headers_timeout
        self.requests_begun += 1
        began = self.requests_begun > 1
        self.headers_timer = gevent.Timeout(max(deadline - now, 0))
        self.headers_timer.start()
        try:
            if not began and not self._next_request_begins():
                return None
            began = True
            result = super().handle_one_request()
        except gevent.Timeout as timeout:
            if timeout is not self.headers_timer:
                raise
            self._time_out(began)
            return None
        finally:
            self.headers_timer.close()
        if result is True:
            gevent.sleep(0)
        return result

    def _next_request_begins(self) -> bool:
        """Wait for the first byte of a request; False if the client closed instead."""
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False

    def read_request(self, raw_requestline):
        """Read the headers; the deadline ends with them (the app's time is not the client's)."""
        try:
            return super().read_request(raw_requestline)
        finally:
            self.headers_timer.close()

    def _time_out(self, began: bool) -> None:
        """Close the connection; a client that sent nothing at all is only idle."""
        self.close_connection = True
        if not began:
            return
        self.slow_headers_log("closed a connection from %s: its request headers took over %gs",
                              self.client_address[0], self.headers_timeout)
        try:
            self.socket.sendall(TIMED_OUT)
        except OSError:
            pass

    def get_environ(self) -> dict:
        """The WSGI environ, its body read through `MinimumRateReader`."""
        if not self.body_min_rate:
            return super().get_environ()
        rfile, self.rfile = self.rfile, MinimumRateReader(self.rfile, self, gevent.Timeout)
        try:
            return super().get_environ()
        finally:
            self.rfile = rfile


class CappedServer(WSGIServer):
    """gevent's WSGI server with a cap per client, a socket timeout, TCP_NODELAY, and
    no stop when `accept()` runs out of file handles.

    A connection over its client's cap (`client_key`: an IPv4 address or an IPv6
    /64, as the TCP peer sees it) gets a 503 and is closed. Out of handles, a
    spare one kept for the purpose is let go, the waiting connection is accepted
    and closed at once, and the spare is taken back (gevent would log a traceback
    and pause accepting).
    """

    OUT_OF_HANDLES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

    def __init__(self, listener, app, connections: int, per_address: int,
                 socket_timeout: float, handler_class: type[WSGIHandler]) -> None:
        # log=None: no access log (the app logs what it does).
        super().__init__(listener, app, spawn=ConnectionPool(connections),
                         handler_class=handler_class, log=None)
        self.per_address = per_address
        self.socket_timeout = socket_timeout
        self.open_by_address: Counter[str] = Counter()
        self.spare: int | None = os.open(os.devnull, os.O_RDONLY)
        self.out_of_handles_warning = RateLimitedLog()

    def handle(self, sock, address) -> None:
        # Without TCP_NODELAY a response written in two parts waits for the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = client_key(address[0])
        if self.per_address and self.open_by_address[key] >= self.per_address:
            _refuse(sock, address)
            return
        self.open_by_address[key] += 1
        sock.settimeout(self.socket_timeout)
        try:
            super().handle(sock, address)
        finally:
            self.open_by_address[key] -= 1
            if self.open_by_address[key] <= 0:
                del self.open_by_address[key]

    def do_read(self):
        try:
            return super().do_read()
        except OSError as error:
            if error.errno not in self.OUT_OF_HANDLES:
                raise
            self._refuse_one(error)
            return None

    def _refuse_one(self, error: OSError) -> None:
        """Runs in gevent's loop, where nothing may wait: a pause is a timer."""
        self.out_of_handles_warning(
            "refused a connection: out of file handles (%s); MAX_CONNECTIONS leaves too "
            "few for the rest of the process", error.strerror)
        if self.spare is not None:
            os.close(self.spare)
        try:
            accepted = super().do_read()
            if accepted:
                accepted[0].close()
        except OSError:  # handles are still short: let connections end
            self.stop_accepting()
            gevent.spawn_later(0.1, self.start_accepting)
        finally:
            try:
                self.spare = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self.spare = None


def _refuse(sock, address) -> None:
    log.warning("refused a connection from %s: over its address's cap", address[0])
    try:
        sock.sendall(REFUSAL)
    except OSError:
        pass
    finally:
        sock.close()


def _stop_on_sigterm(app: Flask) -> None:
    """On SIGTERM close every session (clients reconnect elsewhere), then exit 0.

    gevent runs the handler in a greenlet of its own, where waiting is allowed.
    Nothing is acked that was not committed: an ack is sent only after its commit.
    """
    def shut_down():
        sessions = list(socketio.server.eio.sockets.values())
        app.logger.info("SIGTERM: closing %d sessions and stopping", len(sessions))
        for session in sessions:
            session.close(wait=False, reason=socketio.server.eio.reason.SERVER_DISCONNECT)
        gevent.sleep(0.5)  # let the close packets go out
        logging.shutdown()
        os._exit(0)

    gevent.signal_handler(signal.SIGTERM, shut_down)


def serve(app: Flask, host: str, port: int) -> None:
    """Serve `app` on gevent at host:port until SIGTERM or Ctrl-C."""
    config = app.config
    # simple-websocket serves a WebSocket on a duplicate of its socket: two files.
    connections = max_connections(config["MAX_CONNECTIONS"], files_per_connection=2)
    _stop_on_sigterm(app)
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.create_server(address, family=family, backlog=LISTEN_BACKLOG)
    app.logger.info("ComongUS on http://%s:%d (%s)", host, port, socketio.async_mode)
    CappedServer(listener, app, connections, config["MAX_CONNECTIONS_PER_ADDRESS"],
                 config["SOCKET_TIMEOUT"],
                 DeadlineHandler.configured(config)).serve_forever()
