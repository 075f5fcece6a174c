"""Fixtures every kind of test shares.

The database every app- or server-backed test runs on (a SQLite file, and a
PostgreSQL schema of its own); for in-process tests, an app, its Flask test
client and Socket.IO test clients; for real-server tests, `servers` (the one way
to start `python app.py`) and `clients` (python-socketio clients that record).
"""
from __future__ import annotations

import pytest

from comongus import create_app
from comongus.extensions import socketio
from tests.clients import ChatClient
from tests.helpers import close_databases, postgres_schema_url, server_processes, wait_for


@pytest.fixture
def postgres_url():
    """A fresh schema of the local PostgreSQL, dropped afterwards."""
    url, drop = postgres_schema_url()
    yield url
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every test that uses it runs on a SQLite file and on the local PostgreSQL.

    The SQLite file is the one a server started in tmp_path uses by default
    (`servers()` without DATABASE_URL), so a test may reach it directly.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(request, database_url):
    """Overrides for the app under test; `@pytest.mark.settings(KEY=value)` adds more."""
    marker = request.node.get_closest_marker("settings")
    return {"TESTING": True, "DATABASE_URL": database_url, "SOCKETIO_ASYNC_MODE": "threading",
            "ROOMDATA_INTERVAL": 0.01, **(marker.kwargs if marker else {})}


@pytest.fixture
def app(settings):
    """The app under test; its database connections are closed afterwards."""
    app = create_app(settings)
    yield app
    close_databases(app)


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

    def __init__(self, app, flask_client, headers=None):
        self.client = socketio.test_client(app, flask_test_client=flask_client,
                                           headers=headers)
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
    """Open Socket.IO test clients: `alice = connect()`; `headers` go with the handshake."""
    opened = []

    def open_client(headers=None):
        tester = SocketTester(app, client, headers)
        opened.append(tester)
        return tester

    yield open_client
    for tester in opened:
        if tester.client.is_connected():
            tester.disconnect()


@pytest.fixture
def server_defaults():
    """Settings every server a test starts gets under its own. A folder's conftest may
    override it: hardening raises the per-address limits, scale-out shares Redis."""
    return {}


@pytest.fixture
def servers(request, tmp_path, server_defaults):
    """Start real servers: `server = servers(env)`; every one is killed at teardown.

    `workdir` (tmp_path by default: the SQLite file and the logs) and `command`
    (`python app.py` by default) are ServerProcess's. A test that stops, kills or
    restarts a server on purpose does so through the ServerProcess returned.
    """
    for database in ("database_url", "postgres_url"):
        if database in request.fixturenames:
            request.getfixturevalue(database)  # set up first, so dropped after the servers
    with server_processes() as start:
        def start_server(env=None, workdir=None, command=None):
            return start(workdir or tmp_path, {**server_defaults, **(env or {})}, command)

        yield start_server


@pytest.fixture
def clients():
    """Open real clients: `alice = clients(server.url)`; all closed at teardown."""
    opened = []

    def open_client(url, transports=("websocket",), **options):
        opened.append(ChatClient(url, transports, **options))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()
