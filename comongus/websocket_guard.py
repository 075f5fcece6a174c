"""WSGI middleware that guards WebSockets through public edges, under any server.

`RefuseWebSocketCompression`: browsers and socket.io-client offer
permessage-deflate on every handshake and eventlet accepts it with no setting to
refuse it; it then keeps zlib state per socket and compresses every
frame for every recipient, which starves the heartbeats of a full room. Hiding
the offer makes eventlet (and simple-websocket) answer without the extension.
The eventlet tuning relies on it: one framed packet serves every recipient only
because no socket compresses (eventlet_tuning.send_queues); the tuning checks
that this middleware is in the stack before it installs.

`GuardWebSocketReads`: the WebSocket library reads the socket the server hands
it in the environ: `environ["eventlet.input"].get_socket()` on eventlet's server
(eventlet's own WebSocket), `environ["werkzeug.socket"]` on gevent's
(gevent_server puts it there) and on Werkzeug's (simple-websocket takes that key
first). This middleware puts a `GuardedSocket` in its place, under whichever
key the server used, which follows the client's RFC 6455 frame stream
header by header as it passes (`FrameWatch`, payloads are not kept) and refuses,
with a close frame and one warning line:

- a message whose frames, headers included, pass the packet limit, as soon as a
  header announces it (eventlet checks each frame alone, and joins any number);
- binary, compressed, unknown and unmasked frames, and a message whose first
  bytes (unmasked here) are not a text Engine.IO packet the chat takes;
- more control frames (pings, pongs) than a token bucket allows;

and reads at most a slice per `recv`, letting the other connections run before
each, within a budget of bytes per second: once it is spent the socket is not
read for a while, so TCP slows that sender and nobody else waits. The old
hixie-75/76 handshakes, which eventlet buffers without bound, are refused.
(simple-websocket, as python-engineio starts it, joins a message's frames
without a limit too: python-engineio checks the size of a message once it is
whole, so under gevent the guard is what bounds the memory it takes.)

The eventlet tuning replaces this guard by its own reader (fair_websockets),
which enforces the same limits while decoding the frames itself.
"""
from __future__ import annotations

import logging
import time

from .limits import TokenBucket

log = logging.getLogger(__name__)

SLICE_BYTES = 64 * 1024  # the most one read takes from the socket
MAX_HEADER_BYTES = 14  # 2 + an 8-byte length + a 4-byte mask
CONTROL_FRAMES_BURST = 10
CONTROL_FRAMES_PER_SECOND = 2.0

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# What a client may send as the first character of an Engine.IO packet: close,
# ping, pong, message, upgrade, noop.
CLIENT_PACKET_TYPES = frozenset("123456")
# Socket.IO packets that announce binary attachments (BINARY_EVENT, BINARY_ACK)
# in an Engine.IO message. The chat has no binary events, and python-socketio
# would keep every binary frame that follows until all the announced arrived.
BINARY_SOCKETIO_PACKETS = ("45", "46")


def packet_refusal(packet: str | bytes) -> str | None:
    """Why a client's Engine.IO packet is refused, or None if it is well-formed.

    Binary is refused in every form: a binary WebSocket frame, a long-polling
    "b" (base64) packet, a Socket.IO packet announcing attachments.
    """
    if isinstance(packet, bytes) or packet.startswith(("b", *BINARY_SOCKETIO_PACKETS)):
        return "binary packet (the chat has none)"
    if not packet or packet[0] not in CLIENT_PACKET_TYPES:
        return "malformed Engine.IO packet"
    return None


class RefuseWebSocketCompression:
    """WSGI middleware: every WebSocket handshake is answered without compression."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.app(environ, start_response)


class ProtocolViolation(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ReadBudget:
    """Bytes a connection may send: a burst, then a steady rate.

    A slice is read while any budget is left and spent in full, so the budget
    may go below zero; reading waits until it is back above.
    """

    def __init__(self, burst: int, bytes_per_second: float) -> None:
        self.burst = float(burst)
        self.rate = bytes_per_second
        self.left = float(burst)
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.left = min(self.burst, self.left + (now - self.updated) * self.rate)
        self.updated = now

    def spend(self, count: int) -> None:
        self._refill()
        self.left -= count

    def pause_seconds(self) -> float:
        """How long until reading may go on (0: now)."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        return 0.0 if self.left > 0 else (1 - self.left) / self.rate


def check_frame_header(first: int, second: int, in_message: bool) -> None:
    """Refuse a frame by its first two bytes (raises ProtocolViolation)."""
    final, opcode, length = first & 0x80, first & 0x0F, second & 0x7F
    if first & 0x70:
        raise ProtocolViolation(1002, "reserved bits set (no extension was agreed)")
    if not second & 0x80:
        raise ProtocolViolation(1002, "unmasked frame")
    if opcode in (CLOSE, PING, PONG):
        if not final or length > 125:
            raise ProtocolViolation(1002, "fragmented or long control frame")
    elif opcode == BINARY:
        raise ProtocolViolation(1003, "binary frame (the chat has none)")
    elif opcode == TEXT and in_message:
        raise ProtocolViolation(1002, "a new message inside a fragmented one")
    elif opcode == CONTINUATION and not in_message:
        raise ProtocolViolation(1002, "continuation frame outside a message")
    elif opcode not in (TEXT, CONTINUATION):
        raise ProtocolViolation(1002, f"unknown opcode {opcode}")


