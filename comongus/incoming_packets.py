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

Public edges only: Engine.IO's `on("message")` handler, the one python-socketio
registered (`eio.handlers`), and python-socketio's `packet_class`.
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


def handle_packets_in_order(server, max_pending: int) -> None:
    """Route every Engine.IO message of `server` through a per-connection worker."""
    handle_message = server.eio.handlers["message"]
    pending: dict[str, deque] = {}  # eio sid -> packets not yet handled, while a worker runs
    lock = threading.Lock()

    def on_message(eio_sid, data):
        with lock:
            waiting = pending.get(eio_sid)
            if waiting is None:
                pending[eio_sid] = deque([data])
                server.start_background_task(work, eio_sid)
                return
            if len(waiting) >= max_pending:
                overrun = True
            else:
                waiting.append(data)
                overrun = False
        if overrun:
            log.warning("closed sid %s: over %d packets waiting", eio_sid, max_pending)
            close_session(server.eio, eio_sid)

    def work(eio_sid):
        waiting = pending[eio_sid]
        while True:
            with lock:
                if not waiting:
                    del pending[eio_sid]
                    return
                data = waiting.popleft()
            try:
                _check_event(server, data)
                handle_message(eio_sid, data)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                    RecursionError, UnicodeError) as error:
                # The handlers catch their own errors (events.on_error), so what
                # lands here is a packet the protocol layer could not read.
                log.warning("closed sid %s: malformed packet (%s)", eio_sid,
                            error.__class__.__name__)
                with lock:
                    pending.pop(eio_sid, None)
                close_session(server.eio, eio_sid)
                return

    server.eio.on("message", on_message)


# Every event of the contract carries one argument at most (`leave`, none).
MAX_EVENT_ARGUMENTS = 1


def _check_event(server, data) -> None:
    """Raise ValueError for a Socket.IO event whose name is not a string or that
    carries more arguments than any handler takes (Flask-SocketIO would call the
    handler and log a traceback)."""
    if not isinstance(data, str) or not data.startswith(str(socketio_packet.EVENT)):
        return
    event = server.packet_class(encoded_packet=data).data
    if not event or not isinstance(event[0], str):
        raise ValueError("event name is not a string")
    if len(event) > 1 + MAX_EVENT_ARGUMENTS:
        raise ValueError("more arguments than the event takes")


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
