"""Settings read from the environment, with defaults that work on a laptop.

Every setting is an environment variable of the same name; `load_config()` turns
them into the dict that `create_app()` loads into `app.config`.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

DEFAULT_PORT = 5000


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {value!r}") from None


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {value!r}") from None


def _origins(value: str) -> str | list[str]:
    """`*` stays a wildcard; anything else is a comma-separated list of origins."""
    origins = [origin.strip() for origin in value.split(",") if origin.strip()]
    return "*" if not origins or "*" in origins else origins


def database_url(env: Mapping[str, str], instance_path: str) -> str:
    """`DATABASE_URL`, or a SQLite file under `instance/`."""
    url = env.get("DATABASE_URL", "").strip()
    return url or "sqlite:///" + os.path.join(instance_path, "comongus.sqlite3")


def listen_address(env: Mapping[str, str]) -> tuple[str, int]:
    """`(HOST, PORT)`: loopback on a laptop, every interface when a platform sets `PORT`."""
    port = _int(env, "PORT", DEFAULT_PORT)
    default_host = "0.0.0.0" if env.get("PORT", "").strip() else "127.0.0.1"
    return env.get("HOST", "").strip() or default_host, port


def load_config(env: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Every setting of the app, from `env` (normally `os.environ`)."""
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_hex(32),
        "DATABASE_URL": database_url(env, instance_path),
        "REDIS_URL": env.get("REDIS_URL", "").strip() or None,
        # With REDIS_URL: the prefix of every key and of the Socket.IO channel (several
        # chats can share one Redis), and how long a process that stops renewing
        # its lease keeps its members (they are removed within about 5/3 of it).
        "REDIS_PREFIX": env.get("REDIS_PREFIX", "").strip() or "comongus:",
        "PRESENCE_LEASE_SECONDS": _float(env, "PRESENCE_LEASE_SECONDS", 15.0),
        "CORS_ORIGINS": _origins(env.get("CORS_ORIGINS", "*")),
        # Input limits, in characters (code points).
        "MAX_NAME_LENGTH": _int(env, "MAX_NAME_LENGTH", 32),
        "MAX_ROOM_LENGTH": _int(env, "MAX_ROOM_LENGTH", 64),
        "MAX_TEXT_LENGTH": _int(env, "MAX_TEXT_LENGTH", 2000),
        # Request bodies and Socket.IO packets, in bytes.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 64 * 1024),
        "MAX_SOCKET_PACKET_BYTES": _int(env, "MAX_SOCKET_PACKET_BYTES", 64 * 1024),
        # Per-connection token bucket for sendMessage: a burst, then a steady rate.
        "SEND_BURST": _int(env, "SEND_BURST", 20),
        "SEND_RATE_PER_SECOND": _float(env, "SEND_RATE_PER_SECOND", 5.0),
        # Per-connection budget for the other events, in cost units (a join costs 5,
        # a leave or a typing 1): a burst, then a steady refill.
        "EVENT_BUDGET_BURST": _int(env, "EVENT_BUDGET_BURST", 20),
        "EVENT_BUDGET_PER_SECOND": _float(env, "EVENT_BUDGET_PER_SECOND", 5.0),
        # Seconds a connection may go on being refused, never pausing a second, before it is closed.
        "FLOOD_CLOSE_SECONDS": _float(env, "FLOOD_CLOSE_SECONDS", 10.0),
        # One connection's room hears "is typing" at most once per this many seconds.
        "TYPING_INTERVAL": _float(env, "TYPING_INTERVAL", 1.0),
        # Per-address token bucket for POST /messages (a rate of 0: no limit, e.g. behind a proxy).
        "REST_POST_BURST": _int(env, "REST_POST_BURST", 30),
        "REST_POSTS_PER_SECOND": _float(env, "REST_POSTS_PER_SECOND", 5.0),
        # How much history a join carries, and how much a `since` replay may carry.
        "JOIN_HISTORY_LIMIT": _int(env, "JOIN_HISTORY_LIMIT", 50),
        "REPLAY_LIMIT": _int(env, "REPLAY_LIMIT", 500),
        # Engine.IO heartbeats (seconds): a vanished client is dropped after both.
        "PING_INTERVAL": _float(env, "PING_INTERVAL", 25.0),
        "PING_TIMEOUT": _float(env, "PING_TIMEOUT", 20.0),
        # Packets queued for one connection before it is cut as a slow consumer.
        "MAX_CLIENT_BACKLOG": _int(env, "MAX_CLIENT_BACKLOG", 500),
        # Packets from one connection waiting for its handler before it is cut.
        "MAX_PENDING_PACKETS": _int(env, "MAX_PENDING_PACKETS", 100),
        # The eventlet server: open connections in all and per client address
        # (0 = no per-address cap, e.g. behind a proxy), seconds a socket may
        # sit idle or dribble a request, and new Socket.IO sessions per address.
        "MAX_CONNECTIONS": _int(env, "MAX_CONNECTIONS", 4096),
        "MAX_CONNECTIONS_PER_ADDRESS": _int(env, "MAX_CONNECTIONS_PER_ADDRESS", 256),
        "SOCKET_TIMEOUT": _float(env, "SOCKET_TIMEOUT", 30.0),
        "HANDSHAKE_BURST": _int(env, "HANDSHAKE_BURST", 200),
        "HANDSHAKES_PER_SECOND": _float(env, "HANDSHAKES_PER_SECOND", 20.0),
        # Seconds a new session has to connect the Socket.IO namespace.
        "NAMESPACE_CONNECT_TIMEOUT": _float(env, "NAMESPACE_CONNECT_TIMEOUT", 10.0),
        # How often, at most, one room's member list is broadcast (seconds).
        "ROOMDATA_INTERVAL": _float(env, "ROOMDATA_INTERVAL", 0.25),
        # Pages: the introduction shown on /intro, and who may frame /embed.
        "INTRO_FILE": env.get("INTRO_FILE", "").strip() or None,
        "INTRO_ROOM": env.get("INTRO_ROOM", "").strip() or "intro",
        "EMBED_ORIGINS": env.get("EMBED_ORIGINS", "*").strip() or "*",
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").strip().upper(),
        # None lets Flask-SocketIO choose: eventlet under `python app.py`,
        # threading under `flask run`. Tests set "threading".
        "SOCKETIO_ASYNC_MODE": env.get("SOCKETIO_ASYNC_MODE", "").strip() or None,
    }