class FrameWatch:
    """Follows a client's frame stream as bytes pass, keeping headers and the first
    two bytes of each message only; `feed` raises ProtocolViolation on a refusal."""

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self.header = bytearray()
        self.payload_left = 0
        self.payload_at = 0  # offset in the current frame's payload (for the mask)
        self.mask = b""
        self.opcode = TEXT
        self.final = True
        self.in_message = False
        self.message_bytes = 0
        self.start = bytearray()  # the message's first bytes, unmasked
        self.control_frames = TokenBucket(CONTROL_FRAMES_BURST, CONTROL_FRAMES_PER_SECOND)

    def feed(self, data: bytes) -> None:
        at = 0
        while at < len(data):
            if self.payload_left:
                take = min(self.payload_left, len(data) - at)
                if self.opcode < 8 and len(self.start) < 2:
                    first = data[at:at + min(take, 2 - len(self.start))]
                    for offset, byte in enumerate(first):
                        self.start.append(byte ^ self.mask[(self.payload_at + offset) % 4])
                self.payload_at += take
                at += take
                self.payload_left -= take
                if not self.payload_left:
                    self._frame_done()
                continue
            self.header.append(data[at])
            at += 1
            self._header_byte()

    def _header_length(self) -> int:
        length = self.header[1] & 0x7F
        return 2 + (2 if length == 126 else 8 if length == 127 else 0) + 4

    def _header_byte(self) -> None:
        header = self.header
        if len(header) == 2:
            check_frame_header(header[0], header[1], self.in_message)
        if len(header) < 2 or len(header) < self._header_length():
            return
        self.final, self.opcode = bool(header[0] & 0x80), header[0] & 0x0F
        length = header[1] & 0x7F
        if length == 126:
            length = int.from_bytes(header[2:4], "big")
        elif length == 127:
            length = int.from_bytes(header[2:10], "big")
        self.mask = bytes(header[-4:])
        if self.opcode >= 8:
            if not self.control_frames.take():
                raise ProtocolViolation(1008, "too many control frames (pings, pongs)")
        else:
            self.message_bytes += len(header) + length
            if self.message_bytes > self.max_message_bytes + MAX_HEADER_BYTES:
                raise ProtocolViolation(1009, f"message over {self.max_message_bytes} bytes")
            self.in_message = True
        header.clear()
        self.payload_left, self.payload_at = length, 0
        if not length:
            self._frame_done()

    def _frame_done(self) -> None:
        if self.opcode >= 8 or not self.final:
            return
        start = bytes(self.start).decode("utf-8", "replace")
        self.start.clear()
        self.in_message = False
        self.message_bytes = 0
        refusal = packet_refusal(start)
        if refusal is not None:
            raise ProtocolViolation(1003 if "binary" in refusal else 1002, refusal)


class GuardedSocket:
    """The socket a WebSocket library reads, read through a FrameWatch, a slice at a
    time and within a ReadBudget; everything but `recv` is the socket's own."""

    def __init__(self, sock, address: str, max_message_bytes: int,
                 read_bytes_per_second: float, sleep) -> None:
        self.sock = sock
        self.address = address
        self.watch = FrameWatch(max_message_bytes)
        self.budget = ReadBudget(max(max_message_bytes, SLICE_BYTES), read_bytes_per_second)
        self.sleep = sleep
        self.buffer = b""
        self.over = False

    def recv(self, size: int, *flags) -> bytes:
        if not self.buffer:
            if self.over:
                return b""
            self.sleep(self.budget.pause_seconds())  # 0: let the other connections run
            data = self.sock.recv(SLICE_BYTES)
            if not data:
                return b""
            self.budget.spend(len(data))
            try:
                self.watch.feed(data)
            except ProtocolViolation as violation:
                self._refuse(violation)
                return b""
            self.buffer = data
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _refuse(self, violation: ProtocolViolation) -> None:
        log.warning("closed a WebSocket from %s: %s", self.address, violation.reason)
        self.over = True
        reason = violation.reason.encode()[:120]
        payload = violation.status.to_bytes(2, "big") + reason
        try:
            self.sock.sendall(bytes([0x88, len(payload)]) + payload)
            self.sock.shutdown(2)
        except OSError:
            pass

    def __getattr__(self, name):
        return getattr(self.sock, name)


class _GuardedInput:
    """eventlet's request input, its socket handed out guarded."""

    def __init__(self, request_input, guarded: GuardedSocket) -> None:
        self.request_input = request_input
        self.guarded = guarded

    def get_socket(self) -> GuardedSocket:
        return self.guarded

    def __getattr__(self, name):
        return getattr(self.request_input, name)


class GuardWebSocketReads:
    """WSGI middleware: a WebSocket reads its socket through a GuardedSocket.

    `active` is False once a reader that enforces the same limits took over
    (the eventlet tuning's).
    """

    def __init__(self, app, max_message_bytes: int, read_bytes_per_second: float,
                 sleep) -> None:
        self.app = app
        self.max_message_bytes = max_message_bytes
        self.read_bytes_per_second = read_bytes_per_second
        self.sleep = sleep
        self.active = True

    def __call__(self, environ, start_response):
        if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return self.app(environ, start_response)
        if "HTTP_SEC_WEBSOCKET_VERSION" not in environ:  # hixie-75/76
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"unsupported WebSocket version"]
        if self.active:
            if "werkzeug.socket" in environ:
                environ["werkzeug.socket"] = self._guarded(environ["werkzeug.socket"], environ)
            elif "eventlet.input" in environ:
                request_input = environ["eventlet.input"]
                environ["eventlet.input"] = _GuardedInput(
                    request_input, self._guarded(request_input.get_socket(), environ))
        return self.app(environ, start_response)

    def _guarded(self, sock, environ) -> GuardedSocket:
        return GuardedSocket(sock, environ.get("REMOTE_ADDR", "?"), self.max_message_bytes,
                             self.read_bytes_per_second, self.sleep)
