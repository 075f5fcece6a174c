"""The nudge: a JSON POST to NOTIFY_URL when someone writes while the host is away.

`{room, user, text, date, url}` (`url` opens the room: under PUBLIC_URL, else the
origin the message came in through), at most once per room per NOTIFY_INTERVAL
seconds; with REDIS_URL that holds across processes (a key set only if absent,
expiring after the interval). Everything happens in a background task, so an ack
or a broadcast never waits for it. Each try is time-limited; a failed one is
retried after 1 s, then 4 s; a room whose tries all failed costs one log line and
is tried again only after its interval, so a dead endpoint is one line per room
per interval, not one per message.

NOTIFY_FORMAT shapes the body for services that want their own: `json` (the
fields above; ntfy takes any body), `slack` (`{text}`) or `discord` (`{content}`).

The standard library's urllib: eventlet and gevent both patch its sockets, so a
slow endpoint waits on the hub, never blocking the chat.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

from flask import current_app, has_request_context, request

from . import host_presence, owner
from .extensions import socketio

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 4.0)  # seconds before the second and the third try
TRY_SECONDS = 5.0  # each try, connecting and reading the answer


def message_stored(message) -> None:
    """A message was stored and broadcast: nudge NOTIFY_URL if it calls for it (later,
    in the background)."""
    config = current_app.config
    if not config["NOTIFY_URL"] or not owner.enabled() or owner.is_host_name(message.username):
        return
    nudge = {"room": message.room, "user": message.username, "text": message.text,
             "date": message.created_at.isoformat(timespec="milliseconds") + "Z",
             "url": room_url(message.room)}
    socketio.start_background_task(_nudge, current_app._get_current_object(), nudge)


def room_url(room: str) -> str:
    """Where the room opens: under PUBLIC_URL, else the origin this request came to."""
    base = current_app.config["PUBLIC_URL"]
    if base is None:
        base = request.host_url.rstrip("/") if has_request_context() else ""
    return base + "/chat?" + urlencode({"room": room})


def _nudge(app, nudge: dict) -> None:
    with app.app_context():
        try:
            if host_presence.current().state()["online"] or not _claim(nudge["room"]):
                return
            _post(app.config["NOTIFY_URL"], _body(nudge, app.config["NOTIFY_FORMAT"]),
                  nudge["room"])
        except Exception:  # a background task must not die quietly
            log.exception("notify: the nudge for room %r failed", nudge["room"])


def _body(nudge: dict, form: str) -> bytes:
    line = f"{nudge['user']} in {nudge['room']}: {nudge['text']}\n{nudge['url']}"
    if form == "slack":
        nudge = {"text": line}
    elif form == "discord":
        nudge = {"content": line[:2000]}  # Discord refuses longer messages
    return json.dumps(nudge, ensure_ascii=False).encode("utf-8")


def _post(url: str, body: bytes, room: str) -> None:
    error = None
    for attempt, delay in enumerate((0.0, *RETRY_DELAYS), start=1):
        if delay:
            socketio.sleep(delay)
        try:
            request_ = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": "ComongUS-notify"})
            with urllib.request.urlopen(request_, timeout=TRY_SECONDS) as answer:
                answer.read(1024)
            log.info("notify: room %r nudged (try %d)", room, attempt)
            return
        except (OSError, ValueError) as failure:  # URLError, HTTPError and timeouts are OSErrors
            error = failure
    log.warning("notify: NOTIFY_URL failed for room %r after %d tries (%s); next try "
                "for this room after NOTIFY_INTERVAL", room, len(RETRY_DELAYS) + 1,
                _why(error))


def _why(error: BaseException | None) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return error.__class__.__name__ if error else "?"


# Once per room per interval --------------------------------------------------------

_claims_lock = threading.Lock()


def _claim(room: str) -> bool:
    """True for the first message of `room` in its interval (across processes with
    Redis; in this process alone if Redis fails or is not set)."""
    interval = current_app.config["NOTIFY_INTERVAL"]
    client = current_app.extensions.get("comongus.redis")
    if client is not None:
        key = current_app.config["REDIS_PREFIX"] + "notify:" + room
        try:
            return bool(client.set(key, 1, nx=True, px=int(interval * 1000)))
        except Exception as error:  # redis errors, timeouts: this process decides alone
            log.warning("notify: Redis failed: %s", error.__class__.__name__)
    claims = current_app.extensions.setdefault("comongus.notify_claims", {})  # room -> end
    now = time.monotonic()
    with _claims_lock:
        if len(claims) > 1000:
            for ended in [name for name, until in claims.items() if until <= now]:
                del claims[ended]
        if claims.get(room, 0.0) > now:
            return False
        claims[room] = now + interval
        return True
