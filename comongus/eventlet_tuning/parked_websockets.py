"""WebSockets that hold no task while they wait.

Engine.IO serves a WebSocket with two tasks for its whole life, one blocked
reading and one blocked on the send queue, and the task that answered the
upgrade stays under them with its HTTP buffers and headers. Each parked task
keeps its saved C stack and a page of Python frame stack: at a thousand idle
connections that was about half the server's memory. Here, once upgraded, the
upgrade's task ends and a WebSocket with nothing to do is a hub listener on its
socket. A task reads when a frame arrives and ends when the socket has nothing
more; a task writes only while packets wait that a broadcast could not write
itself (send_queues.SendQueue). The client sees the same handshake,
probe, frames, pings and close as with Engine.IO's own handler.

What an idle connection keeps is cut down too: the session's environ drops
what served the finished request alone, and eventlet's WebSocket drops two
empty deques (`lighten_websocket`).

Upstream: copies `engineio.socket.Socket._websocket_handler` and
`RFC6455WebSocket.close`, holds back `RFC6455WebSocket._send_closing_frame`
once, and replaces the `_sendlock` and drops the `_msgs` that
`WebSocket.__init__` makes (upstream.FINGERPRINTED has each).
"""
from __future__ import annotations

import errno
import io
import socket
import sys
from collections import deque

import eventlet
import eventlet.hubs
import greenlet
from engineio import exceptions, packet
from eventlet.greenio import GreenSocket
from eventlet.queue import Empty
from eventlet.semaphore import Semaphore
from eventlet.websocket import RFC6455WebSocket

from .connections import current_connection
from .fair_websockets import EMPTY, MORE, THROTTLED, innermost_websocket

# What the handshake's environ, which the session keeps, holds for the request
# alone: eventlet's request files and hooks, which reach back to the finished
# request's buffers and headers, eventlet's raw header pairs (the HTTP_ keys
# keep the values; the pairs cost about 1 KB a connection), the headers that
# served the WebSocket upgrade, which is done, and two keys that describe the
# request and that nothing building a request for an event reads (eventlet's
# undecoded path, the CGI version). With a handful of headers the rest fits a
# dict of half the size.
_REQUEST_ONLY_KEYS = frozenset((
    "eventlet.input", "eventlet.posthooks", "eventlet.set_idle", "headers_raw",
    "HTTP_CONNECTION", "HTTP_UPGRADE", "HTTP_SEC_WEBSOCKET_KEY",
    "HTTP_SEC_WEBSOCKET_VERSION", "HTTP_SEC_WEBSOCKET_EXTENSIONS",
    "RAW_PATH_INFO", "GATEWAY_INTERFACE"))
# Values that differ from one connection to the next, not worth sharing.
_OWN_VALUES = frozenset(("REMOTE_PORT",))
_NO_BODY = io.BytesIO(b"")


def serve_websocket(session, ws, engineio_handler):
    """Engine.IO's WebSocket handler for `session`, parking the socket once upgraded.

    Where eventlet's server is not `serving.serve` with the tuning (no connection
    to keep open),
    `engineio_handler`, Engine.IO's own, serves it with its two tasks.
    """
    connection = current_connection()
    if connection is None:
        return engineio_handler(ws)
    server = session.server
    ws.socket.settimeout(server.ping_interval + server.ping_timeout)  # a frame's rest
    if session.connected and not _upgrade(session, ws):
        return []
    session.connected = True
    session.upgraded = True
    connection.keep_open()
    parked = ParkedWebSocket(session, ws, connection.end)
    session.queue.push_to(parked)
    server.logger.info("%s: Upgrade to websocket successful", session.sid)
    parked.start_reading()
    return []


