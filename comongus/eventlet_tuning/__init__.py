"""The eventlet tuning: every hook into a private part of eventlet or python-engineio.

`create_app` builds a stock Flask-SocketIO app, every limit kept through public
edges. `python app.py` then calls `install(app)` once, before serving; nothing
else does. The hooks make the same app faster and lighter on eventlet
(docs/architecture.md has each with why, its measured gain, the upstream
function it replaces and the invariants it keeps):

- fair_websockets: WebSocket frames read a slice at a time and unmasked in C,
  in place of websocket_guard's watch under eventlet's own reader;
- send_queues: a send queue that wakes writers in one batch, writes to an idle
  WebSocket directly and frames a broadcast packet once, and pings on hub
  timers (each ping checked when its answer is due), in place of the stock
  ping sweep (limits.close_silent_sessions);
- parked_websockets and connections: an idle upgraded WebSocket holds no task.

Guarded: it installs only where eventlet serves, the installed eventlet and
python-engineio are the releases it was written for and every private name it
uses is there (upstream.what_differs). Otherwise, or with COMONGUS_TUNING=off,
the server runs stock, after one log line that says why.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

from flask import Flask

from ..extensions import socketio
from ..limits import SilentSessionSweep
from ..websocket_guard import GuardWebSocketReads, RefuseWebSocketCompression
from .upstream import what_differs

log = logging.getLogger(__name__)


class Tuning(NamedTuple):
    """What serving.serve runs with when the tuning is installed."""

    connection_pool: type
    http_protocol: type


def wsgi_layers(app: Flask):
    """The app's WSGI middlewares, outermost first (each keeps the next as `app`,
    `wsgi_app` or `__wrapped__`)."""
    layer = app.wsgi_app
    while layer is not None:
        yield layer
        layer = next((getattr(layer, name) for name in ("app", "wsgi_app", "__wrapped__")
                      if callable(getattr(layer, name, None))), None)


def install(app: Flask) -> Tuning | None:
    """Install the hooks on `app`'s Socket.IO server; None (and stock) if they must not."""
    if not app.config["TUNING"]:
        log.info("eventlet tuning off (COMONGUS_TUNING): serving stock")
        return None
    eio = socketio.server.eio
    if eio.async_mode != "eventlet":
        log.warning("eventlet tuning not installed, serving stock: async mode is %s",
                    eio.async_mode)
        return None
    differs = what_differs(eio)
    if differs is not None:
        log.warning("eventlet tuning not installed, serving stock: %s", differs)
        return None
    layers = list(wsgi_layers(app))
    frames_shareable = any(isinstance(layer, RefuseWebSocketCompression) for layer in layers)
    if not frames_shareable:
        log.warning("WebSocket compression is not refused: each recipient's frame is "
                    "made for it (no shared frames)")

    from .connections import ParkingConnectionPool, ParkingHttpProtocol
    from .fair_websockets import read_websockets_fairly
    from .send_queues import lighten_sessions

    # Order matters: the fair reader is the innermost WebSocket wrapper, so that
    # every reader reads through it; lighten_sessions is the outermost one, and
    # the outermost `send_packet` (after limits.cut_slow_consumers).
    read_websockets_fairly(eio, app.config["SOCKET_READ_BYTES_PER_SECOND"])
    lighten_sessions(eio, share_frames=frames_shareable)
    for layer in layers:
        if isinstance(layer, GuardWebSocketReads):
            layer.active = False  # the fair reader enforces the same limits
    for extension in app.extensions.values():
        if isinstance(extension, SilentSessionSweep):
            extension.active = False  # each ping has its timer
    log.info("eventlet tuning installed")
    return Tuning(ParkingConnectionPool, ParkingHttpProtocol)
