"""What each Engine.IO session costs on eventlet, cut down.

Upstream: replaces `engineio.socket.Socket.schedule_ping` (class-wide) and
Engine.IO's queue class (`Server._async["queue"]`), wraps `Server.send_packet`
and the WebSocket app, and writes with eventlet's `RFC6455WebSocket._sendlock`
and `_pack_message`.

Engine.IO gives every connection a send queue that its writer task waits on,
and a task that sleeps through each ping interval. Each is cheap alone; in a
room of 1,000 they add up:

- A broadcast puts one packet in each recipient's queue. eventlet's Queue wakes
  a waiting reader through a hub timer per `put` and arms an `eventlet.Timeout`
  per `get`: some 2,000 timers per message, and a profile put a fifth of the
  server's time there. `SendQueue` adds the readers a `put` finds waiting to
  one list, which a single hub callback wakes, and one sweeper a second ends
  the gets that wait past their timeout. What Engine.IO relies on is
  unchanged: FIFO order, `Empty` on timeout or when not blocking, and
  `task_done`/`join`.
- Waking a writer task per recipient costs more than the write itself. When a
  WebSocket's writer waits with nothing queued, `put` writes the frame to the
  socket itself (`_DirectWrite`), in order, and the writer is not woken at all.
  python-socketio hands every recipient of a broadcast the same packet, so its
  WebSocket frame is made once and shared (`_shared_frame`).
- A sleeping task keeps a greenlet, with its saved stack and its own Python
  frame stack, alive per connection. Pings here are sent in rounds instead
  (`DueRounds`): the sessions whose ping falls due within a tenth of a second
  share one hub timer and one task.
- For the same reason an upgraded WebSocket has no writer task waiting on its
  queue: the queue hands what it cannot write at once to the WebSocket
  (parked_websockets), which writes from a task that lives only while packets
  wait. Long-polling sessions keep Engine.IO's waiting `get`.
"""
from __future__ import annotations

import logging
import math
import time
from collections import deque

import eventlet
import eventlet.event
import eventlet.hubs
import greenlet
from engineio import packet
from engineio import socket as engineio_socket
from eventlet.queue import Empty

from ..limits import packet_bytes
from .fair_websockets import innermost_websocket
from .parked_websockets import lighten_websocket, serve_websocket

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0  # how late a get's timeout may end: Engine.IO's is 45 s
# A ping unanswered this long past the ping timeout closes its session.
PONG_GRACE_SECONDS = 0.05
# How late a ping, or the check of its answer, may come: pings and checks
# falling due within one tick share a hub timer.
TICK_SECONDS = 0.1


class _Waiter:
    """One blocked `get`: its task, and how long it waits (None: for ever)."""

    __slots__ = ("task", "timeout", "deadline")

    def __init__(self, task: greenlet.greenlet, timeout: float | None) -> None:
        self.task = task
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def wait_longer(self) -> None:
        """Count from now: the wait is for the connection to go quiet, and it did not."""
        if self.timeout is not None:
            self.deadline = time.monotonic() + self.timeout

    def resume(self, *throw) -> None:
        """Resume the task if it still waits here (it may have been resumed already)."""
        task, self.task = self.task, None
        if task is None:
            return
        try:
            if throw:
                task.throw(*throw)
            else:
                task.switch()
        except Exception:  # a task that dies must not stop the others' wake-up
            log.exception("a task woken by its send queue failed")


_to_wake: list[_Waiter] = []
_wake_scheduled = False
_timed: set[_Waiter] = set()
_sweep_scheduled = False


def _wake(waiter: _Waiter) -> None:
    global _wake_scheduled
    _to_wake.append(waiter)
    if not _wake_scheduled:
        _wake_scheduled = True
        eventlet.hubs.get_hub().schedule_call_global(0, _wake_all)


def _wake_all() -> None:
    global _wake_scheduled
    batch = _to_wake[:]
    _to_wake.clear()
    _wake_scheduled = False
    for waiter in batch:
        waiter.resume()


