"""Connections that outlive their task: what lets an upgraded WebSocket park.

eventlet's server links its end-of-connection work (shutdown, close, forget) to
the task that the pool's `spawn` returns, and its HTTP handler closes the socket
in `finish` when the task's request ends. A parked WebSocket (parked_websockets)
lives on after its task, so here `spawn` returns a `Connection` that ends when
the task ends unless it was kept open, and `finish` then leaves the socket be.

Upstream: `eventlet.greenpool.GreenPool.spawn` (the object it returns is used
only through `link`) and `eventlet.wsgi.HttpProtocol.finish`.
"""
from __future__ import annotations

import logging
import socketserver

import greenlet

from ..serving import ConnectionPool, LeanHttpProtocol

log = logging.getLogger(__name__)


class Connection:
    """One accepted connection. It ends when its task ends, unless the task kept it
    open for a WebSocket that lives on without a task (parked_websockets), which
    then ends it itself."""

    __slots__ = ("_at_end", "kept")

    def __init__(self, task) -> None:
        self._at_end: list = []
        self.kept = False
        task.link(self._task_ended)

    def link(self, function, *args) -> None:
        """Run `function(self, *args)` when the connection ends (GreenThread's API)."""
        self._at_end.append((function, args))

    def keep_open(self) -> None:
        """Keep the connection after its task ends; whoever keeps it calls `end`."""
        self.kept = True

    def _task_ended(self, _task) -> None:
        if not self.kept:
            self.end()

    def end(self) -> None:
        at_end, self._at_end = self._at_end, []
        for function, args in at_end:
            try:
                function(self, *args)
            except Exception:  # the rest must still run: the slot, the count
                log.exception("ending a connection failed")


def current_connection() -> Connection | None:
    """The connection the running task serves, if `ParkingConnectionPool` started it."""
    return getattr(greenlet.getcurrent(), "comongus_connection", None)


class ParkingConnectionPool(ConnectionPool):
    """serving.ConnectionPool whose connections may outlive their task."""

    def track(self, task, address: str):
        task.comongus_connection = connection = Connection(task)
        connection.link(self._release, address)
        return connection


class ParkingHttpProtocol(LeanHttpProtocol):
    """serving.LeanHttpProtocol that leaves a kept connection's socket open."""

    def finish(self) -> None:
        """Close the socket, unless a parked WebSocket kept it: then only the buffers."""
        connection = current_connection()
        if connection is None or not connection.kept:
            super().finish()
            return
        try:
            socketserver.StreamRequestHandler.finish(self)
        except OSError:
            pass  # the WebSocket meets a broken socket itself
