"""What one client may cost the server: events, REST posts, new sessions, queued packets
and bytes.

The libraries under us bound none of these: an Engine.IO connection's send queue
grows without limit while its client does not read, a session that never
connects a namespace lingers until its heartbeats time out, and any address may
open sessions as fast as it likes.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import time

log = logging.getLogger(__name__)


def client_key(address: str) -> str:
    """Who a per-address limit counts: an IPv4 address, or an IPv6 /64.

    One IPv6 client is given a whole /64 (2^64 addresses), so counting single
    addresses would let it take any number of shares; an IPv4-mapped IPv6
    address (a dual-stack listener's view of an IPv4 client) counts as the IPv4
    address. Anything that is not an IP address counts as itself.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return f"{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"


class TokenBucket:
    """A burst is fine, a steady flood is refused."""

    __slots__ = ("capacity", "rate", "tokens", "updated")  # three for every connection

    def __init__(self, burst: int, rate_per_second: float) -> None:
        self.capacity = float(burst)
        self.rate = rate_per_second
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self, cost: float = 1) -> bool:
        """Spend `cost` tokens if there are that many; False means "slow down"."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def full(self) -> bool:
        return self.tokens + (time.monotonic() - self.updated) * self.rate >= self.capacity

    def seconds_until_token(self) -> float:
        missing = 1 - self.tokens - (time.monotonic() - self.updated) * self.rate
        return max(0.0, missing / self.rate) if self.rate > 0 else float("inf")


class ConnectionBudget:
    """What one connection's events may cost: messages by count, the rest by weight.

    Messages have a bucket of their own, so typing and room changes never use up
    a person's sends. The other events share one bucket and cost what they make
    the server do: a join sends notices and `roomData` to two rooms and reads the
    history; a leave sends a notice and `roomData`; a typing, one event to a room.
    An event over budget is refused, not punished: only a connection refused again
    and again, with no pause of `FLOOD_PAUSE` seconds, for `flood_seconds` is flooding.
    """

    COSTS = {"join": 5, "leave": 1, "typing": 1}
    FLOOD_PAUSE = 1.0
    __slots__ = ("sends", "others", "flood_seconds", "typing_interval", "_refused_since",
                 "_refused_last", "_typing_shown", "_typing_at")

    def __init__(self, config) -> None:
        self.sends = TokenBucket(config["SEND_BURST"], config["SEND_RATE_PER_SECOND"])
        self.others = TokenBucket(config["EVENT_BUDGET_BURST"], config["EVENT_BUDGET_PER_SECOND"])
        self.flood_seconds = config["FLOOD_CLOSE_SECONDS"]
        self.typing_interval = config["TYPING_INTERVAL"]
        self._refused_since = self._refused_last = -math.inf
        self._typing_shown = False
        self._typing_at = -math.inf

    def spend(self, event: str) -> bool:
        """Pay for `event`; False means it is over budget and must be refused."""
        if event == "sendMessage":
            allowed = self.sends.take()
        else:
            allowed = self.others.take(self.COSTS[event])
        if not allowed:
            now = time.monotonic()
            if now - self._refused_last >= self.FLOOD_PAUSE:
                self._refused_since = now
            self._refused_last = now
        return allowed

    def flooding(self) -> bool:
        """Refused without a pause for `flood_seconds`: sustained abuse, not a burst."""
        return self._refused_last - self._refused_since >= self.flood_seconds

    def typing_to_tell(self, is_typing: bool) -> bool:
        """Whether the room hears of this: a start at most once per interval, a stop once after it.

        So one connection sends its room at most two typing events per interval,
        however fast it flips, and a start repeated to keep it showing still goes out.
        """
        now = time.monotonic()
        if is_typing:
            if now - self._typing_at < self.typing_interval:
                return False
            self._typing_at = now
        elif not self._typing_shown:
            return False
        self._typing_shown = is_typing
        return True


class AddressBuckets:
    """A token bucket per client address; the table forgets quiet addresses as it grows.

    A rate of 0 turns the limit off (behind a proxy every client shares its address).
    """

    MAX_ADDRESSES = 10_000

    def __init__(self, burst: int, rate_per_second: float) -> None:
        self.burst = burst
        self.rate = rate_per_second
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, address: str) -> bool:
        """Spend one of `address`'s tokens; False means it is over its rate."""
        if self.rate <= 0:
            return True
        key = client_key(address)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > self.MAX_ADDRESSES:  # a full bucket is a fresh one: forget it
                for quiet in [k for k, b in self._buckets.items() if b.full()]:
                    del self._buckets[quiet]
            bucket = self._buckets[key] = TokenBucket(self.burst, self.rate)
        return bucket.take()

    def exhausted(self, address: str) -> bool:
        """Whether `address` has no token left now (without spending one)."""
        bucket = self._buckets.get(client_key(address))
        return self.rate > 0 and bucket is not None and bucket.seconds_until_token() > 0

    def retry_after(self, address: str) -> int:
        """Whole seconds until `address` may try again (for a `Retry-After` header)."""
        bucket = self._buckets.get(client_key(address))
        return 1 if bucket is None else max(1, math.ceil(bucket.seconds_until_token()))


