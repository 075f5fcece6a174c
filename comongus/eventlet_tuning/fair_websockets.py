"""WebSocket frames read fairly: a slice at a time, bounded in bytes, unmasked at C speed.

eventlet's RFC6455WebSocket unmasks every byte in Python (~0.22 s of CPU per
MiB), joins any number of continuation frames into one message with the size
checked only frame by frame, and answers every ping; a reader that loops while
bytes wait then holds the event loop for as long as one client keeps sending.
Here eventlet still answers the handshake and writes frames, while
`FairWebSocket` reads them:

- one frame per `poll`, from at most one `recv` of SLICE_BYTES, so that the
  caller lets the other connections run between frames;
- unmasking by `bytes.translate` over the whole payload, never byte by byte;
- a message's frames, headers included, refused as soon as their announced
  total passes the packet limit, before their payload is read;
- binary frames refused (the chat has no binary messages), as are compressed,
  unknown and unmasked ones, and messages that are not a text Engine.IO packet
  the chat takes (websocket_guard.packet_refusal);
- control frames (ping, pong) limited by a token bucket;
- a read budget in bytes per second: once it is spent the socket is not read
  for a while, so TCP slows that sender down and nobody else waits.

Every refusal closes the connection with a close frame and one warning line.
Stock mode has the same limits from websocket_guard.GuardWebSocketReads, which
watches the frames pass under eventlet's own reader; this one is faster (one
pass, unmasking in C) and is what lets a WebSocket park without a task.
"""
from __future__ import annotations

import logging
import socket

import eventlet
import eventlet.hubs

from ..limits import TokenBucket
from ..websocket_guard import (
    CONTROL_FRAMES_BURST,
    CONTROL_FRAMES_PER_SECOND,
    MAX_HEADER_BYTES,
    PING,
    PONG,
    SLICE_BYTES,
    ProtocolViolation,
    ReadBudget,
    check_frame_header,
    packet_refusal,
)

log = logging.getLogger(__name__)


