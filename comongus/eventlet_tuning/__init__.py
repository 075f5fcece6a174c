"""The eventlet tuning: every hook into a private part of eventlet, python-engineio or
python-socketio.

`create_app` builds a stock Flask-SocketIO app, every limit kept through public
edges. `python app.py` then calls `install(app)` once, before serving; nothing
else does. The hooks make the same app faster and lighter on eventlet
(docs/architecture.md has each with why, its measured gain, the upstream
function it replaces and the invariants it keeps):

- fair_websockets: WebSocket frames read a slice at a time and unmasked in C,
  in place of websocket_guard's watch under eventlet's own reader;
- send_queues: a send queue that wakes writers in one batch and writes to an
  idle WebSocket directly, and pings in rounds on shared hub timers (each ping
  checked when its answer is due), in place of the stock ping sweep
  (limits.close_silent_sessions);
- parked_websockets and connections: an idle upgraded WebSocket holds no task;
- room_index: python-socketio's manager keeps each socket's rooms, so a
  disconnect no longer searches every room.

Guarded: it installs only where eventlet serves, the installed eventlet,
python-engineio and python-socketio are the releases it was written for and
every private name it uses is there (upstream.what_differs). Otherwise, or
with COMONGUS_TUNING=off, the server runs stock, after one log line that says
why.

COMONGUS_TUNING_WITHOUT names hooks (`HOOKS`) to leave out, so that each one's
gain can be measured against the others (benchmarks/hook-ab.sh).
"""
from __future__ import annotations

import logging
from typing import NamedTuple

from flask import Flask

from ..config import SettingError
from ..extensions import socketio
from ..limits import SilentSessionSweep
from ..serving import ConnectionPool, LeanHttpProtocol
from ..websocket_guard import GuardWebSocketReads
from .upstream import what_differs

log = logging.getLogger(__name__)

# The hooks COMONGUS_TUNING_WITHOUT may leave out, each with the hooks it needs.
HOOKS = {
    "fair_reads": (),  # fair_websockets: frames read a slice at a time, unmasked in C
    "send_queue": (),  # send_queues.SendQueue: blocked writers woken in one batch
    "direct_write": ("send_queue",),  # a packet written to an idle WebSocket at once
    "broadcast_frames": ("direct_write",),  # a broadcast framed once for its recipients
    "ping_timers": (),  # pings in rounds on hub timers, not a sleeping task per session
    "parking": ("send_queue", "fair_reads"),  # an idle WebSocket holds no task
    "room_index": (),  # room_index: a disconnect leaves its rooms without a search
}


def hooks_to_install(without) -> set[str]:
    """Every hook but those in `without`; a SettingError for a name that is no
    hook, or for leaving out a hook that one kept needs."""
    unknown = sorted(set(without) - set(HOOKS))
    if unknown:
        raise SettingError(f"COMONGUS_TUNING_WITHOUT names no hook {', '.join(unknown)} "
                           f"(the hooks: {', '.join(HOOKS)})")
    left_out = set(without)
    stranded = []  # kept hooks that need one left out, directly or through another
    for hook, needs in HOOKS.items():  # each hook comes after the hooks it needs
        if hook not in left_out and any(needed in left_out for needed in needs):
            left_out.add(hook)
            stranded.append(hook)
    if stranded:
        raise SettingError(f"COMONGUS_TUNING_WITHOUT leaves out {', '.join(sorted(without))}, "
                           f"needed by {', '.join(stranded)}: leave those out as well")
    return set(HOOKS) - left_out


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
    hooks = hooks_to_install(app.config["TUNING_WITHOUT"])
    if not app.config["TUNING"]:
        log.info("eventlet tuning off (COMONGUS_TUNING): serving stock")
        return None
    eio = socketio.server.eio
    if eio.async_mode != "eventlet":
        log.warning("eventlet tuning not installed, serving stock: async mode is %s",
                    eio.async_mode)
        return None
    differs = what_differs(eio, socketio.server.manager)
    if differs is not None:
        log.warning("eventlet tuning not installed, serving stock: %s", differs)
        return None
    from .connections import ParkingConnectionPool, ParkingHttpProtocol
    from .fair_websockets import read_websockets_fairly
    from .room_index import index_rooms
    from .send_queues import lighten_sessions, ping_on_timers

    # Order matters: the fair reader is the innermost WebSocket wrapper, so that
    # every reader reads through it; lighten_sessions is the outermost one, and
    # the outermost `send_packet` (after limits.cut_slow_consumers).
    if "fair_reads" in hooks:
        read_websockets_fairly(eio, app.config["SOCKET_READ_BYTES_PER_SECOND"])
        for layer in wsgi_layers(app):
            if isinstance(layer, GuardWebSocketReads):
                layer.active = False  # the fair reader enforces the same limits
    if "send_queue" in hooks:
        lighten_sessions(eio, direct_write="direct_write" in hooks, park="parking" in hooks,
                         share_frames="broadcast_frames" in hooks)
    if "ping_timers" in hooks:
        ping_on_timers()
        for extension in app.extensions.values():
            if isinstance(extension, SilentSessionSweep):
                extension.active = False  # each ping has its timer
    if "room_index" in hooks:
        index_rooms(socketio.server.manager)
    left_out = [hook for hook in HOOKS if hook not in hooks]
    log.info("eventlet tuning installed" + (
        f" without {', '.join(left_out)} (COMONGUS_TUNING_WITHOUT)" if left_out else ""))
    if "parking" in hooks:
        return Tuning(ParkingConnectionPool, ParkingHttpProtocol)
    return Tuning(ConnectionPool, LeanHttpProtocol)