def _time_out_later(waiter: _Waiter) -> None:
    global _sweep_scheduled
    _timed.add(waiter)
    if not _sweep_scheduled:
        _sweep_scheduled = True
        eventlet.hubs.get_hub().schedule_call_global(SWEEP_SECONDS, _sweep)


def _sweep() -> None:
    global _sweep_scheduled
    now = time.monotonic()
    for waiter in [waiter for waiter in _timed if waiter.deadline <= now]:
        _timed.discard(waiter)
        waiter.resume(Empty)
    _sweep_scheduled = bool(_timed)
    if _sweep_scheduled:
        eventlet.hubs.get_hub().schedule_call_global(SWEEP_SECONDS, _sweep)


_last_frame: tuple = (None, None, b"")  # a packet, the function that framed it, the frame


def _shared_frame(item, pack) -> bytes:
    """`item` framed by `pack`, once for all the recipients of a broadcast.

    python-socketio sends one Packet object to every member of a room; the last
    one's frame is kept (with the packet itself, so its id is never reused).
    """
    global _last_frame
    packet_, function, frame = _last_frame
    if packet_ is not item or function is not pack.__func__:
        frame = pack(item.encode())
        _last_frame = item, pack.__func__, frame
    return frame


class _DirectWrite:
    """Writes a packet to a WebSocket from the broadcasting task, when that is safe.

    Safe means: the session is on WebSocket, its writer task waits with nothing
    queued (so nothing is ahead of this packet), and the WebSocket's send lock is
    free. The frame goes out with one non-blocking `send`; if the socket takes
    only part of it, a short task sends the rest while holding the send lock, so
    the writer's next frame waits for it. Anything else takes the queue.
    """

    __slots__ = ("session", "raw", "green", "lock", "frame", "plain")

    def __init__(self, session, ws, share_frames: bool) -> None:
        self.session = session
        self.green = ws.socket
        self.raw = ws.socket.fd
        self.lock = ws._sendlock
        self.frame = ws._pack_message
        # Without permessage-deflate a frame depends only on the packet (a server
        # never masks), so recipients of one broadcast can share it.
        self.plain = share_frames and "permessage-deflate" not in getattr(ws, "extensions", {})

    def send(self, item) -> bool:
        """True if `item` was written (or its rest handed to a task); False: queue it."""
        if item is None or not self.session.upgraded or self.session.upgrading:
            return False
        if not self.lock.acquire(blocking=False):
            return False
        try:
            frame = _shared_frame(item, self.frame) if self.plain \
                else self.frame(item.encode())
            try:
                sent = self.raw.send(frame)
            except BlockingIOError:
                sent = 0
        except Exception:  # a closed socket, say: the writer meets it and ends the session
            self.lock.release()
            return False
        if sent == len(frame):
            self.lock.release()
        else:
            eventlet.spawn_n(self._send_rest, frame[sent:])
        return True

    def _send_rest(self, rest: bytes) -> None:
        try:
            self.green.sendall(rest)
        except OSError:
            pass  # the reader or the writer meets the broken socket and ends the session
        finally:
            self.lock.release()