class _Signal:
    """What `poll` returns when it has no message (a name for logs and reprs)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MORE = _Signal("MORE")  # a slice or a frame was taken: let others run, then poll again
EMPTY = _Signal("EMPTY")  # nothing waits on the socket: poll again once it is readable
THROTTLED = _Signal("THROTTLED")  # the read budget is spent: poll again after `pause_seconds()`
_OVER = _Signal("OVER")  # the client closed


# XOR with each byte value, as `bytes.translate` tables (64 KiB in all).
_XOR_TABLES = [bytes(value ^ key for value in range(256)) for key in range(256)]


def unmask(payload, mask: bytes) -> bytes:
    """The payload XOR its repeated 4-byte mask: every fourth byte through one
    translate table, four times, all in C (docs/architecture.md has its cost
    against eventlet's byte-by-byte loop)."""
    data = bytearray(payload)
    for offset in range(4):
        data[offset::4] = data[offset::4].translate(_XOR_TABLES[mask[offset]])
    return bytes(data)


class FairWebSocket:
    """eventlet's WebSocket, its frames read here (see the module's docstring).

    Everything but reading (send, close, the socket) is eventlet's, reached
    through this object.
    """

    def __init__(self, websocket, max_message_bytes: int, read_bytes_per_second: float) -> None:
        self.websocket = websocket
        self._socket: socket.socket = websocket.socket.fd
        self._address = websocket.environ.get("REMOTE_ADDR", "?")
        self._max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._message_bytes = 0  # on the wire, headers included, of the unfinished message
        self._in_message = False
        self._budget = ReadBudget(max(max_message_bytes, SLICE_BYTES), read_bytes_per_second)
        self._control_frames = TokenBucket(CONTROL_FRAMES_BURST, CONTROL_FRAMES_PER_SECOND)
        self._over = False

    def __getattr__(self, name):
        return getattr(self.websocket, name)

    def pause_seconds(self) -> float:
        return self._budget.pause_seconds()

    def poll(self):
        """A text message, None once the connection is over, or MORE, EMPTY or THROTTLED.

        Never waits, and does at most one `recv` and one frame's work.
        """
        if self._over:
            return None
        try:
            result = self._next_frame()
            if result is _OVER:
                return None
            if result is not None:
                return result
            if self._budget.pause_seconds() > 0:
                return THROTTLED
            try:
                data = self._socket.recv(SLICE_BYTES, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return EMPTY
            except OSError:
                data = b""  # reset by the client: the same as its end
            if not data:
                self._over = True
                return None
            self._budget.spend(len(data))
            self._buffer += data
            return MORE
        except ProtocolViolation as violation:
            log.warning("closed a WebSocket from %s: %s", self._address, violation.reason)
            self._close(violation.status, violation.reason)
            return None

    def wait(self):
        """The next text message, or None once the connection is over (eventlet's API).

        Lets other connections run between slices, and raises `TimeoutError`
        after the socket's timeout without a byte.
        """
        while True:
            result = self.poll()
            if result is MORE:
                eventlet.sleep(0)
            elif result is EMPTY:
                eventlet.hubs.trampoline(self._socket, read=True,
                                         timeout=self.websocket.socket.gettimeout(),
                                         timeout_exc=TimeoutError("timed out"))
            elif result is THROTTLED:
                eventlet.sleep(self.pause_seconds())
            else:
                return result

    def _close(self, status: int, reason: str = "") -> None:
        self._over = True
        self._buffer.clear()
        self._fragments.clear()
        self.websocket.close(close_data=(status, reason))

    def _next_frame(self):
        """The next whole frame in the buffer, handled: a text message, MORE, _OVER,
        or None (no whole frame yet). Refusals are raised as soon as the header shows them."""
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        final, opcode, length = first & 0x80, first & 0x0F, second & 0x7F
        check_frame_header(first, second, self._in_message)
        head = 6
        if length == 126:
            head = 8
            if len(buffer) < head:
                return None
            length = int.from_bytes(buffer[2:4], "big")
        elif length == 127:
            head = 14
            if len(buffer) < head:
                return None
            length = int.from_bytes(buffer[2:10], "big")
        if opcode < 8 and self._message_bytes + head + length > \
                self._max_message_bytes + MAX_HEADER_BYTES:
            raise ProtocolViolation(1009, f"message over {self._max_message_bytes} bytes")
        if len(buffer) < head + length:
            return None
        payload = unmask(buffer[head:head + length], bytes(buffer[head - 4:head]))
        del buffer[:head + length]
        if opcode >= 8:
            return self._control_frame(opcode, payload)
        self._in_message = True
        self._message_bytes += head + length
        self._fragments.append(payload)
        if not final:
            return MORE
        data = b"".join(self._fragments)
        self._fragments.clear()
        self._message_bytes = 0
        self._in_message = False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolViolation(1007, "text that is not UTF-8") from None
        refusal = packet_refusal(text)
        if refusal is not None:
            raise ProtocolViolation(1003 if "binary" in refusal else 1002, refusal)
        return text

    def _control_frame(self, opcode: int, payload: bytes):
        if not self._control_frames.take():
            raise ProtocolViolation(1008, "too many control frames (pings, pongs)")
        if opcode == PING:
            self.websocket.send(payload, control_code=PONG)
            return MORE
        if opcode == PONG:
            return MORE
        self._close(1000)  # the client's close: answered, and the connection is over
        return _OVER


def innermost_websocket(ws):
    """eventlet's own WebSocket under this module's reader."""
    while "websocket" in vars(ws):
        ws = ws.websocket
    return ws


def read_websockets_fairly(eio_server, read_bytes_per_second: float) -> None:
    """Have every WebSocket of `eio_server` (on eventlet) read by a `FairWebSocket`,
    its messages bounded by the server's `max_http_buffer_size`.

    Call it before anything else wraps the WebSocket app, so that every reader
    (Engine.IO's handler, the upgrade, parked_websockets) reads through it.
    """
    websocket_class = eio_server._async["websocket"]
    max_message_bytes = int(eio_server.max_http_buffer_size)

    class FairWebSocketWSGI:
        def __init__(self, handler, server):
            self._app = websocket_class(
                lambda ws: handler(FairWebSocket(ws, max_message_bytes, read_bytes_per_second)),
                server)

        def __call__(self, environ, start_response):
            return self._app(environ, start_response)

    eio_server._async = {**eio_server._async, "websocket": FairWebSocketWSGI}
