"""What the tuning assumes of eventlet, python-engineio and python-socketio, and the check at start.

Each hook replaces, copies or wraps an upstream function, or uses one of its
private names. Where the installed versions are not the ones the hooks were
written against, or a private name is gone, the tuning does not install and the
server runs stock. `FINGERPRINTED` lists the upstream functions whose source the
hooks follow; tests/unit/test_tuning_seam.py compares their source with
fingerprints.json, so an upgrade fails CI with the name of the function to
re-read (docs/architecture.md says how).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import json
from pathlib import Path

# The releases the hooks were written against and checked on.
VERSIONS = {"eventlet": "0.41.3", "python-engineio": "4.15.1", "python-socketio": "5.18.1"}

# module, attribute path: each must exist (private names included).
PRIVATE_NAMES = [
    ("engineio.socket", "Socket._websocket_handler"),
    ("engineio.socket", "Socket.schedule_ping"),
    ("engineio.socket", "Socket.check_ping_timeout"),
    ("engineio.async_drivers.eventlet", "_async"),
    ("eventlet.websocket", "RFC6455WebSocket._pack_message"),
    ("eventlet.websocket", "RFC6455WebSocket._send_closing_frame"),
    ("eventlet.wsgi", "HttpProtocol.finish"),
]
# What room_index reads and writes on the Socket.IO server's client manager.
MANAGER_ATTRIBUTES = ("rooms", "callbacks", "pending_connect", "pending_disconnect")
# Engine.IO's table of async-driver parts the tuning replaces (`Server._async`).
ASYNC_KEYS = ("websocket", "queue", "queue_empty")

FINGERPRINTED = [
    # replaced: Socket.schedule_ping (send_queues._schedule_ping), per session
    "engineio.socket.Socket.schedule_ping",
    # copied: the ping task (send_queues._ping) and the WebSocket handler
    # (parked_websockets: the upgrade, the reading loop, the writer)
    "engineio.socket.Socket._send_ping",
    "engineio.socket.Socket._websocket_handler",
    # called where Engine.IO would: the ping check, a packet's way into the queue
    "engineio.socket.Socket.check_ping_timeout",
    "engineio.socket.Socket.send",
    "engineio.socket.Socket._upgrade_websocket",
    # wrapped: the send path a broadcast takes (send_queues), the WebSocket app
    "engineio.server.Server.send_packet",
    "engineio.async_drivers.eventlet.WebSocketWSGI.__init__",
    "engineio.async_drivers.eventlet.WebSocketWSGI.__call__",
    # eventlet's WebSocket: the send lock and framing the direct write shares,
    # the closing frame parked_websockets holds back, the close it copies (and
    # the log context `__init__` keeps for it), the handshake around it
    "eventlet.websocket.WebSocket.__init__",
    "eventlet.websocket.RFC6455WebSocket.__init__",
    "eventlet.websocket.RFC6455WebSocket._pack_message",
    "eventlet.websocket.RFC6455WebSocket.send",
    "eventlet.websocket.RFC6455WebSocket._send_closing_frame",
    "eventlet.websocket.RFC6455WebSocket.close",
    "eventlet.websocket.WebSocketWSGI.__call__",
    # what a lightened WebSocket relies on (parked_websockets.lighten_websocket):
    # the send lock's semaphore, which makes its waiters' queue only when needed,
    # and the RFC 6455 reader, which never reads the message deque it drops
    "eventlet.semaphore.Semaphore.__init__",
    "eventlet.semaphore.Semaphore.acquire",
    "eventlet.semaphore.Semaphore.release",
    "eventlet.semaphore.Semaphore._do_acquire",
    "eventlet.websocket.RFC6455WebSocket.wait",
    # the socket methods GreenSocket copies onto itself, which a parked
    # connection drops, and the lookup that brings one back when it is used
    "eventlet.greenio.base.GreenSocket.__init__",
    "eventlet.greenio.base.GreenSocket.__getattr__",
    # the server loop that links to what the pool's spawn returns, and the
    # finish a parked connection skips (connections)
    "eventlet.wsgi.server",
    "eventlet.greenpool.GreenPool.spawn",
    "eventlet.wsgi.HttpProtocol.finish",
    # python-socketio's room table: the disconnect room_index replaces, and every
    # way in or out of a room it keeps its index beside
    "socketio.base_manager.BaseManager.basic_disconnect",
    "socketio.base_manager.BaseManager.basic_enter_room",
    "socketio.base_manager.BaseManager.basic_leave_room",
    "socketio.base_manager.BaseManager.basic_close_room",
    "socketio.base_manager.BaseManager.get_rooms",
    # a socket's own room (room_index.OwnRoom): where it is entered, and how a
    # room's members are listed
    "socketio.base_manager.BaseManager.pre_connect",
    "socketio.base_manager.BaseManager.get_participants",
]

FINGERPRINTS_FILE = Path(__file__).with_name("fingerprints.json")


def _resolve(dotted: str):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ImportError(dotted)


def fingerprint(dotted: str) -> str:
    """sha256 of an upstream function's source."""
    return hashlib.sha256(inspect.getsource(_resolve(dotted)).encode()).hexdigest()


def expected_fingerprints() -> dict[str, str]:
    return json.loads(FINGERPRINTS_FILE.read_text())


def what_differs(eio_server, manager) -> str | None:
    """None if the installed libraries are the ones the tuning was written for;
    else what differs, for the one warning line. `manager`: the Socket.IO server's."""
    for distribution, expected in VERSIONS.items():
        try:
            installed = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != expected:
            return f"{distribution} is {installed}, the tuning is for {expected}"
    for module, path in PRIVATE_NAMES:
        try:
            _resolve(f"{module}.{path}")
        except (ImportError, AttributeError):
            return f"{module}.{path} is gone"
    from eventlet.websocket import WebSocket

    if "_sendlock" not in WebSocket.__init__.__code__.co_names:  # an attribute it sets
        return "eventlet.websocket.WebSocket has no _sendlock"
    parts = getattr(eio_server, "_async", None)
    if not isinstance(parts, dict) or not all(key in parts for key in ASYNC_KEYS):
        return "engineio.Server._async lacks " + ", ".join(ASYNC_KEYS)
    missing = [name for name in MANAGER_ATTRIBUTES if not hasattr(manager, name)]
    if missing:
        return f"the Socket.IO client manager has no {', '.join(missing)}"
    return None