class SendQueue:
    """A FIFO with the part of `queue.Queue`'s interface Engine.IO uses, which
    also counts the encoded bytes waiting in it (`queued_bytes`), for
    limits.cut_slow_consumers."""

    # An empty deque holds a block of 64 slots (760 bytes): most queues are empty
    # most of the time (a broadcast writes straight to an idle WebSocket, and a
    # parked one has no writer waiting), so each deque exists only while it holds
    # something, and an empty tuple stands in for it meanwhile.
    __slots__ = ("_items", "queued_bytes", "_waiters", "_unfinished", "_all_done",
                 "_direct", "_pushed_to")

    def __init__(self) -> None:
        self._items: deque | tuple = ()
        self.queued_bytes = 0
        self._waiters: deque[_Waiter] | tuple = ()
        self._unfinished = 0
        self._all_done: eventlet.event.Event | None = None
        self._direct: _DirectWrite | None = None
        self._pushed_to = None

    def write_directly(self, session, ws, share_frames: bool) -> None:
        """Let packets skip the writer task while it is idle (see _DirectWrite)."""
        self._direct = _DirectWrite(session, ws, share_frames)

    def push_to(self, websocket) -> None:
        """Have packets sent by `websocket` (a parked_websockets.ParkedWebSocket),
        which starts a writing task only while packets wait, instead of by a writer
        task that waits on this queue."""
        self._pushed_to = websocket
        if self._items:
            websocket.start_writing()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def _writer_idle(self) -> bool:
        if self._pushed_to is not None:
            return not self._pushed_to.writing
        return bool(self._waiters)

    def write_now(self, item) -> bool:
        """Write `item` to the WebSocket at once if its writer is idle with nothing
        queued (see _DirectWrite); False if it must be queued instead."""
        if self._direct is not None and not self._items and self._writer_idle() \
                and self._direct.send(item):
            if self._waiters:  # Engine.IO's writer gives up after a quiet timeout
                self._waiters[0].wait_longer()
            return True
        return False

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        """Add an item (the queue is unbounded, so this never waits)."""
        if self.write_now(item):
            return
        if not self._items:
            self._items = deque()
        self._items.append(item)
        if item is not None:  # None: the session closed, the writer should end
            self.queued_bytes += packet_bytes(item)
        self._unfinished += 1
        if self._waiters:
            _wake(self._waiters.popleft())
            if not self._waiters:
                self._waiters = ()
        elif self._pushed_to is not None:
            self._pushed_to.start_writing()

    def get(self, block: bool = True, timeout: float | None = None):
        """The oldest item; wait for one when `block`, raising `Empty` after `timeout` s."""
        if not self._items and block:
            hub = eventlet.hubs.get_hub()
            while not self._items:
                waiter = _Waiter(greenlet.getcurrent(), timeout)
                if not self._waiters:
                    self._waiters = deque()
                self._waiters.append(waiter)
                if timeout is not None:
                    _time_out_later(waiter)
                try:
                    hub.switch()
                finally:
                    waiter.task = None
                    _timed.discard(waiter)
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                    if not self._waiters:
                        self._waiters = ()
        if not self._items:
            raise Empty
        item = self._items.popleft()
        if not self._items:
            self._items = ()
        if item is not None:
            self.queued_bytes -= packet_bytes(item)
        return item

    def get_nowait(self):
        return self.get(block=False)

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._all_done is not None:
            self._all_done.send()
            self._all_done = None

    def join(self) -> None:
        """Wait until every item put has been marked done."""
        if self._unfinished:
            if self._all_done is None:
                self._all_done = eventlet.event.Event()
            self._all_done.wait()


class DueRounds:
    """Engine.IO sessions of one server, by the tick at which each falls due.

    One hub timer per tick, not one per session: a timer with its arguments and
    a weak reference is about 400 bytes, and an idle session had nearly two (its
    next ping, and the check of the last, due 20 s after it). A round holds
    sids alone: a session closed meanwhile is not held, and is skipped.
    """

    __slots__ = ("_server", "_handle_due", "_rounds")

    def __init__(self, server, handle_due) -> None:
        self._server = server
        self._handle_due = handle_due  # called in the hub with the open sessions due
        self._rounds: dict[int, list[str]] = {}

    def add(self, sid: str, seconds: float) -> None:
        """Make `sid` due `seconds` from now, or up to one tick later."""
        now = time.monotonic()
        tick = math.ceil((now + seconds) / TICK_SECONDS)
        sids = self._rounds.get(tick)
        if sids is None:
            sids = self._rounds[tick] = []
            eventlet.hubs.get_hub().schedule_call_global(
                tick * TICK_SECONDS - now, self._fall_due, tick)
        sids.append(sid)

    def _fall_due(self, tick: int) -> None:
        sessions = self._server.sockets
        due = [session for session in map(sessions.get, self._rounds.pop(tick))
               if session is not None and not session.closed]
        if due:
            self._handle_due(due)


def _rounds(server) -> tuple[DueRounds, DueRounds]:
    """The server's ping rounds and pong-check rounds, made on first use."""
    try:
        return server.comongus_ping_rounds
    except AttributeError:
        server.comongus_ping_rounds = (DueRounds(server, _ping_soon),
                                       DueRounds(server, _pongs_due))
        return server.comongus_ping_rounds


