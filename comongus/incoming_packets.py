"""How a connection's packets reach the handlers: in order, off the reader, and safely.

python-socketio and python-engineio answer a malformed packet in several ways:
ignore it, log a traceback per packet, or, for an empty WebSocket frame, write
an HTTP 500 into the upgraded stream. Here every such packet closes its
connection with one warning line, at the layer that can tell (WebSocket frames:
websocket_guard; long-polling bodies and Socket.IO events: here).

python-socketio runs handlers concurrently by default, which breaks one sender's
order; run inline instead (`async_handlers=False`), a handler that waits on the
database holds up its connection's reader, so the client's heartbeat answers
go unread and the connection is dropped. Here each connection gets a queue and
one worker that handles its packets one at a time, while the reader keeps
reading. A packet python-socketio cannot decode (bad JSON, nesting too deep, an
event with more arguments than any handler takes) closes that connection with
one warning line instead of a traceback per packet, and a connection that sends
faster than its worker can handle is closed once `max_pending` packets wait.
A packet whose session closed before its turn (the client left, a limit cut
it) is dropped with one info line, not called malformed.

Public edges only: Engine.IO's `on("message")` handler, the one python-socketio
registered (`eio.handlers`), `eio.sockets` and python-socketio's `serializer`
option (`ChatPacket`).
"""
from __future__ import annotations

import io
import logging
import threading
from collections import deque
from urllib.parse import parse_qs

from engineio.payload import Payload
from socketio import packet as socketio_packet

from .limits import close_session
from .websocket_guard import packet_refusal

log = logging.getLogger(__name__)


def handle_packets_in_order(server, max_pending: int) -> PacketQueues:
    """Route every Engine.IO message of `server` through a per-connection worker."""
    queues = PacketQueues(server, max_pending)
    server.eio.on("message", queues.on_message)
    return queues


class PacketQueues:
    """Each connection's packets received and not yet handled, and one worker per
    connection that has some.

    A packet whose session closed before the worker got to it (the client closed,
    or a limit closed it) is dropped with one info line: python-socketio would
    fail on it (a CONNECT looks up the closed session's environ: KeyError), and
    that is no fault of the packet. For the namespace-connect timeout it counts
    the packets a new session has sent, from its handshake on (`count_from`).
    """

    def __init__(self, server, max_pending: int) -> None:
        self.server = server
        self.max_pending = max_pending
        self._handle_message = server.eio.handlers["message"]
        self._pending: dict[str, deque] = {}  # eio sid -> its packets, while a worker runs
        self._received: dict[str, int] = {}  # eio sid -> packets, for sessions counted
        self._lock = threading.Lock()

    def count_from(self, eio_sid: str) -> None:
        """Start counting the packets `eio_sid` sends (until `stop_counting`)."""
        self._received[eio_sid] = 0

    def received(self, eio_sid: str) -> int:
        """How many packets `eio_sid` has sent since `count_from`, handled or not."""
        return self._received.get(eio_sid, 0)

    def stop_counting(self, eio_sid: str) -> None:
        self._received.pop(eio_sid, None)

    def waiting(self, eio_sid: str) -> bool:
        """Whether `eio_sid` sent packets that are not handled yet (one may be in hand)."""
        return eio_sid in self._pending

    def on_message(self, eio_sid, data) -> None:
        with self._lock:
            if eio_sid in self._received:
                self._received[eio_sid] += 1
            waiting = self._pending.get(eio_sid)
            if waiting is None:
                self._pending[eio_sid] = deque([data])
                self.server.start_background_task(self._work, eio_sid)
                return
            overrun = len(waiting) >= self.max_pending
            if not overrun:
                waiting.append(data)
        if overrun:
            log.warning("closed sid %s: over %d packets waiting", eio_sid, self.max_pending)
            close_session(self.server.eio, eio_sid)

    def _work(self, eio_sid) -> None:
        waiting = self._pending[eio_sid]
        while True:
            with self._lock:
                if not waiting:
                    del self._pending[eio_sid]
                    return
                data = waiting.popleft()
            if not self._open(eio_sid):
                self._drop(eio_sid)
                return
            try:
                self._handle_message(eio_sid, data)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                    RecursionError, UnicodeError) as error:
                if not self._open(eio_sid):  # closed while its packet was in hand
                    self._drop(eio_sid)
                    return
                # The handlers catch their own errors (events.on_error), so what
                # lands here is a packet the protocol layer could not read.
                log.warning("closed sid %s: malformed packet (%s)", eio_sid,
                            error.__class__.__name__)
                with self._lock:
                    self._pending.pop(eio_sid, None)
                close_session(self.server.eio, eio_sid)
                return

    def _open(self, eio_sid) -> bool:
        session = self.server.eio.sockets.get(eio_sid)
        return session is not None and not session.closing and not session.closed

    def _drop(self, eio_sid) -> None:
        """Drop the packet in hand and those behind it."""
        with self._lock:
            count = 1 + len(self._pending.pop(eio_sid, ()))
        log.info("sid %s: session closed before its packets were handled; %d dropped",
                 eio_sid, count)


# Every event of the contract carries one argument at most (`leave`, none).
MAX_EVENT_ARGUMENTS = 1


class ChatPacket(socketio_packet.Packet):
    """python-socketio's packet, for a chat that has no binary, refusing events
    no handler takes.

    Decoding raises ValueError for an event that is not a list, whose name is
    not a string or that carries more arguments than any handler takes
    (Flask-SocketIO would call the handler and log a traceback, or ignore it).
    No payload is searched for binary parts before it is sent: the chat has none
    (`websocket_guard.packet_refusal` refuses them from clients), and the search
    walked every member list sent (2 % of the server's CPU while thousands
    joined). Given as python-socketio's public `serializer` option.
    """

    uses_binary_events = False

    def decode(self, encoded_packet):
        attachments = super().decode(encoded_packet)
        if self.packet_type == socketio_packet.EVENT:
            if not isinstance(self.data, list) or not self.data:
                raise ValueError("event is not a list of its name and arguments")
            if not isinstance(self.data[0], str):
                raise ValueError("event name is not a string")
            if len(self.data) > 1 + MAX_EVENT_ARGUMENTS:
                raise ValueError("more arguments than the event takes")
        return attachments


def refuse_malformed_polling(wsgi_app, eio, max_bytes: int):
    """WSGI middleware: a long-polling POST must carry well-formed text Engine.IO packets.

    Otherwise the session is closed and the POST gets `400`, where Engine.IO would
    log a traceback (a body that is not UTF-8, more packets than it decodes in one
    payload) or quietly skip the packet.
    """

    def app(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or \
                not environ.get("PATH_INFO", "").startswith("/socket.io"):
            return wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = max_bytes + 1
        if length > max_bytes:
            return wsgi_app(environ, start_response)  # Engine.IO refuses it as too large
        body = environ["wsgi.input"].read(length)
        try:
            packets = body.decode("utf-8").split("\x1e")
        except UnicodeDecodeError:
            packets = [""]
        if len(packets) > Payload.max_decode_packets:
            refusal = f"more than {Payload.max_decode_packets} packets in one POST"
        else:
            refusal = next(filter(None, map(packet_refusal, packets)), None)
        if refusal is not None:
            sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [""])[0]
            log.warning("closed sid %s: %s over long-polling", sid, refusal)
            close_session(eio, sid)
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"malformed packet"]
        environ["wsgi.input"] = io.BytesIO(body)
        return wsgi_app(environ, start_response)

    app.__wrapped__ = wsgi_app
    return app