def _upgrade(session, ws) -> bool:
    """Engine.IO's move from long-polling: the probe, then the upgrade packet."""
    session.upgrading = True  # hold packet sends during the upgrade
    try:
        probe = _decode(ws.wait(), session.server)
        if probe is None or probe.packet_type != packet.PING or probe.data != "probe":
            session.server.logger.info("%s: Failed websocket upgrade, no PING packet",
                                       session.sid)
            return False
        ws.send(packet.Packet(packet.PONG, data="probe").encode())
        session.queue.put(packet.Packet(packet.NOOP))  # end the pending poll
        upgrade = _decode(ws.wait(), session.server)
        if upgrade is None or upgrade.packet_type != packet.UPGRADE:
            session.server.logger.info("%s: Failed websocket upgrade, no UPGRADE packet",
                                       session.sid)
            return False
        return True
    except (ValueError, OSError) as error:  # too large, or the client went away
        session.server.logger.info("%s: Failed websocket upgrade (%s)", session.sid, error)
        return False
    finally:
        session.upgrading = False


def _decode(frame, server) -> packet.Packet | None:
    """The Engine.IO packet in a WebSocket frame; None when the client closed."""
    if frame is None:
        return None
    if len(frame) > server.max_http_buffer_size:
        raise ValueError("packet is too large")
    return packet.Packet(encoded_packet=frame)


class SendLock(Semaphore):
    """eventlet's `Semaphore(1)`, its queue of waiting tasks made only when a task
    must wait: an empty deque is 760 bytes, and a WebSocket's send lock is rarely
    waited on. eventlet's Semaphore only tests, measures or takes from
    `_waiters` unless a task is about to wait."""

    _waiters = ()  # until a task must wait

    def __init__(self) -> None:  # eventlet's, without the deque
        self.counter = 1

    def acquire(self, blocking=True, timeout=None):
        if blocking and self.counter <= 0 and "_waiters" not in vars(self):
            self._waiters = deque()
        return super().acquire(blocking, timeout)


def _rebuild(mapping: dict, kept: dict) -> None:
    """Make `mapping` hold `kept` alone, in place (others hold it): a dict keeps
    its table's size when keys are popped, one built afresh fits what it holds."""
    mapping.clear()
    mapping.update(kept)


def _keep_only_what_the_session_reads(environ: dict) -> None:
    """The handshake's environ without its request-only keys (the session and
    Flask-SocketIO hold it for the connection's life), its text shared, rebuilt
    at its new size.

    Most keys and values are the same for every connection (the method, path,
    query, protocol, host, a browser's headers and their `HTTP_` names), but
    each request parsed its own copy, some 50 to 150 bytes each: `sys.intern`
    keeps one, for as long as any connection holds it."""
    kept = {sys.intern(key): sys.intern(value)
            if type(value) is str and key not in _OWN_VALUES else value
            for key, value in environ.items() if key not in _REQUEST_ONLY_KEYS}
    kept["wsgi.input"] = _NO_BODY
    _rebuild(environ, kept)


# What GreenSocket.__init__ copies from its socket onto itself, "to save a
# __getattr__ call": bound methods of about 70 bytes each, which an idle
# connection never calls. Its __getattr__ fetches (and keeps) any of them again
# when one is used. `fileno` (the hub asks for it) and `getsockopt` (the copy
# fixes a bug upstream) stay.
_COPIED_SOCKET_METHODS = frozenset(("bind", "close", "getsockname", "listen", "setsockopt",
                                    "shutdown"))


def _drop_copied_socket_methods(green_socket) -> None:
    if type(green_socket) is GreenSocket:
        attributes = vars(green_socket)
        _rebuild(attributes, {name: value for name, value in attributes.items()
                              if name not in _COPIED_SOCKET_METHODS})


def lighten_websocket(ws) -> None:
    """eventlet's WebSocket without its two idle deques, 1.5 KB a connection: the
    send lock's waiters, made when needed (`SendLock`), and the message queue
    that only the older protocol's `wait` reads (RFC 6455's reads frames).

    Call it on a new WebSocket, before anything takes its send lock
    (`_DirectWrite` keeps it)."""
    if type(ws) is not RFC6455WebSocket:
        return
    ws._sendlock = SendLock()
    del ws._msgs


