"""What one `send` to one of 1,000 loopback TCP sockets costs, by what the receiver is doing.

A broadcast to 1,000 WebSockets is 1,000 `send` system calls, and on loopback
each one also runs the receiver's side of TCP and, if the receiving process
sleeps in `epoll_wait`, wakes it. This prints the cost per `send` (microseconds,
median and 90th percentile of 40 rounds) with a receiver that sleeps between
reads (as the load generator does with ComongUS's light traffic) and with one
that never sleeps (as it does parsing the seed's `roomData`).

    .venv/bin/python benchmarks/loopback_send_cost.py
"""
from __future__ import annotations

import multiprocessing
import selectors
import socket
import time

SOCKETS = 1000
ROUNDS = 40
FRAME = b"\x81\x64" + b"x" * 100  # a 100-byte WebSocket text frame


def receive(port: int, busy: bool, listening, seconds: float = 30) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(SOCKETS)
    listening.set()
    selector = selectors.EpollSelector()
    for _ in range(SOCKETS):
        connection, _ = server.accept()
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0 if busy else 1):
            try:
                key.fileobj.recv(65536)
            except BlockingIOError:
                pass


def cost_per_send(busy: bool, port: int) -> tuple[float, float]:
    listening = multiprocessing.Event()
    receiver = multiprocessing.Process(target=receive, args=(port, busy, listening))
    receiver.start()
    listening.wait()
    sockets = []
    for _ in range(SOCKETS):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.setblocking(False)
        sockets.append(connection)
    time.sleep(1)
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for connection in sockets:
            connection.send(FRAME)
        rounds.append((time.perf_counter() - started) / SOCKETS * 1e6)
        time.sleep(0.1)  # messages apart, as in a chat
    receiver.terminate()
    for connection in sockets:
        connection.close()
    rounds.sort()
    return rounds[len(rounds) // 2], rounds[len(rounds) * 9 // 10]


def main() -> None:
    for attempt in range(2):
        for busy in (False, True):
            median, p90 = cost_per_send(busy, 7100 + 2 * attempt + busy)
            receiver = "busy  " if busy else "asleep"
            print(f"receiver {receiver}: {median:5.1f} µs per send (p90 {p90:5.1f})")


if __name__ == "__main__":
    main()