class SharedAddressBuckets:
    """AddressBuckets kept in Redis, so every process of the chat spends from the same
    bucket of an address (N processes must not give it N times the tries).

    A bucket is a Redis hash `<prefix><client key>` of its tokens and when it was
    last filled, taken and refilled by one Lua script on Redis's clock; it expires
    once it would be full again. While Redis does not answer, each process counts
    on its own (AddressBuckets), and says so in the log at most once a minute.
    """

    SCRIPT = """
local burst, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = clock[1] + clock[2] / 1e6
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local taken = 0
if cost > 0 and tokens >= cost then
  tokens = tokens - cost
  taken = 1
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
end
return {taken, tostring((1 - tokens) / rate)}
"""

    def __init__(self, redis_client, prefix: str, burst: int, rate_per_second: float) -> None:
        self.local = AddressBuckets(burst, rate_per_second)
        self.prefix = prefix
        self.burst = burst
        self.rate = rate_per_second
        self._script = redis_client.register_script(self.SCRIPT)
        self._warned_at = -math.inf

    def _ask(self, address: str, cost: int) -> tuple[bool, float] | None:
        """(whether a token was taken, seconds until one is there); None without Redis."""
        try:
            taken, wait = self._script(keys=[self.prefix + client_key(address)],
                                       args=[self.burst, self.rate, cost])
        except Exception as error:  # redis errors, timeouts: count in this process
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("per-address limit: Redis did not answer (%s); this process "
                            "counts alone", error.__class__.__name__)
            return None
        return bool(taken), float(wait)

    def take(self, address: str) -> bool:
        if self.rate <= 0:
            return True
        answer = self._ask(address, 1)
        return self.local.take(address) if answer is None else answer[0]

    def exhausted(self, address: str) -> bool:
        if self.rate <= 0:
            return False
        answer = self._ask(address, 0)
        return self.local.exhausted(address) if answer is None else answer[1] > 0

    def retry_after(self, address: str) -> int:
        answer = self._ask(address, 0)
        if answer is None:
            return self.local.retry_after(address)
        return max(1, math.ceil(answer[1]))


def limit_handshakes(wsgi_app, burst: int, rate_per_second: float):
    """WSGI middleware: each client (`client_key`) may open Socket.IO sessions at a bounded rate.

    A request to /socket.io/ without a `sid` starts a session; past the address's
    bucket it gets `429` and a `Retry-After`, which socket.io clients answer by
    retrying later. A rate of 0 turns this off (behind a proxy not counted in
    TRUSTED_PROXIES every client shares the proxy's address).
    """
    if rate_per_second <= 0:
        return wsgi_app
    buckets = AddressBuckets(burst, rate_per_second)

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/socket.io") and \
                "sid=" not in environ.get("QUERY_STRING", "") and \
                not buckets.take(environ.get("REMOTE_ADDR", "")):
            start_response("429 Too Many Requests", [
                ("Content-Type", "application/json"), ("Retry-After", "1")])
            return [b'{"error": "Too many new connections from your address; retry soon.", '
                    b'"code": "rate_limited"}']
        return wsgi_app(environ, start_response)

    app.__wrapped__ = wsgi_app
    return app


