"""The Socket.IO message queue: with `REDIS_URL`, every emit reaches every process.

Without `REDIS_URL` there is no queue, and the app is one process.
"""
from __future__ import annotations

from typing import Any

from socketio import RedisManager


def socketio_options(config: dict[str, Any]) -> dict[str, Any]:
    """The message-queue arguments for `socketio.init_app`: none without `REDIS_URL`.

    A publish to a stalled Redis gives up after REDIS_TIMEOUT_SECONDS (twice:
    the manager retries once) instead of holding the sender's ack until Redis
    is back; the subscriber's blocking read ignores the socket timeout.
    """
    if not config.get("REDIS_URL"):
        return {}
    timeout = config["REDIS_TIMEOUT_SECONDS"]
    return {"client_manager": RedisManager(
        config["REDIS_URL"], channel=config["REDIS_PREFIX"] + "socketio",
        redis_options={"socket_timeout": timeout, "socket_connect_timeout": timeout})}
