"""A small TCP proxy of the tests' own, in front of a real server, to make the network fail.

`FaultProxy(port)` listens on a free loopback port and forwards every connection to
127.0.0.1:`port`, one thread per direction. While it runs, a test can:

- `latency(ms)`: hold every chunk that long before it is forwarded (a slow link);
- `cut(reset=True)`: end every current connection, with a TCP RST (or a FIN);
- `blackhole()`: keep every connection open but forward nothing and answer nothing,
  either way, as a phone that walked out of coverage does (new connections hang too);
- `restore()`: no latency, no black hole.

Everything is bounded: at most `max_connections` at once, threads are daemons, and
`close()` (which the fixture calls at teardown) ends them all.
"""
from __future__ import annotations

import select
import socket
import struct
import threading
import time

CHUNK = 65536


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1",
                 max_connections: int = 64) -> None:
        self.target = (target_host, target_port)
        self.max_connections = max_connections
        self._latency = 0.0
        self._blackholed = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True,
                                          name=f"faultproxy-{self.port}")]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    # Controls -------------------------------------------------------------------

    def latency(self, ms: float) -> None:
        """Forward every chunk `ms` milliseconds late, both ways."""
        self._latency = ms / 1000.0

    def blackhole(self) -> None:
        """Keep connections open but drop every byte, both ways, until `restore()`."""
        self._blackholed.set()

    def restore(self) -> None:
        """A healthy link again: no latency, bytes flow (what was dropped stays dropped)."""
        self._latency = 0.0
        self._blackholed.clear()

    def cut(self, reset: bool = True) -> int:
        """End every current connection, both sides, with an RST (or a plain close)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _close(sock, reset)
        return len(pairs)

    def close(self) -> None:
        self._closed.set()
        self.cut(reset=False)
        self._listener.close()
        for thread in self._threads:
            thread.join(2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Plumbing -------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                full = len(self._pairs) >= self.max_connections
            if full:
                _close(client, reset=True)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client, reset=True)
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(src, dst, (client, upstream)),
                                          daemon=True)
                thread.start()
                self._threads.append(thread)
            self._threads = [t for t in self._threads if t.is_alive()]

    def _pump(self, src: socket.socket, dst: socket.socket, pair) -> None:
        try:
            while not self._closed.is_set():
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = src.recv(CHUNK)
                if not data and self._blackholed.is_set():
                    return  # a dead link carries no FIN either: the other side stays open
                if not data:
                    break
                if self._latency:
                    time.sleep(self._latency)
                if self._blackholed.is_set():
                    continue  # swallowed: the other side never hears of it
                dst.sendall(data)
        except (OSError, ValueError):
            if self._blackholed.is_set():
                return  # nor an RST
        finally:
            self._forget(pair)

    def _forget(self, pair) -> None:
        with self._lock:
            if pair not in self._pairs:
                return  # cut() already closed it
            self._pairs.remove(pair)
        for sock in pair:
            _close(sock, reset=False)


def _close(sock: socket.socket, reset: bool) -> None:
    try:
        if reset:  # SO_LINGER 0: close() sends an RST instead of a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