# A timer that wakes this much later than asked says the server is behind: what a
# client sent by then may still be unread.
BEHIND_SECONDS = 1.0
# A session found silent is looked at once more this much later, on time, before it
# is closed: a server that was held up until just past the deadline wakes its timers
# before it reads its sockets, and reads them in between.
RECHECK_SECONDS = 0.5


def close_sessions_without_namespace(server, seconds: float, packets) -> None:
    """Close an Engine.IO session that has not connected a namespace after `seconds`.

    A handshake alone costs a session, a queue and a heartbeat task; without this
    it would hold them until its heartbeats time out. Only the client's own
    silence counts: while packets it sent wait to be handled (`packets`, the
    incoming_packets.PacketQueues), or while the server is behind, the session is
    not judged; it is closed once two looks in a row find neither. The log line says
    whether the client sent nothing at all or sent packets none of which
    connected the namespace.
    """
    eio = server.eio
    handle_connect = eio.handlers["connect"]  # python-socketio's own (public edge)

    def on_eio_connect(eio_sid, environ):
        packets.count_from(eio_sid)
        server.start_background_task(close_if_silent, eio_sid)
        return handle_connect(eio_sid, environ)

    def close_if_silent(eio_sid):
        try:
            if still_without_namespace(eio_sid):
                received = packets.received(eio_sid)
                if received:
                    log.warning("closed sid %s: it sent %d packets but connected no "
                                "namespace within %g s", eio_sid, received, seconds)
                else:
                    log.warning("closed sid %s: it sent nothing within %g s", eio_sid,
                                seconds)
                close_session(eio, eio_sid)
        finally:
            packets.stop_counting(eio_sid)

    def still_without_namespace(eio_sid) -> bool:
        """Wait `seconds`, then until two looks in a row, on time and RECHECK_SECONDS
        apart, find no packet of the client waiting; whether the session is then open
        without a namespace."""
        wait, silent_looks = seconds, 0
        while True:
            asleep_at = time.monotonic()
            server.sleep(wait)
            behind = time.monotonic() - asleep_at - wait > BEHIND_SECONDS
            session = eio.sockets.get(eio_sid)
            if session is None or session.closing or session.closed or \
                    server.manager.sid_from_eio_sid(eio_sid, "/") is not None:
                return False
            silent_looks = 0 if behind or packets.waiting(eio_sid) else silent_looks + 1
            if silent_looks == 2:
                return True
            wait = RECHECK_SECONDS

    eio.on("connect", on_eio_connect)


def packet_bytes(pkt) -> int:
    """An Engine.IO packet's encoded size in bytes, worked out once per packet:
    a broadcast hands every recipient the same packet object."""
    if isinstance(pkt, (str, bytes)):  # already encoded
        return _encoded_bytes(pkt)
    size = getattr(pkt, "comongus_bytes", None)
    if size is None:
        size = pkt.comongus_bytes = _encoded_bytes(pkt.encode())
    return size


def _encoded_bytes(encoded: str | bytes) -> int:
    if isinstance(encoded, str) and not encoded.isascii():
        return len(encoded.encode("utf-8", "surrogatepass"))
    return len(encoded)


