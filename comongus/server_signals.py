"""Signals from one process of the chat to every process: "this ban is new", "the
owner signed out". Clients never see them; they are for the servers.

With `REDIS_URL` a signal is published on the Redis channel `<REDIS_PREFIX>signals`,
and every process (the sender too) hears it from a background task subscribed
to that channel, then calls the topic's handler. Without `REDIS_URL` the app is
one process and the handler is called at once.

A process that lost its subscription (Redis restarted, a network cut) may have
missed signals: when it subscribes again, every handler is called with `None`,
"check your state again", so a ban made meanwhile still removes who it matches.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from . import presence
from .extensions import socketio

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]  # called with the signal's data, or None after a gap
RETRY_SECONDS = (0.5, 1, 2, 5)  # waits between tries to subscribe again
LISTEN_SECONDS = 1.0  # how long one read of the channel waits for a signal


class ServerSignals:
    """The topics' handlers, and, with Redis, the channel that carries signals."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.handlers: dict[str, Handler] = {}
        self.redis = app.extensions.get("comongus.redis")
        self.channel = app.config["REDIS_PREFIX"] + "signals"
        # Listening holds a connection of its own, named after the channel, so
        # Redis's CLIENT LIST tells an operator what it is.
        self.listener = None if self.redis is None else presence.redis_client(
            app.config["REDIS_URL"], app.config["REDIS_TIMEOUT_SECONDS"], name=self.channel)
        self.subscribed = False  # true once the listener has heard its subscription confirmed

    def on(self, topic: str, handler: Handler) -> None:
        self.handlers[topic] = handler

    def send(self, topic: str, data: Any) -> None:
        """Tell every process. Without Redis (one process) the handler runs now; with
        it, a publish that fails is logged, and the other processes learn of it
        from their next read of the database (see the topics' modules)."""
        if self.redis is None:
            self._handle(topic, data)
            return
        try:
            self.redis.publish(self.channel, json.dumps({"topic": topic, "data": data}))
        except Exception as error:  # redis errors, timeouts
            log.warning("server signal %r not published: %s", topic, error.__class__.__name__)
            self._handle(topic, data)  # this process at least

    def listen(self) -> None:
        """The background task: subscribe, hear signals, subscribe again after a loss."""
        failures = 0
        while True:
            pubsub = self.listener.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.subscribe(self.channel)
                while True:
                    message = pubsub.get_message(timeout=LISTEN_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        failures = 0
                        self._resubscribed()
                    elif message["type"] == "message":
                        self._heard(message["data"])
            except Exception as error:  # redis errors, timeouts: subscribe again
                log.warning("server signals: Redis subscription lost (%s); subscribing again",
                            error.__class__.__name__)
            finally:
                pubsub.close()
            socketio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    def _resubscribed(self) -> None:
        if self.subscribed:  # not the first subscription: signals may have been missed
            for topic in self.handlers:
                self._handle(topic, None)
        self.subscribed = True

    def _heard(self, raw: bytes | str) -> None:
        try:
            signal = json.loads(raw)
            topic, data = signal["topic"], signal["data"]
        except (ValueError, TypeError, KeyError):
            log.warning("server signals: ignored a message that is not a signal")
            return
        self._handle(topic, data)

    def _handle(self, topic: str, data: Any) -> None:
        handler = self.handlers.get(topic)
        if handler is None:
            return
        try:
            with self.app.app_context():
                handler(data)
        except Exception:
            log.exception("server signal %r: its handler failed", topic)


def init_app(app: Flask) -> None:
    """The app's signals, ready for handlers (after presence, which makes the Redis
    client); `start_listening` starts hearing them."""
    app.extensions["comongus.server_signals"] = ServerSignals(app)


def start_listening(app: Flask) -> None:
    """With Redis, hear the channel from now on (after Socket.IO, whose background
    task runs the listener)."""
    signals = app.extensions["comongus.server_signals"]
    if signals.redis is not None:
        socketio.start_background_task(signals.listen)


def on(app: Flask, topic: str, handler: Handler) -> None:
    """Have `handler` called in every process on each `topic` signal (one per topic)."""
    app.extensions["comongus.server_signals"].on(topic, handler)


def send(topic: str, data: Any) -> None:
    """Signal `topic` with `data` (JSON) to every process of the chat, this one too."""
    current_app.extensions["comongus.server_signals"].send(topic, data)
