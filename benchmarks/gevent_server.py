"""ComongUS's own app under gevent instead of eventlet, for the performance comparison.

The performance issue keeps eventlet as the product's server and asks what the
same code does under gevent; this runs exactly `create_app()` on gevent's WSGI
server (WebSocket through simple-websocket), with the listen backlog and
TCP_NODELAY the eventlet server uses. It has none of comongus/serving.py's
connection caps or SIGTERM handling: a benchmark runner, not a deployment.

    PORT=5703 .venv/bin/python benchmarks/gevent_server.py   (needs `pip install gevent`)
"""
from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from comongus import create_app  # noqa: E402


class NoDelayHandler(WSGIHandler):
    def __init__(self, sock, address, server, rfile=None):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile)


app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
gc.freeze()
gc.set_threshold(50_000, 20, 100)
listener = socket.create_server(("127.0.0.1", int(os.environ.get("PORT", "5703"))), backlog=4096)
print(f"ComongUS on gevent at http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
WSGIServer(listener, app, handler_class=NoDelayHandler, log=None).serve_forever()
