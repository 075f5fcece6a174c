"""What the owner's tests share: the password and its Bearer header, a signed-in
session, a client that also hears the moderation events, and an HTTP receiver for
the nudge (NOTIFY_URL)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

PASSWORD = "owner's own password"
OWNER = {"OWNER_PASSWORD": PASSWORD}
BEARER = {"Authorization": f"Bearer {PASSWORD}"}


def owner_http(url) -> requests.Session:
    """A session signed in as the owner that sends the CSRF token with every request."""
    http = requests.Session()
    assert http.post(url + "/owner/session", json={"password": PASSWORD},
                     timeout=5).status_code == 204
    http.headers["X-CSRF-Token"] = http.get(url + "/owner/session", timeout=5).json()["csrfToken"]
    return http


def owner_cookie(url) -> str:
    """A `Cookie` header value of a fresh owner sign-in, for a Socket.IO handshake."""
    return "session=" + owner_http(url).cookies["session"]


def listening(client):
    """A client that also records `messageDeleted` and `roomSettings`."""
    for event in ("messageDeleted", "roomSettings"):
        client.sio.on(event, lambda data, event=event: client._record(event, data))
    return client


class Receiver:
    """An HTTP server in a thread that records every POST; `hold` keeps each request
    unanswered until `release()`."""

    def __init__(self, hold: bool = False) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.released = threading.Event()
        if not hold:
            self.released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.headers.append(dict(self.headers))
                receiver.bodies.append(json.loads(body))
                receiver.released.wait(30)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/nudge"

    def rooms(self) -> list[str]:
        return [body.get("room") for body in self.bodies]

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