def cut_slow_consumers(server, max_backlog: int, max_backlog_bytes: int) -> None:
    """Cut a connection whose unsent packets pass `max_backlog` or `max_backlog_bytes`.

    A client that stops reading would otherwise grow the server's memory with
    every message of its room. A single packet is always queued, however big:
    the bound is on what piles up behind it. Cut, the client loses nothing: on
    reconnect it rejoins with `since` and gets what it missed.

    A public edge: Engine.IO's `send_packet`, wrapped. The bytes waiting are the
    queue's own count where it keeps one (the eventlet tuning's SendQueue), else
    the sum over what the stock queue holds (`queue.queue`, each packet's size
    worked out once).
    """
    eio = server.eio
    send_packet = eio.send_packet

    def guarded_send_packet(eio_sid, packet):
        socket = eio.sockets.get(eio_sid)
        if socket is not None and _over_backlog(socket.queue, packet, max_backlog,
                                                max_backlog_bytes):
            if not getattr(socket, "comongus_cut", False) and not socket.closed:
                socket.comongus_cut = True  # one cut, however many packets still come
                eio.start_background_task(_cut, socket)
            return
        send_packet(eio_sid, packet)

    eio.send_packet = guarded_send_packet


def queued_bytes(queue) -> int:
    """The encoded bytes of the packets waiting in a session's send queue."""
    counted = getattr(queue, "queued_bytes", None)
    if counted is not None:
        return counted
    return sum(packet_bytes(item) for item in list(getattr(queue, "queue", ())) if item is not None)


def _over_backlog(queue, packet, max_packets: int, max_bytes: int) -> bool:
    waiting = queue.qsize()
    if waiting >= max_packets:
        return True
    return bool(waiting and queued_bytes(queue) + packet_bytes(packet) > max_bytes)


def close_silent_sessions(server, grace_seconds: float = 1.0) -> SilentSessionSweep:
    """Close a session whose ping went unanswered for PING_TIMEOUT, within `grace_seconds`.

    Engine.IO's own check walks every session once per ping timeout, so a
    vanished client was found up to a whole timeout late. A sweep every
    `grace_seconds` over `eio.sockets` (public: `check_ping_timeout`) finds it
    within PING_INTERVAL + PING_TIMEOUT + `grace_seconds`. It starts with the
    first session; the eventlet tuning stops it (its ping rounds check each ping
    when its answer is due).
    """
    sweep = SilentSessionSweep(server, grace_seconds)
    handle_connect = server.eio.handlers["connect"]

    def on_eio_connect(eio_sid, environ):
        sweep.start()
        return handle_connect(eio_sid, environ)

    server.eio.on("connect", on_eio_connect)
    return sweep


class SilentSessionSweep:
    def __init__(self, server, seconds: float) -> None:
        self.server = server
        self.seconds = seconds
        self.active = True
        self.started = False

    def start(self) -> None:
        if self.active and not self.started:
            self.started = True
            self.server.start_background_task(self.run)

    def run(self) -> None:
        eio = self.server.eio
        while self.active:
            eio.sleep(self.seconds)
            for session in list(eio.sockets.values()):
                if not session.closed and not session.closing:
                    try:
                        session.check_ping_timeout()  # closes it: disconnect handlers run
                    except Exception:  # one session's failure must not end the sweep
                        log.exception("checking a session's ping failed")


def close_session(eio, eio_sid: str) -> None:
    """Close an Engine.IO session without waiting for its queue to drain.

    `eio.disconnect()` waits for the client to take its close packet: forever,
    for a polling client with no GET pending, pinning the session and the greenlet.
    """
    socket = eio.sockets.get(eio_sid)
    if socket is not None:
        socket.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        eio.sockets.pop(eio_sid, None)


def _cut(socket) -> None:
    log.warning("cut a slow consumer (sid %s) with %d packets (%d bytes) unsent",
                socket.sid, socket.queue.qsize(), queued_bytes(socket.queue))
    socket.close(wait=False, abort=True, reason=socket.server.reason.SERVER_DISCONNECT)
    while not socket.queue.empty():  # free the backlog now, not when TCP gives up
        socket.queue.get_nowait()
        socket.queue.task_done()
    socket.queue.put(None)  # and let the writer task end