class ClosedOnce(RFC6455WebSocket):
    """eventlet's WebSocket, closed by the first `close` only, and quietly.

    The client's close frame (eventlet's reader closes) and the session's end
    (`ParkedWebSocket.close`) may both close it. The one that waits for the
    send lock to send its close frame resumed after the other had closed the
    socket, and eventlet logged its failed shutdown as a "socket shutdown
    error" (hundreds when thousands of clients leave at once). So a second
    `close` returns at once; the session's end then closes the connection, and
    the first may find its socket closed when the send lock comes: there is
    then nothing left to shut down.

    Its log context (for that shutdown error alone) is made when needed, from
    the session's environ, not kept as text for every connection.
    """

    @classmethod
    def adopt(cls, ws: RFC6455WebSocket) -> None:
        """Make eventlet's `ws` one, dropping the log context its `__init__` kept."""
        ws.__class__ = cls
        vars(ws).pop("log_context", None)

    @property
    def log_context(self) -> str:
        environ = self.environ
        return (f"server={environ.get('HTTP_HOST')}/{environ.get('SCRIPT_NAME', '')}"
                f"{environ.get('PATH_INFO', '')} client={environ.get('REMOTE_ADDR')}:"
                f"{environ.get('REMOTE_PORT')}")

    def close(self, close_data=None) -> None:
        """eventlet's `RFC6455WebSocket.close`, skipping the shutdown of a closed socket."""
        if self.__dict__.get("comongus_closing"):
            return
        self.comongus_closing = True
        try:
            self._send_closing_frame(close_data=close_data, ignore_send_errors=True)
            if self.socket.fileno() != -1:  # else the connection ended while it waited
                self.socket.shutdown(socket.SHUT_WR)
        except OSError as error:
            if error.errno != errno.ENOTCONN:
                self.log.write(f"{self.log_context} socket shutdown error: {error}")
        finally:
            self.socket.close()


