"""ComongUS: a small real-time chat on one port (pages, REST and Socket.IO)."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    announcer,
    bans,
    chat_service,
    events,
    host_presence,
    inbox,
    join_history,
    member_lists,
    message_deletion,
    moderation_log,
    owner,
    packet_json,
    pages,
    presence,
    presence_leases,
    rest,
    room_settings,
    server_signals,
    static_files,
)
from .config import load_config, socketio_async_mode
from .extensions import cors, socketio
from .incoming_packets import ChatPacket, handle_packets_in_order, refuse_malformed_polling
from .limits import (
    close_sessions_without_namespace,
    close_silent_sessions,
    cut_slow_consumers,
    limit_handshakes,
)
from .message_queue import socketio_options
from .page_cache import PageCache
from .store import store
from .websocket_guard import GuardWebSocketReads, RefuseWebSocketCompression


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
    server_signals.init_app(app)
    announcer.init_app(app)
    member_lists.init_app(app)
    join_history.init_app(app)
    chat_service.init_app(app)
    cors.init_app(app, resources={r"/(messages|rooms|healthz|host)": {}},
                  origins=app.config["CORS_ORIGINS"])
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config["CORS_ORIGINS"],
        max_http_buffer_size=app.config["MAX_SOCKET_PACKET_BYTES"],
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        json=packet_json,
        serializer=ChatPacket,
        # Handlers only read the session (the owner's sign-in, at connect), so
        # Flask's own is enough; a copy of it kept for every connection is not.
        manage_session=False,
        **socketio_options(app.config),
    )
    presence_leases.init_app(app)
    server_signals.start_listening(app)
    host_presence.init_app(app)
    bans.init_app(app)
    _guard_sessions(app)
    eio = socketio.server.eio
    app.wsgi_app = refuse_malformed_polling(app.wsgi_app, eio,
                                            app.config["MAX_SOCKET_PACKET_BYTES"])
    app.wsgi_app = GuardWebSocketReads(app.wsgi_app, app.config["MAX_SOCKET_PACKET_BYTES"],
                                       app.config["SOCKET_READ_BYTES_PER_SECOND"], eio.sleep)
    app.wsgi_app = limit_handshakes(RefuseWebSocketCompression(app.wsgi_app),
                                    app.config["HANDSHAKE_BURST"],
                                    app.config["HANDSHAKES_PER_SECOND"])
    app.wsgi_app = PageCache(app.wsgi_app, app.extensions["comongus.changes"],
                             app.config["CORS_ORIGINS"])
    if app.config["TRUSTED_PROXIES"]:
        # Outermost, so every limit keyed on REMOTE_ADDR counts the forwarded client.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    events.init_app(app)
    rest.init_app(app)
    owner.init_app(app)
    app.register_blueprint(inbox.bp)
    if app.config["OWNER_PASSWORD"]:  # without an owner, no moderation routes exist
        app.register_blueprint(moderation_log.bp)
        app.register_blueprint(message_deletion.bp)
    room_settings.init_app(app)
    app.register_blueprint(pages.bp)
    static_files.init_app(app)
    return app


def _guard_sessions(app: Flask) -> None:
    """Per-session limits, through Engine.IO's and python-socketio's public edges,
    under any async mode (the eventlet tuning, if `python app.py` installs it,
    replaces some with faster ones)."""
    server = socketio.server
    packets = handle_packets_in_order(server, app.config["MAX_PENDING_PACKETS"])
    cut_slow_consumers(server, app.config["MAX_CLIENT_BACKLOG"],
                       app.config["MAX_CLIENT_BACKLOG_BYTES"])
    close_sessions_without_namespace(server, app.config["NAMESPACE_CONNECT_TIMEOUT"], packets)
    app.extensions["comongus.silent_session_sweep"] = close_silent_sessions(server)
