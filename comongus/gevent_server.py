"""The second server: gevent's WSGI server with the caps, deadlines and clean stop that
serving.py gives eventlet's, both from server_limits.py.

`SERVER=gevent python app.py` runs the stock Flask-SocketIO app (WebSocket
through simple-websocket) on `gevent.pywsgi`, for when eventlet is not wanted.
Everything here goes through gevent's public API: the pool that caps the
connections, `WSGIServer.handle` for the cap per client, `do_read` for running
out of file handles, `WSGIHandler.handle_one_request` / `read_request` /
`get_environ` for the deadlines, `get_environ` / `run_application` for handing a
WebSocket its socket the way Werkzeug's server does (so comongus.websocket_guard
guards it), `gevent.signal_handler` for SIGTERM.
"""
from __future__ import annotations

import signal
import socket

import gevent
import gevent.pool
from flask import Flask
from gevent.pywsgi import WSGIHandler, WSGIServer

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


class DeadlineHandler(RequestDeadlines, WSGIHandler):
    """gevent's HTTP handler with the deadlines of `RequestDeadlines`, taking turns
    between requests, handing a WebSocket its socket as `environ["werkzeug.socket"]`.

    Without that key simple-websocket reads a duplicate of the socket it digs out
    of gevent's request input: a second file per WebSocket, and a socket that
    comongus.websocket_guard could not guard. With it, simple-websocket reads the
    guarded socket the guard puts under that key, and, as under Werkzeug's
    server, python-engineio raises ConnectionError once the WebSocket is over to
    say that the connection is done: here it closes the connection.

    A WebSocket's socket then waits for its client `websocket_timeout` seconds
    (PING_INTERVAL + PING_TIMEOUT, the most a live client is silent), as
    python-engineio sets for eventlet's WebSocket and cannot for simple-websocket's:
    a client that stopped half-way through a frame would otherwise keep its
    connection for SOCKET_TIMEOUT after its session closed.
    """

    timeout_class = gevent.Timeout
    websocket_timeout = 45.0

    @classmethod
    def configured(cls, config) -> type[DeadlineHandler]:
        handler = super().configured(config)
        handler.websocket_timeout = config["PING_INTERVAL"] + config["PING_TIMEOUT"]
        return handler

    def __init__(self, sock, address, server) -> None:
        super().__init__(sock, address, server)
        self._begin_deadlines()

    def _start_timer(self, seconds: float) -> gevent.Timeout:
        return gevent.Timeout.start_new(seconds)

    def _write_now(self, data: bytes) -> None:
        self.socket.sendall(data)

    def handle_one_request(self):
        """Answer one request within the deadlines, then let other connections go first."""
        handled, result = self._handle_within_deadlines(super().handle_one_request)
        if result is True:
            gevent.sleep(0)
        return result if handled else None

    def read_request(self, raw_requestline):
        """Read the headers; the deadline ends with them (the app's time is not the client's)."""
        try:
            return super().read_request(raw_requestline)
        finally:
            self.headers_timer.cancel()

    def get_environ(self) -> dict:
        environ = self._environ_with_rate_limited_body(super().get_environ)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            self.socket.settimeout(self.websocket_timeout)
            environ["werkzeug.socket"] = self.socket
        return environ

    def run_application(self) -> None:
        try:
            super().run_application()
        except ConnectionError:
            if "werkzeug.socket" not in self.environ:
                raise
            self.close_connection = True  # a WebSocket was served, and is over
        else:
            if "werkzeug.socket" in self.environ:  # the handshake was refused
                self.socket.settimeout(self.server.socket_timeout)


class CappedServer(WSGIServer):
    """gevent's WSGI server with a cap per client, a socket timeout, TCP_NODELAY, and
    no stop when `accept()` runs out of file handles.

    A connection over its client's cap (`OpenByAddress`) gets a 503 and is closed.
    Out of handles, `SpareFileHandle` refuses the waiting connection (gevent would
    log a traceback and pause accepting). New connections wait their turn behind
    those already open, as in serving.py: `ACCEPTS_PER_TURN` at each wake-up.
    """

    max_accept = ACCEPTS_PER_TURN

    def __init__(self, listener, app, connections: int, per_address: int,
                 socket_timeout: float, handler_class: type[WSGIHandler]) -> None:
        # log=None: no access log (the app logs what it does).
        super().__init__(listener, app, spawn=ConnectionPool(connections),
                         handler_class=handler_class, log=None)
        self.open_by_address = OpenByAddress(per_address)
        self.socket_timeout = socket_timeout
        self.spare = SpareFileHandle()

    def handle(self, sock, address) -> None:
        # Without TCP_NODELAY a response written in two parts waits for the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = self.open_by_address.admit(address[0])
        if key is None:
            refuse(sock, address[0])
            return
        sock.settimeout(self.socket_timeout)
        try:
            super().handle(sock, address)
        finally:
            self.open_by_address.release(key)

    def do_read(self):
        """Runs in gevent's loop, where nothing may wait: a pause is a timer."""
        try:
            return super().do_read()
        except OSError as error:
            if error.errno not in SpareFileHandle.OUT_OF_HANDLES:
                raise
            if not self.spare.refuse_one(error, super().do_read):
                self.stop_accepting()  # handles are still short: let connections end
                gevent.spawn_later(0.1, self.start_accepting)
            return None


def _stop_on_sigterm(app: Flask) -> None:
    """Run `close_every_session_and_exit` when SIGTERM comes: gevent runs the handler
    in a greenlet of its own, where waiting is allowed."""
    gevent.signal_handler(signal.SIGTERM, close_every_session_and_exit, app, gevent.sleep)


def serve(app: Flask, host: str, port: int) -> None:
    """Serve `app` on gevent at host:port until SIGTERM or Ctrl-C."""
    config = app.config
    connections = max_connections(config["MAX_CONNECTIONS"])
    _stop_on_sigterm(app)
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # As eventlet.listen does: an IPv6 wildcard ("::") takes IPv4 connections too.
    listener = socket.create_server(address, family=family, backlog=LISTEN_BACKLOG,
                                    dualstack_ipv6=family == socket.AF_INET6
                                    and socket.has_dualstack_ipv6())
    app.logger.info("ComongUS on http://%s:%d (%s)", host, port, socketio.async_mode)
    CappedServer(listener, app, connections, config["MAX_CONNECTIONS_PER_ADDRESS"],
                 config["SOCKET_TIMEOUT"],
                 DeadlineHandler.configured(config)).serve_forever()
