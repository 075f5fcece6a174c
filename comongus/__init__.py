"""ComongUS: a small real-time chat on one port (pages, REST and Socket.IO)."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    announcer,
    chat_service,
    events,  # noqa: F401  (events registers handlers)
    pages,
    presence,
    presence_leases,
    rest,
)
from .config import load_config, socketio_async_mode
from .extensions import cors, socketio
from .inbound import handle_packets_in_order, refuse_malformed_packets, refuse_malformed_polling
from .limits import close_sessions_without_namespace, cut_slow_consumers, limit_handshakes
from .message_queue import socketio_options
from .page_cache import PageCache
from .store import store
from .websocket import refuse_websocket_compression


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then `overrides` (tests use them)."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    app.config.update(load_config(os.environ, app.instance_path))
    app.config.update(overrides or {})
    app.config["SOCKETIO_ASYNC_MODE"] = socketio_async_mode(app.config["SOCKETIO_ASYNC_MODE"])
    os.makedirs(app.instance_path, exist_ok=True)
    app.logger.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("comongus").setLevel(app.config["LOG_LEVEL"])

    store.init_app(app)
    presence.init_app(app)
    announcer.init_app(app)
    chat_service.init_app(app)
    cors.init_app(app, resources={r"/(messages|rooms|healthz)": {}},
                  origins=app.config["CORS_ORIGINS"])
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config["CORS_ORIGINS"],
        max_http_buffer_size=app.config["MAX_SOCKET_PACKET_BYTES"],
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        **socketio_options(app.config),
    )
    presence_leases.init_app(app)
    handle_packets_in_order(socketio.server, app.config["MAX_PENDING_PACKETS"])
    if socketio.server.eio.async_mode == "eventlet":
        from .fair_websockets import read_websockets_fairly  # imports eventlet: only when it serves

        read_websockets_fairly(socketio.server.eio, app.config["SOCKET_READ_BYTES_PER_SECOND"])
    refuse_malformed_packets(socketio.server)
    cut_slow_consumers(socketio.server, app.config["MAX_CLIENT_BACKLOG"],
                       app.config["MAX_CLIENT_BACKLOG_BYTES"])
    close_sessions_without_namespace(socketio.server, app.config["NAMESPACE_CONNECT_TIMEOUT"])
    if socketio.server.eio.async_mode == "eventlet":
        from .eventlet_sessions import lighten_sessions  # imports eventlet: only when it serves

        lighten_sessions(socketio.server.eio)
    app.wsgi_app = refuse_malformed_polling(app.wsgi_app, socketio.server.eio,
                                            app.config["MAX_SOCKET_PACKET_BYTES"])
    app.wsgi_app = limit_handshakes(refuse_websocket_compression(app.wsgi_app),
                                    app.config["HANDSHAKE_BURST"],
                                    app.config["HANDSHAKES_PER_SECOND"])
    app.wsgi_app = PageCache(app.wsgi_app, app.extensions["comongus.changes"],
                             app.config["CORS_ORIGINS"])
    if app.config["TRUSTED_PROXIES"]:
        # Outermost, so every limit keyed on REMOTE_ADDR counts the forwarded client.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    rest.init_app(app)
    app.register_blueprint(pages.bp)
    return app
