"""One attack beside ordinary clients, measured from outside; `benchmarks/abuse.sh` runs them all.

    abuse.py run ATTACK --port P --pid PID --database FILE [--clients 200] [--seconds 20]
        Connects the ordinary clients (127.0.0.1), starts `abuse.py attack ATTACK`
        in a process of its own, measures while it runs and prints one Markdown
        table row: the ordinary clients' p99 round trip, `/healthz` p99, the
        server's RSS growth, who was dropped, and what became of the attacker.
    abuse.py attack ATTACK --port P --seconds S [--database FILE]
        The attacker alone (127.0.0.2 and up); stops by itself after S seconds and
        prints what it did as JSON.

Everything speaks raw sockets (WebSocket framing and Engine.IO/Socket.IO text
packets written here), so an attacker can do what no well-behaved library does,
and one asyncio loop carries hundreds of ordinary clients. Every wait has a
timeout: a server that freezes or dies shows up in the figures, never as a hang.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import random
import resource
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

SERVER = "127.0.0.1"
ORDINARY_ADDRESS = "127.0.0.1"
ENGINEIO_PATH = "/socket.io/?EIO=4&transport=websocket"
STEP_TIMEOUT = 5.0  # any one connect, handshake, request or write
HEALTHZ_EVERY = 0.05
SEND_EVERY = 2.0
CLIENTS_PER_ROOM = 20
WARM_UP = 3.0
GRACE = 5.0  # after the attack, for round trips still on their way
TEXT_OP, BINARY_OP, CLOSE_OP, PING_OP, PONG_OP, CONTINUATION_OP = 1, 2, 8, 9, 10, 0


class Refused(Exception):
    """The server answered a connection or upgrade with something else than 101."""


class Closed(Exception):
    """The server closed the connection (EOF, reset, close frame, Engine.IO close)."""


def masked(payload: bytes, key: bytes) -> bytes:
    """XOR with the mask key at C speed, through one big integer."""
    if not payload:
        return b""
    size = len(payload)
    stream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")


def frame(opcode: int, payload: bytes | str, fin: bool = True) -> bytes:
    """One client frame, masked as RFC 6455 requires of clients."""
    if isinstance(payload, str):
        payload = payload.encode()
    size = len(payload)
    head = bytearray([(0x80 if fin else 0) | opcode])
    if size < 126:
        head.append(0x80 | size)
    elif size < 65536:
        head.append(0x80 | 126)
        head += size.to_bytes(2, "big")
    else:
        head.append(0x80 | 127)
        head += size.to_bytes(8, "big")
    key = os.urandom(4)
    return bytes(head) + key + masked(payload, key)


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def open_tcp(port: int, source: str, rcvbuf: int | None = None):
    """A connection to the server from `source`, as asyncio streams."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((source, 0))
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, (SERVER, port)), STEP_TIMEOUT)
        return await asyncio.open_connection(sock=sock, limit=16 * 1024 * 1024)
    except BaseException:
        sock.close()
        raise


