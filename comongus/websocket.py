"""WSGI middleware that keeps WebSocket frames uncompressed.

Browsers and socket.io-client offer permessage-deflate on every handshake and
eventlet accepts it with no setting to refuse it; it then keeps ~200 KB of zlib
state per socket and compresses every frame for every recipient, which starves
the heartbeats of a full room. Hiding the offer makes eventlet (and
simple-websocket) answer without the extension.
"""


def refuse_websocket_compression(wsgi_app):
    def app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app
