"""Fixtures: an app on a real database (a SQLite file, and PostgreSQL), its test
clients, Socket.IO test clients, and a real server process."""
from __future__ import annotations

import pytest

from comongus import create_app
from comongus.extensions import socketio
from tests.helpers import postgres_schema_url, start_server, wait_for


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every test that uses the app runs on a SQLite file and on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chat.sqlite3'}"
        return
    url, drop = postgres_schema_url()
    yield url
    drop()


@pytest.fixture
def settings(request, database_url):
    """Overrides for the app under test; `@pytest.mark.settings(KEY=value)` adds more."""
    marker = request.node.get_closest_marker("settings")
    return {"TESTING": True, "DATABASE_URL": database_url, "SOCKETIO_ASYNC_MODE": "threading",
            "ROOMDATA_INTERVAL": 0.01, **(marker.kwargs if marker else {})}


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def save(app):
    """Store messages straight through the store: `save("lobby", "Alice", "m1", "m2")`."""
    from comongus.store import store

    def save_messages(room, username, *texts):
        with app.app_context():
            return [store.save_message(room, username, text)[0] for text in texts]

    return save_messages


class SocketTester:
    """A Socket.IO test client that keeps everything it received, in order."""

    def __init__(self, app, flask_client):
        self.client = socketio.test_client(app, flask_test_client=flask_client)
        self.received: list[tuple[str, object]] = []

    def emit(self, event, *args):
        """Emit and return the ack's arguments as a tuple.

        The test client returns a lone argument bare and several as a list.
        """
        ack = self.client.emit(event, *args, callback=True)
        return tuple(ack) if isinstance(ack, list) else (ack,)

    def join(self, name, room, **extra):
        return self.emit("join", {"name": name, "room": room, **extra})

    def drain(self):
        for packet in self.client.get_received():
            # The test client unwraps the argument of events named "message" only.
            args = packet["args"] if packet["name"] == "message" else packet["args"][0]
            self.received.append((packet["name"], args))
        return self.received

    def events(self, name):
        return [payload for event, payload in self.drain() if event == name]

    def texts(self):
        return [message["text"] for message in self.events("message")]

    def wait_for_text(self, text, timeout=5.0):
        return wait_for(lambda: text in self.texts(), timeout, message=repr(text))

    def last_users(self):
        data = self.events("roomData")
        return [user["name"] for user in data[-1]["users"]] if data else None

    def wait_for_users(self, names, timeout=5.0):
        return wait_for(lambda: self.last_users() == names, timeout,
                        message=f"roomData {names}, last {self.last_users()}")

    def forget(self):
        self.drain()
        self.received.clear()

    def disconnect(self):
        self.client.disconnect()


@pytest.fixture
def connect(app, client):
    """Open Socket.IO test clients: `alice = connect()`."""
    opened = []

    def open_client():
        tester = SocketTester(app, client)
        opened.append(tester)
        return tester

    yield open_client
    for tester in opened:
        if tester.client.is_connected():
            tester.disconnect()


@pytest.fixture
def live_server(tmp_path):
    """A real `python app.py` on a free port, on a SQLite file in tmp_path."""
    server = start_server(tmp_path)
    yield server
    server.stop()