class WebSocket:
    """A raw client WebSocket carrying Engine.IO v4 packets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, source: str, rcvbuf: int | None = None) -> WebSocket:
        try:
            reader, writer = await open_tcp(port, source, rcvbuf)
        except (OSError, TimeoutError) as error:
            raise Refused(f"connect: {error!r}") from None
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {ENGINEIO_PATH} HTTP/1.1\r\nHost: {SERVER}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STEP_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            writer.close()
            raise Refused(f"upgrade: {error!r}") from None
        status = head.split(b" ", 2)[1]
        if status != b"101":
            writer.close()
            raise Refused(f"HTTP {status.decode()}")
        return cls(reader, writer)

    async def send(self, data: bytes | str, opcode: int = TEXT_OP) -> None:
        await self.write(frame(opcode, data))

    async def write(self, raw: bytes, timeout: float = STEP_TIMEOUT) -> None:
        """Raises TimeoutError when the server takes no more for `timeout` seconds."""
        try:
            self.writer.write(raw)
            await asyncio.wait_for(self.writer.drain(), timeout)
        except TimeoutError:
            raise
        except (OSError, RuntimeError) as error:
            raise Closed(repr(error)) from None

    async def receive(self) -> str | bytes:
        """The next data message; answers pings; raises Closed when the server closes."""
        parts: list[bytes] = []
        first = TEXT_OP
        while True:
            try:
                b0, b1 = await self.reader.readexactly(2)
                size = b1 & 0x7F
                if size == 126:
                    size = int.from_bytes(await self.reader.readexactly(2), "big")
                elif size == 127:
                    size = int.from_bytes(await self.reader.readexactly(8), "big")
                key = await self.reader.readexactly(4) if b1 & 0x80 else b""
                payload = await self.reader.readexactly(size)
            except (OSError, asyncio.IncompleteReadError) as error:
                raise Closed(repr(error)) from None
            if key:
                payload = masked(payload, key)
            opcode = b0 & 0x0F
            if opcode == CLOSE_OP:
                raise Closed("close frame")
            if opcode == PING_OP:
                with contextlib.suppress(TimeoutError):
                    await self.send(payload, PONG_OP)
                continue
            if opcode == PONG_OP:
                continue
            if opcode != CONTINUATION_OP:
                first = opcode
            parts.append(payload)
            if b0 & 0x80:
                data = b"".join(parts)
                return data.decode() if first == TEXT_OP else data

    async def packet(self) -> str:
        """The next Engine.IO text packet, heartbeats answered, binary skipped."""
        while True:
            data = await self.receive()
            if isinstance(data, bytes):
                continue
            if data == "2":
                with contextlib.suppress(TimeoutError):
                    await self.send("3")  # a stalled write is no reason to stop reading
                continue
            if data.startswith("1") or data.startswith("41"):
                raise Closed(f"engine.io/socket.io close {data[:20]!r}")
            return data

    async def connect_namespace(self) -> None:
        """Reads the open packet, connects the default namespace."""
        opened = await asyncio.wait_for(self.packet(), STEP_TIMEOUT)
        if not opened.startswith("0{"):
            raise Refused(f"open packet {opened[:40]!r}")
        await self.send("40")
        while True:
            answer = await asyncio.wait_for(self.packet(), STEP_TIMEOUT)
            if answer.startswith("40"):
                return
            if answer.startswith("44"):
                raise Refused(f"namespace refused {answer[:80]!r}")

    async def call(self, ack_id: int, event: str, data) -> list:
        """Emits with an ack id and reads until that ack (other packets are dropped)."""
        await self.send(f"42{ack_id}" + json.dumps([event, data]))
        prefix = f"43{ack_id}["
        while True:
            answer = await asyncio.wait_for(self.packet(), STEP_TIMEOUT * 2)
            if answer.startswith(prefix):
                return json.loads(answer[len(prefix) - 1:])

    async def drain_reads(self) -> None:
        """Reads and drops everything until the server closes (raises Closed).

        Raw chunks, not frames, so that reading a flood of answers costs the
        attacker little; an Engine.IO ping (a 1-byte text frame "2") is answered.
        """
        while True:
            try:
                chunk = await self.reader.read(1 << 16)
            except OSError as error:
                raise Closed(repr(error)) from None
            if not chunk:
                raise Closed("EOF")
            if b"\x81\x012" in chunk:
                await self.send("3")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


# ---------------------------------------------------------------- the attacker


@dataclass
class AttackStats:
    """What the attacker did and what the server did to it."""
    opened: int = 0
    refused: int = 0
    cut: int = 0
    open_at_end: int = 0
    bytes_sent: int = 0
    units: int = 0
    unit: str = "frames"
    acks_ok: int = 0
    acks_refused: int = 0
    held_back_seconds: float = 0.0
    note: str = ""


class Attacker:
    """The clock and the counters one attack shares between its connections."""

    def __init__(self, port: int, seconds: float, database: str | None, rooms: int):
        self.port = port
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.database = database
        self.rooms = rooms
        self.stats = AttackStats()

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def address(self, index: int = 0) -> str:
        return f"127.0.0.{2 + index}"

    async def write(self, ws: WebSocket, raw: bytes, units: int = 1) -> None:
        """Sends, waiting as long as the server makes it wait (up to the deadline)."""
        began = time.monotonic()
        try:
            await ws.write(raw, timeout=max(self.left(), 0.1))
        except TimeoutError:
            return  # held back until the end: counted below, not as a cut
        finally:
            waited = time.monotonic() - began
            if waited > 0.5:
                self.stats.held_back_seconds += waited
        self.stats.bytes_sent += len(raw)
        self.stats.units += units

    async def persist(self, session: Callable[[WebSocket], Awaitable[None]], connections: int = 1,
                      reader: Callable[[WebSocket], Awaitable[None]] | None = WebSocket.drain_reads,
                      rcvbuf: int | None = None,
                      setup: Callable[[WebSocket], Awaitable[None]] | None = None) -> None:
        """`connections` workers, each reconnecting whenever the server cuts it, until the end.

        On each connection: the namespace, then `setup` (e.g. a join), then
        `session` while `reader` reads what the server sends (None: never read).
        A connection that lasts to the deadline counts as open at the end.
        """
        async def worker() -> None:
            while self.running():
                try:
                    ws = await WebSocket.open(self.port, self.address(), rcvbuf)
                    await ws.connect_namespace()
                    if setup is not None:
                        await setup(ws)
                except (Refused, Closed, TimeoutError):
                    self.stats.refused += 1
                    await asyncio.sleep(min(0.5, self.left()))
                    continue
                self.stats.opened += 1
                tasks = [asyncio.ensure_future(session(ws))]
                if reader is not None:
                    tasks.append(asyncio.ensure_future(reader(ws)))
                done, pending = await asyncio.wait(tasks, timeout=self.left() + 0.5,
                                                   return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                ws.close()
                failures = [task.exception() for task in done if task.exception()]
                if not self.running() and not any(isinstance(f, Closed) for f in failures):
                    self.stats.open_at_end += 1
                    return
                if any(isinstance(failure, Refused) for failure in failures):
                    self.stats.refused += 1
                elif any(isinstance(failure, (Closed, TimeoutError)) for failure in failures):
                    self.stats.cut += 1
                elif failures:
                    raise failures[0]
                await asyncio.sleep(min(0.1, self.left()))

        await asyncio.gather(*(worker() for _ in range(connections)))

    async def join(self, ws: WebSocket, name: str, room: str, **extra) -> None:
        answer = await ws.call(0, "join", {"name": name, "room": room, **extra})
        if answer[0] is not None:
            raise Refused(f"join refused: {answer[0]}")


async def unfinished_fragments(attacker: Attacker) -> None:
    """A text message begun with FIN=0 and continued in 16 KiB fragments that never end."""
    attacker.stats.unit = "fragments"
    continuation = frame(CONTINUATION_OP, b"a" * 16384, fin=False)

    async def session(ws: WebSocket) -> None:
        await attacker.write(ws, frame(TEXT_OP, b'42["x","', fin=False))
        while attacker.running():
            await attacker.write(ws, continuation * 16, units=16)

    await attacker.persist(session)


async def big_frames(attacker: Attacker) -> None:
    """Whole 60 KB text frames (an event no one handles) in a loop."""
    packet = frame(TEXT_OP, '42["noise","' + "a" * 60000 + '"]')

    async def session(ws: WebSocket) -> None:
        while attacker.running():
            await attacker.write(ws, packet)

    await attacker.persist(session)


async def ping_flood(attacker: Attacker) -> None:
    """WebSocket ping frames of 6 bytes each (no payload), a thousand per write."""
    batch = frame(PING_OP, b"") * 1000

    async def session(ws: WebSocket) -> None:
        while attacker.running():
            await attacker.write(ws, batch, units=1000)

    await attacker.persist(session)


async def cache_flood(attacker: Attacker) -> None:
    """`GET /messages` with a junk second `roomname` and a junk Origin, on 8 keep-alive links."""
    attacker.stats.unit = "requests"

    async def link() -> None:
        while attacker.running():
            try:
                reader, writer = await open_tcp(attacker.port, attacker.address())
            except (OSError, TimeoutError):
                attacker.stats.refused += 1
                await asyncio.sleep(min(0.5, attacker.left()))
                continue
            attacker.stats.opened += 1
            try:
                while attacker.running():
                    junk = os.urandom(3000).hex()
                    request = (f"GET /messages?roomname=lobby&roomname={junk}&limit=1 HTTP/1.1\r\n"
                               f"Host: {SERVER}\r\nOrigin: http://{junk[:2000]}.example\r\n\r\n")
                    writer.write(request.encode())
                    await asyncio.wait_for(writer.drain(), STEP_TIMEOUT)
                    attacker.stats.bytes_sent += len(request)
                    attacker.stats.units += 1
                    await asyncio.wait_for(read_http_answer(reader), STEP_TIMEOUT)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                if attacker.running():
                    attacker.stats.cut += 1
                continue
            finally:
                writer.close()
            attacker.stats.open_at_end += 1

    await asyncio.gather(*(link() for _ in range(8)))


async def replay_hoarder(attacker: Attacker) -> None:
    """`join` with `since: 0` into the seeded room every 20 ms, never reading an answer."""
    attacker.stats.unit = "joins"
    join = frame(TEXT_OP, '421["join",{"name":"hoarder","room":"archive","since":0}]')

    async def session(ws: WebSocket) -> None:
        while attacker.running():
            await attacker.write(ws, join)
            await asyncio.sleep(0.02)

    await attacker.persist(session, reader=None, rcvbuf=4096)


async def slow_headers(attacker: Attacker) -> None:
    """1,000 requests from 8 addresses, each sending one header byte a second, never finished."""
    attacker.stats.unit = "header bytes"
    raise_open_files()

    async def dribble(index: int) -> None:
        try:
            reader, writer = await open_tcp(attacker.port, attacker.address(index % 8))
        except (OSError, TimeoutError):
            attacker.stats.refused += 1
            return
        attacker.stats.opened += 1
        answered = asyncio.ensure_future(reader.read(1024))
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            while attacker.running():
                await asyncio.wait([answered], timeout=min(1.0, attacker.left()))
                if answered.done():
                    attacker.stats.cut += 1  # an answer (503, 408) or EOF: the slot is free
                    return
                writer.write(b"a")
                attacker.stats.bytes_sent += 1
                attacker.stats.units += 1
            attacker.stats.open_at_end += 1
        except OSError:
            attacker.stats.cut += 1
        finally:
            answered.cancel()
            writer.close()

    await asyncio.gather(*(dribble(index) for index in range(1000)))


async def binary_attachments(attacker: Attacker) -> None:
    """A packet announcing 1,000,000 binary attachments, then 60 KB binary frames, 4 links."""
    announce = frame(TEXT_OP, '451000000-["noise",{"_placeholder":true,"num":0}]')
    attachment = frame(BINARY_OP, os.urandom(60000))

    async def session(ws: WebSocket) -> None:
        await attacker.write(ws, announce)
        while attacker.running():
            await attacker.write(ws, attachment)

    await attacker.persist(session, connections=4)


async def held_write_lock(attacker: Attacker) -> None:
    """Another process holds SQLite's write lock all along; 20 writers keep sending."""
    attacker.stats.unit = "sends"
    if not attacker.database:
        raise SystemExit("held_write_lock needs --database (a SQLite file)")
    held = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(attacker.database, timeout=STEP_TIMEOUT, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(attacker.left())
        db.execute("ROLLBACK")
        db.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    await asyncio.get_running_loop().run_in_executor(None, held.wait, STEP_TIMEOUT)
    attacker.stats.note = "lock held" if held.is_set() else "lock NOT taken"
    await sending_writers(attacker, "locked", 20, every=0.5)
    holder.join(STEP_TIMEOUT)


async def sending_writers(attacker: Attacker, room: str, connections: int, every: float) -> None:
    """Connections that join `room` and send a message each `every` seconds, counting acks."""
    async def join(ws: WebSocket) -> None:
        await attacker.join(ws, f"w{random.randrange(10**9)}", room)

    async def session(ws: WebSocket) -> None:
        for ack_id in range(1, 10**9):
            if not attacker.running():
                return
            await attacker.write(ws, frame(TEXT_OP, f'42{ack_id}["sendMessage","w {ack_id}"]'))
            await asyncio.sleep(every)

    async def counting_reads(ws: WebSocket) -> None:
        while True:
            packet = await ws.packet()
            if packet.startswith("43"):
                answer = json.loads(packet[packet.index("["):])
                if answer[0] is None:
                    attacker.stats.acks_ok += 1
                else:
                    attacker.stats.acks_refused += 1

    await attacker.persist(session, connections=connections, reader=counting_reads, setup=join)


async def room_flipping(attacker: Attacker) -> None:
    """One link joins the ordinary clients' rooms in turn as fast as it can; one floods typing."""
    attacker.stats.unit = "joins and typings"
    rooms = [f"room-{index}" for index in range(attacker.rooms)]

    async def flip(ws: WebSocket) -> None:
        for turn in range(10**9):
            if not attacker.running():
                return
            payload = json.dumps(["join", {"name": "flipper", "room": rooms[turn % len(rooms)]}])
            await attacker.write(ws, frame(TEXT_OP, f"42{turn}{payload}"))

    async def typist(ws: WebSocket) -> None:
        await attacker.join(ws, "typist", rooms[0])

    async def typing(ws: WebSocket) -> None:
        batch = (frame(TEXT_OP, '42["typing",true]') + frame(TEXT_OP, '42["typing",false]')) * 50
        while attacker.running():
            await attacker.write(ws, batch, units=100)

    await asyncio.gather(attacker.persist(flip), attacker.persist(typing, setup=typist))


async def send_flood(attacker: Attacker) -> None:
    """`sendMessage` as fast as the socket takes it, into an ordinary client's room."""
    attacker.stats.unit = "sends"

    async def flooder(ws: WebSocket) -> None:
        await attacker.join(ws, "flooder", "room-0")

    async def session(ws: WebSocket) -> None:
        for ack_id in range(1, 10**9):
            if not attacker.running():
                return
            await attacker.write(ws, frame(TEXT_OP, f'42{ack_id}["sendMessage","flood {ack_id}"]'))

    await attacker.persist(session, setup=flooder)


async def no_attack(attacker: Attacker) -> None:
    """The baseline: the ordinary clients alone."""
    attacker.stats.note = "no attacker"
    await asyncio.sleep(attacker.left())


ATTACKS: dict[str, Callable[[Attacker], Awaitable[None]]] = {
    "baseline": no_attack,
    "fragments": unfinished_fragments,
    "big-frames": big_frames,
    "pings": ping_flood,
    "cache": cache_flood,
    "replay": replay_hoarder,
    "slowloris": slow_headers,
    "binary": binary_attachments,
    "sqlite-lock": held_write_lock,
    "flipping": room_flipping,
    "send-flood": send_flood,
}


async def run_attacker(name: str, port: int, seconds: float, database: str | None,
                       rooms: int) -> AttackStats:
    attacker = Attacker(port, seconds, database, rooms)
    try:
        await asyncio.wait_for(ATTACKS[name](attacker), seconds + STEP_TIMEOUT * 3)
    except TimeoutError:
        attacker.stats.note += " (stopped by its own timeout)"
    return attacker.stats


# ------------------------------------------------------ the ordinary clients


async def read_http_answer(reader: asyncio.StreamReader) -> int:
    """Reads one HTTP/1.1 answer with a Content-Length (or until EOF); returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        field, _, value = line.partition(b":")
        if field.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        await reader.read()
    else:
        await reader.readexactly(length)
    return status


async def http_request(port: int, source: str, request: bytes) -> int:
    """One request on a fresh connection (Connection: close); its status."""
    reader, writer = await open_tcp(port, source)
    try:
        writer.write(request)
        await writer.drain()
        return await read_http_answer(reader)
    finally:
        writer.close()


class Ordinary:
    """A chat user: joins a room, sends a message every 2 s, times its own message's return."""

    def __init__(self, index: int, room: str):
        self.name = f"o{index:04d}"
        self.room = room
        self.ws: WebSocket | None = None
        self.sent: dict[str, float] = {}
        self.round_trips: list[tuple[float, float]] = []  # (sent at, seconds)
        self.ack_ids: dict[int, str] = {}
        self.refused = 0
        self.dropped_at: float | None = None
        self.closing = False

    async def connect(self, port: int) -> None:
        self.ws = await WebSocket.open(port, ORDINARY_ADDRESS)
        await self.ws.connect_namespace()
        answer = await self.ws.call(0, "join", {"name": self.name, "room": self.room})
        if answer[0] is not None:
            raise Refused(f"join refused: {answer[0]}")

    async def read(self) -> None:
        try:
            while True:
                packet = await self.ws.packet()
                if packet.startswith("42[") and self.name in packet:
                    event, *args = json.loads(packet[2:])
                    if event == "message" and args[0].get("user") == self.name:
                        sent_at = self.sent.pop(args[0].get("text"), None)
                        if sent_at is not None:
                            self.round_trips.append((sent_at, time.monotonic() - sent_at))
                elif packet.startswith("43"):
                    ack_id = int(packet[2:packet.index("[")])
                    error = json.loads(packet[packet.index("["):])[0]
                    tag = self.ack_ids.pop(ack_id, None)
                    if error is not None and tag is not None:
                        self.refused += 1
                        self.sent.pop(tag, None)
        except (Closed, ValueError, IndexError, KeyError, AttributeError):
            if not self.closing:
                self.dropped_at = time.monotonic()

    async def send_every(self, until: float) -> None:
        await asyncio.sleep(random.uniform(0, SEND_EVERY))
        for number in range(1, 10**9):
            if time.monotonic() >= until or self.dropped_at is not None:
                return
            tag = f"{self.name}:{number}"
            self.sent[tag] = time.monotonic()
            self.ack_ids[number] = tag
            try:
                await self.ws.send(f'42{number}["sendMessage",{{"text":"{tag}"}}]')
            except (Closed, TimeoutError):
                pass  # the reader notices a closed connection; a stalled write stays pending
            await asyncio.sleep(SEND_EVERY)


async def probe_healthz(port: int, start: float, until: float) -> tuple[list[float], int]:
    """`/healthz` every 50 ms on a fresh connection, one at a time.

    Latencies are counted from when a probe was due: the probes that fell due
    while a slow one was waiting are counted until its answer, so a stall weighs
    by its length, not as one sample (no coordinated omission); a timeout counts
    as its full wait. Returns the latencies (s) and how many answers were not 200.
    """
    request = f"GET /healthz HTTP/1.1\r\nHost: {SERVER}\r\nConnection: close\r\n\r\n".encode()
    latencies: list[float] = []
    failures = 0
    due = start
    while due < until:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        try:
            status = await asyncio.wait_for(http_request(port, ORDINARY_ADDRESS, request),
                                            STEP_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            status = 0
        done = time.monotonic()
        failures += status != 200
        while due <= done and due < until:
            latencies.append(done - due)
            due += HEALTHZ_EVERY
    return latencies, failures


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def sample_rss(pid: int, samples: list[tuple[float, float | None]], stop: asyncio.Event):
    while not stop.is_set():
        samples.append((time.monotonic(), rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def seed_archive(port: int, messages: int) -> int:
    """Stores `messages` of 2,000 Korean characters in the room "archive" over REST.

    Posts rotate over 127.0.1.x, so a per-address REST limit slows the seeding
    without stopping it; a 429 waits a moment and tries the next address.
    """
    text = ("가나다라마바사아자차카타파하" * 143)[:2000]
    body = json.dumps({"username": "archivist", "text": text, "roomname": "archive"}).encode()
    stored, attempt = 0, 0
    deadline = time.monotonic() + 60
    while stored < messages and time.monotonic() < deadline:
        attempt += 1
        request = (f"POST /messages HTTP/1.1\r\nHost: {SERVER}\r\nConnection: close\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
        try:
            status = await asyncio.wait_for(
                http_request(port, f"127.0.1.{1 + attempt % 250}", request), STEP_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            status = 0
        if status == 201:
            stored += 1
        else:
            await asyncio.sleep(0.05)
    return stored


def p99_ms(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return f"{ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] * 1000:.0f}"


def describe(stats: dict) -> str:
    """The attacker's outcome in a few words."""
    if stats.get("error"):
        return stats["error"]
    if stats.get("note") == "no attacker":
        return "–"
    parts = []
    if stats["opened"]:
        parts.append(f"{stats['open_at_end']} of {stats['opened']} connections open at the end")
    if stats["cut"]:
        parts.append(f"cut {stats['cut']}×")
    if stats["refused"]:
        parts.append(f"refused {stats['refused']}×")
    parts.append(f"{stats['units']:,} {stats['unit']} ({stats['bytes_sent'] / 2**20:.1f} MB)")
    if stats["acks_ok"] or stats["acks_refused"]:
        parts.append(f"acks {stats['acks_ok']} ok, {stats['acks_refused']} refused")
    if stats["held_back_seconds"] >= 1:
        parts.append(f"its writes waited {stats['held_back_seconds']:.0f} s in all")
    if stats["note"]:
        parts.append(stats["note"])
    return "; ".join(parts)


async def measure(args) -> str:
    rooms = max(1, math.ceil(args.clients / CLIENTS_PER_ROOM))
    seeded = ""
    if args.attack == "replay":
        stored = await seed_archive(args.port, args.seed)
        seeded = f" ({stored} large messages seeded)"
    clients = [Ordinary(index, f"room-{index % rooms}") for index in range(args.clients)]
    connecting = asyncio.Semaphore(20)

    async def connect(client: Ordinary) -> bool:
        async with connecting:
            try:
                await asyncio.wait_for(client.connect(args.port), STEP_TIMEOUT * 3)
                return True
            except (Refused, Closed, TimeoutError, OSError) as error:
                print(f"{client.name} could not join: {error}", file=sys.stderr)
                return False

    joined = await asyncio.gather(*(connect(client) for client in clients))
    clients = [client for client, ok in zip(clients, joined, strict=True) if ok]
    readers = [asyncio.ensure_future(client.read()) for client in clients]

    start = time.monotonic() + WARM_UP
    until = start + args.seconds
    senders = [asyncio.ensure_future(client.send_every(until)) for client in clients]
    probing = asyncio.ensure_future(probe_healthz(args.port, start, until))
    samples: list[tuple[float, float | None]] = []
    stop_sampling = asyncio.Event()
    sampling = asyncio.ensure_future(sample_rss(args.pid, samples, stop_sampling))

    await asyncio.sleep(WARM_UP)
    rss_before = rss_mb(args.pid)
    dropped_before = sum(client.dropped_at is not None for client in clients)
    command = [sys.executable, __file__, "attack", args.attack, "--port", str(args.port),
               "--seconds", str(args.seconds), "--rooms", str(rooms)]
    if args.database:
        command += ["--database", args.database]
    attacker = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        output, _ = await asyncio.wait_for(attacker.communicate(), args.seconds + 30)
        stats = json.loads(output.decode().strip().splitlines()[-1])
    except (TimeoutError, ValueError, IndexError) as error:
        with contextlib.suppress(ProcessLookupError):
            attacker.kill()
        stats = {"error": f"attacker failed: {error!r}"}

    await asyncio.gather(*senders)
    await asyncio.sleep(GRACE)
    latencies, healthz_failures = await asyncio.wait_for(probing, STEP_TIMEOUT * 2)
    stop_sampling.set()
    await sampling
    end = time.monotonic()
    for client in clients:
        client.closing = True
        if client.ws:
            client.ws.close()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    in_window = [seconds for client in clients for sent_at, seconds in client.round_trips
                 if start <= sent_at < until]
    lost = [end - sent_at for client in clients for sent_at in client.sent.values()
            if start <= sent_at < until]
    refused = sum(client.refused for client in clients)
    dropped = sum(client.dropped_at is not None for client in clients) - dropped_before
    peaks = [rss for moment, rss in samples if moment >= start and rss is not None]
    alive = rss_mb(args.pid) is not None
    growth = f"{max(peaks) - rss_before:.0f}" if peaks and rss_before else "–"
    sends = f"{len(in_window) + len(lost)}"
    if lost or refused:
        sends += f" ({len(lost)} unanswered, {refused} refused)"
    outcome = describe(stats) + ("" if alive else "; THE SERVER EXITED")
    not_joined = args.clients - len(clients)
    dropped_text = f"{dropped}" + (f" ({not_joined} never joined)" if not_joined else "")
    healthz = p99_ms(latencies) + (f" ({healthz_failures} failed)" if healthz_failures else "")
    return (f"| {args.attack}{seeded} | {p99_ms(in_window + lost)} | {sends} | {healthz} "
            f"| {growth} | {dropped_text} | {outcome} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["run", "attack"])
    parser.add_argument("attack", choices=sorted(ATTACKS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database", help="the server's SQLite file (for sqlite-lock)")
    parser.add_argument("--rooms", type=int, default=10, help="the ordinary clients' rooms")
    parser.add_argument("--pid", type=int, help="the server process (run)")
    parser.add_argument("--clients", type=int, default=200, help="ordinary clients (run)")
    parser.add_argument("--seed", type=int, default=500,
                        help="large messages stored before the replay attack (run)")
    args = parser.parse_args()
    if args.role == "attack":
        stats = asyncio.run(run_attacker(args.attack, args.port, args.seconds, args.database,
                                         args.rooms))
        print(json.dumps(asdict(stats)))
    else:
        raise_open_files()
        print(asyncio.run(measure(args)), flush=True)


if __name__ == "__main__":
    main()
