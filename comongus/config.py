"""Settings read from the environment, with defaults that work on a laptop.

Every setting is an environment variable of the same name; `load_config()` turns
them into the dict that `create_app()` loads into `app.config`.
"""
from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORT = 5000


class SettingError(ValueError):
    """A setting the server cannot start with; the message says which and why."""


def _int(env: Mapping[str, str], key: str, default: int | None,
         minimum: int | None = None) -> int | None:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingError(f"{key} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise SettingError(f"{key} must be at least {minimum}, not {number}")
    return number


def _float(env: Mapping[str, str], key: str, default: float,
           minimum: float | None = None, positive: bool = False,
           maximum: float | None = None) -> float:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingError(f"{key} must be a number, not {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SettingError(f"{key} must be a finite number, not {value!r}")
    if positive and number <= 0:
        raise SettingError(f"{key} must be more than 0, not {value}")
    if minimum is not None and number < minimum:
        raise SettingError(f"{key} must be at least {minimum:g}, not {value}")
    if maximum is not None and number > maximum:
        raise SettingError(f"{key} must be at most {maximum:g}, not {value}")
    return number


def _origins(value: str) -> str | list[str]:
    """`*` stays a wildcard; anything else is a comma-separated list of origins."""
    origins = [origin.strip() for origin in value.split(",") if origin.strip()]
    return "*" if not origins or "*" in origins else origins


def _public_url(value: str) -> str | None:
    """`PUBLIC_URL`: an http(s) origin, maybe with a path, without a trailing slash."""
    value = value.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or parts.username or any(c.isspace() for c in value)):
        raise SettingError(f"PUBLIC_URL must look like https://chat.example.org, not {value!r}")
    return value


def _notify_url(value: str) -> str | None:
    """`NOTIFY_URL`: an http(s) URL to POST to, or unset."""
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or any(c.isspace() for c in value):
        raise SettingError(f"NOTIFY_URL must be an http(s) URL, like https://ntfy.sh/my-topic, "
                           f"not {value!r}")
    return value


def _choice(env: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str:
    value = env.get(key, "").strip().lower() or choices[0]
    if value not in choices:
        raise SettingError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _flag(env: Mapping[str, str], key: str) -> bool:
    value = env.get(key, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingError(f"{key} must be 1 or 0, not {value!r}")


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
        # Writes at once (each holds a connection while it waits for a lock), below
        # the pool's 15 connections so reads and /healthz always find one; and how
        # long a write waits for its place, or any statement for a connection,
        # before it is refused (an error ack, a 503).
        "DATABASE_MAX_WRITERS": _int(env, "DATABASE_MAX_WRITERS", 8, minimum=1),
        "DATABASE_WAIT_SECONDS": _float(env, "DATABASE_WAIT_SECONDS", 2.0, positive=True),
        "REDIS_URL": env.get("REDIS_URL", "").strip() or None,
        # With REDIS_URL: the prefix of every key and of the Socket.IO channel (several
        # chats can share one Redis), and how long a process that stops renewing
        # its lease keeps its members (they are removed within about 5/3 of it).
        "REDIS_PREFIX": env.get("REDIS_PREFIX", "").strip() or "comongus:",
        "PRESENCE_LEASE_SECONDS": _float(env, "PRESENCE_LEASE_SECONDS", 15.0, positive=True),
        # Seconds any one Redis call may take (connecting too) before it counts as failed.
        "REDIS_TIMEOUT_SECONDS": _float(env, "REDIS_TIMEOUT_SECONDS", 1.0, positive=True),
        "CORS_ORIGINS": _origins(env.get("CORS_ORIGINS", "*")),
        # Input limits, in characters (code points).
        "MAX_NAME_LENGTH": _int(env, "MAX_NAME_LENGTH", 32, minimum=1),
        "MAX_ROOM_LENGTH": _int(env, "MAX_ROOM_LENGTH", 64, minimum=1),
        "MAX_TEXT_LENGTH": _int(env, "MAX_TEXT_LENGTH", 2000, minimum=1),
        # Request bodies and Socket.IO packets, in bytes.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 64 * 1024, minimum=1),
        "MAX_SOCKET_PACKET_BYTES": _int(env, "MAX_SOCKET_PACKET_BYTES", 1024 * 1024, minimum=1),
        # What one WebSocket may send, in bytes per second after a burst of one
        # packet; past it the server stops reading that socket for a while (0: no cap).
        "SOCKET_READ_BYTES_PER_SECOND": _int(env, "SOCKET_READ_BYTES_PER_SECOND", 256 * 1024,
                                             minimum=0),
        # Per-connection token bucket for sendMessage: a burst, then a steady rate.
        "SEND_BURST": _int(env, "SEND_BURST", 20, minimum=1),
        "SEND_RATE_PER_SECOND": _float(env, "SEND_RATE_PER_SECOND", 5.0, positive=True),
        # Per-connection budget for the other events, in cost units (a join costs 5,
        # a leave or a typing 1): a burst, then a steady refill.
        "EVENT_BUDGET_BURST": _int(env, "EVENT_BUDGET_BURST", 20, minimum=1),
        "EVENT_BUDGET_PER_SECOND": _float(env, "EVENT_BUDGET_PER_SECOND", 5.0, positive=True),
        # Seconds a connection may go on being refused, never pausing a second, before it is closed.
        "FLOOD_CLOSE_SECONDS": _float(env, "FLOOD_CLOSE_SECONDS", 10.0, positive=True),
        # One connection's room hears "is typing" at most once per this many seconds.
        "TYPING_INTERVAL": _float(env, "TYPING_INTERVAL", 1.0, minimum=0),
        # Per-address token bucket for POST /messages (a rate of 0: no limit, e.g. behind a proxy).
        "REST_POST_BURST": _int(env, "REST_POST_BURST", 30, minimum=1),
        "REST_POSTS_PER_SECOND": _float(env, "REST_POSTS_PER_SECOND", 5.0, minimum=0),
        # How much history a join carries, and how much a `since` replay may carry.
        "JOIN_HISTORY_LIMIT": _int(env, "JOIN_HISTORY_LIMIT", 50, minimum=1),
        "REPLAY_LIMIT": _int(env, "REPLAY_LIMIT", 500, minimum=1),
        # The most either may weigh, in bytes of the messages' JSON (at least one
        # message is always sent; the rest is paged over REST).
        "HISTORY_MAX_BYTES": _int(env, "HISTORY_MAX_BYTES", 256 * 1024, minimum=1),
        # Engine.IO heartbeats (seconds): a vanished client is dropped after both.
        "PING_INTERVAL": _float(env, "PING_INTERVAL", 25.0, positive=True),
        "PING_TIMEOUT": _float(env, "PING_TIMEOUT", 20.0, positive=True),
        # Packets, and encoded bytes, queued for one connection before it is cut
        # as a slow consumer.
        "MAX_CLIENT_BACKLOG": _int(env, "MAX_CLIENT_BACKLOG", 500, minimum=1),
        "MAX_CLIENT_BACKLOG_BYTES": _int(env, "MAX_CLIENT_BACKLOG_BYTES", 2 * 1024 * 1024,
                                         minimum=1),
        # Packets from one connection waiting for its handler before it is cut.
        "MAX_PENDING_PACKETS": _int(env, "MAX_PENDING_PACKETS", 100, minimum=1),
        # The eventlet server: open connections in all (unset: 4,096, or fewer if the
        # open-file limit allows fewer) and per client address, an IPv6 /64 counting
        # as one (0 = no per-address cap), seconds a socket may sit idle (between
        # requests too), and new Socket.IO sessions per address (0/s = no limit).
        "MAX_CONNECTIONS": _int(env, "MAX_CONNECTIONS", None, minimum=1),
        "MAX_CONNECTIONS_PER_ADDRESS": _int(env, "MAX_CONNECTIONS_PER_ADDRESS", 256, minimum=0),
        "SOCKET_TIMEOUT": _float(env, "SOCKET_TIMEOUT", 30.0, positive=True),
        "HANDSHAKE_BURST": _int(env, "HANDSHAKE_BURST", 200, minimum=1),
        "HANDSHAKES_PER_SECOND": _float(env, "HANDSHAKES_PER_SECOND", 20.0, minimum=0),
        # Seconds from a connection's start (or a keep-alive request's first byte)
        # to the end of its request line and headers, however steadily they trickle.
        "HEADERS_TIMEOUT": _float(env, "HEADERS_TIMEOUT", 10.0, positive=True),
        # A request body must arrive at this many bytes a second after the grace
        # seconds, or the connection is closed (0 = no minimum, e.g. behind a proxy
        # that buffers bodies).
        "BODY_MIN_BYTES_PER_SECOND": _int(env, "BODY_MIN_BYTES_PER_SECOND", 500, minimum=0),
        "BODY_GRACE_SECONDS": _float(env, "BODY_GRACE_SECONDS", 5.0, minimum=0),
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host
        # (0 = none: the headers are ignored, as any client can send them).
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0, minimum=0),
        # Seconds a new session has to connect the Socket.IO namespace.
        "NAMESPACE_CONNECT_TIMEOUT": _float(env, "NAMESPACE_CONNECT_TIMEOUT", 10.0, positive=True),
        # How often, at most, one room's member list is broadcast (seconds).
        "ROOMDATA_INTERVAL": _float(env, "ROOMDATA_INTERVAL", 0.25, positive=True),
        # Seconds a name (joined with a token) stays after its last connection ends,
        # listed and held, so a reload or a brief drop is told neither as leaving nor
        # as joining (0: it leaves at once). A name held longer than a minute would
        # read as a ghost in the list.
        "LEAVE_GRACE_SECONDS": _float(env, "LEAVE_GRACE_SECONDS", 5.0, minimum=0, maximum=60),
        # Pages: the introduction shown on /intro, and who may frame /embed.
        "INTRO_FILE": env.get("INTRO_FILE", "").strip() or None,
        # 1: INTRO_FILE's HTML (raw HTML in Markdown, or an .html file) is shown as
        # written; 0: it goes through an allow-list that drops scripts, handlers, styles.
        "INTRO_TRUST_HTML": _flag(env, "INTRO_TRUST_HTML"),
        # The chat's address as visitors reach it (https://chat.example.org), for
        # links the server writes out, such as the /embed snippet; never the Host header.
        "PUBLIC_URL": _public_url(env.get("PUBLIC_URL", "")),
        "INTRO_ROOM": env.get("INTRO_ROOM", "").strip() or "intro",
        # The owner (host): unset, there is none and no owner control shows. The
        # name the owner chats under, which nobody else can take in any room.
        "OWNER_PASSWORD": env.get("OWNER_PASSWORD") or None,
        "OWNER_NAME": env.get("OWNER_NAME", "").strip() or "host",
        # Wrong passwords per client address: a burst, then a steady rate, so a
        # password cannot be guessed at speed.
        "OWNER_SIGNIN_BURST": _int(env, "OWNER_SIGNIN_BURST", 5, minimum=1),
        "OWNER_SIGNINS_PER_MINUTE": _float(env, "OWNER_SIGNINS_PER_MINUTE", 5.0, positive=True),
        # The nudge: a POST when someone writes while the host is away (unset: none),
        # at most once per room per NOTIFY_INTERVAL seconds, its body shaped for
        # NOTIFY_FORMAT (json, slack or discord).
        "NOTIFY_URL": _notify_url(env.get("NOTIFY_URL", "")),
        "NOTIFY_INTERVAL": _float(env, "NOTIFY_INTERVAL", 300.0, minimum=1, maximum=7 * 86400),
        "NOTIFY_FORMAT": _choice(env, "NOTIFY_FORMAT", ("json", "slack", "discord")),
        "EMBED_ORIGINS": env.get("EMBED_ORIGINS", "*").strip() or "*",
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").strip().upper(),
        # Unset: the library that patched the process (eventlet under `python app.py`,
        # gevent under `SERVER=gevent python app.py` or `gunicorn -k gevent`), else
        # threading; one that disagrees with it is a start-up error (`socketio_async_mode`).
        "SOCKETIO_ASYNC_MODE": env.get("SOCKETIO_ASYNC_MODE", "").strip() or None,
        # 0/off: `python app.py` serves with eventlet, Engine.IO and Socket.IO as they
        # are, without comongus/eventlet_tuning (slower, every limit kept).
        "TUNING": _flag({"COMONGUS_TUNING": env.get("COMONGUS_TUNING", "on")}, "COMONGUS_TUNING"),
        # For maintainers measuring the tuning: hooks to leave out, comma-separated
        # (eventlet_tuning.HOOKS names them; an unknown name stops the start).
        "TUNING_WITHOUT": tuple(name.strip().lower() for name in
                                env.get("COMONGUS_TUNING_WITHOUT", "").split(",") if name.strip()),
    }


GREEN_LIBRARIES = ("eventlet", "gevent")


def patched_library() -> str | None:
    """"eventlet" or "gevent" if that library monkey-patched this process's sockets, else None."""
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched("socket"):
        return "gevent"
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None and eventlet_patcher.is_monkey_patched("socket"):
        return "eventlet"
    return None


def socketio_async_mode(configured: str | None) -> str:
    """The Socket.IO async mode this process can run: the one its patching implies.

    Left to itself, python-engineio takes eventlet whenever it is installed, so a
    process that gevent patched (`gunicorn -k gevent`) would run eventlet's queues
    and sleeps under gevent's loop and hang. Unset, the mode follows the patching;
    set, it must agree with it.
    """
    patched = patched_library()
    if configured is None:
        return patched or "threading"
    if configured != patched and (patched is not None or configured in GREEN_LIBRARIES):
        raise SettingError(
            f"SOCKETIO_ASYNC_MODE={configured} disagrees with this process, which "
            + (f"{patched} has patched" if patched else "no green library has patched")
            + f": leave SOCKETIO_ASYNC_MODE unset, or set it to {patched or 'threading'}"
            + ("" if patched else f" (or start with SERVER={configured} python app.py)"))
    return configured