def _schedule_ping(session) -> None:
    """Engine.IO's `Socket.schedule_ping`, in a round instead of a sleeping task."""
    # Only after the previous ping was answered, as Engine.IO does.
    if session.last_ping:
        session.last_ping = None
        pings, _ = _rounds(session.server)
        pings.add(session.sid, session.server.ping_interval)


def _ping_soon(sessions: list) -> None:
    # In a task, not in the hub: a send writes to the socket.
    eventlet.spawn_n(_ping, sessions)


def _ping(sessions: list) -> None:
    _, pong_checks = _rounds(sessions[0].server)
    for session in sessions:
        if session.closing or session.closed:
            continue
        try:
            session.last_ping = time.time()
            session.send(packet.Packet(packet.PING))
        except Exception:  # one session's failure must not cost the others their pings
            log.exception("sending a ping failed")
        # Engine.IO's own check walks every session once per ping timeout, so a
        # vanished client was found up to a whole timeout late. Check this ping
        # when its answer is due instead.
        pong_checks.add(session.sid, session.server.ping_timeout + PONG_GRACE_SECONDS)


def _pongs_due(sessions: list) -> None:
    now = time.time()
    for session in sessions:
        last_ping = session.last_ping
        if last_ping and now - last_ping > session.server.ping_timeout:
            eventlet.spawn_n(_check_pong, session)


def _check_pong(session) -> None:
    # Closed by another task since the round fell due (its client left, say,
    # while thousands of checks fell due at once): Engine.IO's check would raise.
    if not session.closed:
        session.check_ping_timeout()  # closes it: disconnect handlers run


def ping_on_timers() -> None:
    """Engine.IO's pings in rounds on shared hub timers, each checked when its
    answer is due.

    The change is made to Engine.IO's Socket class, so it holds for every server
    in the process: call this only where eventlet serves."""
    engineio_socket.Socket.schedule_ping = _schedule_ping


def lighten_sessions(eio_server, direct_write: bool, park: bool,
                     share_frames: bool) -> None:
    """Give every Engine.IO session of `eio_server` (on eventlet) a SendQueue that,
    with `direct_write`, writes to its WebSocket directly when it can (framing a
    broadcast once for all its recipients with `share_frames`) and, with `park`,
    a WebSocket that holds no task while idle (parked_websockets).

    Call it after anything else that wraps the WebSocket app or `send_packet`:
    this layer needs Engine.IO's own handler, bound to its session, and is the
    outermost `send_packet`."""
    replaced = {"queue": SendQueue, "queue_empty": Empty}
    if direct_write or park:
        websocket_class = eio_server._async["websocket"]

        class DirectWebSocketWSGI:
            def __init__(self, handler, server):
                session = handler.__self__

                def handle(ws):
                    if park:  # before _DirectWrite takes the send lock
                        lighten_websocket(innermost_websocket(ws))
                    if direct_write:
                        session.queue.write_directly(session, ws, share_frames)
                    if park:
                        return serve_websocket(session, ws, handler)
                    return handler(ws)

                self._app = websocket_class(handle, server)

            def __call__(self, environ, start_response):
                return self._app(environ, start_response)

        replaced["websocket"] = DirectWebSocketWSGI
    eio_server._async = {**eio_server._async, **replaced}
    if not direct_write:
        return

    sessions = eio_server.sockets
    send_packet = eio_server.send_packet

    def send_packet_directly_when_idle(eio_sid, pkt):
        # The broadcast's inner loop. Skip the layers between here and the queue
        # only where they would do nothing: an open session with no ping
        # outstanding (Engine.IO's ping timeout check) and an empty queue (so no
        # backlog to cut, nothing to keep in order behind).
        session = sessions.get(eio_sid)
        if session is not None and session.last_ping is None and not session.closed:
            queue = session.queue
            if queue.write_now(pkt):
                return
        send_packet(eio_sid, pkt)

    eio_server.send_packet = send_packet_directly_when_idle