class ParkedWebSocket:
    """One upgraded WebSocket: a hub listener while idle, a task only while busy."""

    __slots__ = ("session", "ws", "writing", "closed", "_end_connection", "_listener",
                 "_socket", "_upgrade_task", "_eventlet_ws")

    def __init__(self, session, ws, end_connection) -> None:
        self.session = session
        self.ws = ws
        self.writing = False
        self.closed = False
        self._end_connection = end_connection
        self._listener = None
        self._socket: socket.socket = ws.socket.fd
        # eventlet sends a close frame when the upgrade's handler returns; the
        # WebSocket lives on, so that one frame is not sent. (`ws` is
        # fair_websockets' reader around eventlet's.)
        self._upgrade_task = greenlet.getcurrent()
        self._eventlet_ws = innermost_websocket(ws)
        self._eventlet_ws._send_closing_frame = self._send_closing_frame
        _keep_only_what_the_session_reads(ws.environ)
        if type(self._eventlet_ws) is RFC6455WebSocket:
            ClosedOnce.adopt(self._eventlet_ws)
        if isinstance(self._eventlet_ws, RFC6455WebSocket):
            # Its frame iterator, unstarted, serves `wait`, which only the upgrade
            # from long-polling calls, before this; fair_websockets reads frames.
            del self._eventlet_ws.iterator
            # The shared text of the environ, not the request's own copies.
            self._eventlet_ws.path = ws.environ.get("PATH_INFO")
            self._eventlet_ws.origin = ws.environ.get("HTTP_ORIGIN")
        _drop_copied_socket_methods(ws.socket)

    def _send_closing_frame(self, *args, **kwargs) -> None:
        if greenlet.getcurrent() is self._upgrade_task:  # the upgrade's end: once
            del self._eventlet_ws._send_closing_frame
            self._upgrade_task = None
            return
        RFC6455WebSocket._send_closing_frame(self._eventlet_ws, *args, **kwargs)

    # Reading

    def start_reading(self) -> None:
        """Handle what the upgrade already read, then park.

        The client may send its next packets in the same segment as the upgrade
        packet; they wait in the reader's buffer, where no hub listener sees them.
        """
        eventlet.spawn_n(self._read)

    def park(self, seconds: float = 0) -> None:
        """Wait for the next frame with no task: the hub calls back when it comes.

        The hub registers the listener itself, after `seconds`: a listener keeps
        the task that made it, and the task that parks is about to end.
        """
        eventlet.hubs.get_hub().schedule_call_global(seconds, self._listen)

    def _listen(self) -> None:
        if not self.closed and self._listener is None:
            hub = eventlet.hubs.get_hub()
            self._listener = hub.add(hub.READ, self._socket.fileno(), self._readable,
                                     _ignore, _ignore)

    def _unpark(self) -> None:
        if self._listener is not None:
            eventlet.hubs.get_hub().remove(self._listener)
            self._listener = None

    def _readable(self, _fileno) -> None:
        # In the hub: nothing here may block, so a task does the reading.
        self._unpark()
        eventlet.spawn_n(self._read)

    def _read(self) -> None:
        """Handle the frames the socket has, one at a time, then park again (or end).

        Between frames, and between slices of a long one, other connections
        run (fair_websockets reads at most a slice per `poll`). Once this
        connection's read budget is spent it parks until the budget is back.
        """
        session = self.session
        try:
            while True:
                frame = self.ws.poll()
                if frame is MORE:
                    eventlet.sleep(0)
                    continue
                if frame is EMPTY or frame is THROTTLED:
                    self.park(self.ws.pause_seconds() if frame is THROTTLED else 0)
                    return
                pkt = _decode(frame, session.server)
                if pkt is None:
                    break  # the client closed, or its frames were refused
                try:
                    session.receive(pkt)
                except exceptions.UnknownPacketError:
                    pass
                except exceptions.SocketIsClosedError:
                    break
                except Exception:
                    session.server.logger.exception("Unknown receive error")
                    break
                if session.closed or self.closed:
                    break
                eventlet.sleep(0)
        except Exception as error:  # a broken socket, a frame too large: the session ends
            if not session.closed:
                session.server.logger.info('%s: Unexpected error "%s", closing connection',
                                           session.sid, error)
        self._end_session()

    def _end_session(self) -> None:
        self.session.close(wait=False, abort=True,
                           reason=self.session.server.reason.TRANSPORT_CLOSE)
        self.close()

    # Writing

    def start_writing(self) -> None:
        """Have a task send what waits in the session's queue (one at a time)."""
        if self.closed:
            self._discard_queue()
        elif not self.writing:
            self.writing = True
            eventlet.spawn_n(self._write)

    def _write(self) -> None:
        queue = self.session.queue
        try:
            while True:
                try:
                    pkt = queue.get(block=False)
                except Empty:
                    return
                queue.task_done()
                if pkt is None:  # the session closed: what it queued before is sent
                    self.close()
                    return
                self.ws.send(pkt.encode())
        except Exception as error:  # the client went away mid-write
            self.session.server.logger.info('%s: Send error "%s", closing connection',
                                            self.session.sid, error)
            self._end_session()
        finally:
            self.writing = False

    def _discard_queue(self) -> None:
        queue = self.session.queue
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()

    def close(self) -> None:
        """Close the WebSocket (with a close frame) and end the connection in the server."""
        if self.closed:
            return
        self.closed = True
        self._unpark()
        if self._socket.fileno() != -1:  # eventlet closes it itself on a close frame
            try:
                self.ws.close()
            except OSError:
                pass
        self._eventlet_ws.__dict__.pop("_send_closing_frame", None)  # (a cycle through us)
        self._end_connection()
        self._discard_queue()


def _ignore(*_args) -> None:
    """Throwback and close mark of the hub listener: closing is `close`'s to do."""
