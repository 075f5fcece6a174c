"""Tools the tests share: free ports, waiting, services that must exist in CI, a real server."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("COMONGUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    """CI sets COMONGUS_REQUIRE_SERVICES=1: a missing service is then a failure, not a skip."""
    return os.environ.get("COMONGUS_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (COMONGUS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.02,
             message: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def postgres_schema_url() -> tuple[str, Callable[[], None]]:
    """A URL into a fresh schema of the local PostgreSQL, and a function that drops it."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.begin() as connection:
            schema = "t_" + uuid.uuid4().hex[:12]
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sqlalchemy.exc.OperationalError as error:
        missing_service(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}")

    def drop() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()

    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", drop


def engineio_websocket(url: str, **options):
    """A raw Socket.IO connection over WebSocket, handshake and namespace connect done.

    It reads frames in the order the server wrote them (python-socketio's client
    hands each event to a thread of its own, so its order proves nothing).
    """
    import websocket

    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", **options)
    assert ws.recv().startswith("0{")
    ws.send("40")
    assert ws.recv().startswith("40{")
    return ws


def read_events(ws, event: str, count: int, keep=lambda payload: True) -> list:
    """The next `count` payloads of `event` that `keep` accepts, on a raw connection."""
    import json

    found = []
    while len(found) < count:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")  # answer the heartbeat
        elif frame.startswith("42["):
            name, *args = json.loads(frame[2:])
            if name == event and keep(args[0]):
                found.append(args[0])
    return found


class ServerProcess:
    """A real ComongUS process (`python app.py` by default) on a free port."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None,
                 command: list[str] | None = None) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port),
                    "DATABASE_URL": f"sqlite:///{workdir / 'chat.sqlite3'}",
                    "PYTHONUNBUFFERED": "1", **(env or {})}
        self.command = command or [sys.executable, "app.py"]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [part.replace("{port}", str(self.port)) for part in self.command],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            wait_for(self._healthy, timeout=30, interval=0.1, message=f"server on {self.url}")
        except AssertionError:
            self.kill()
            raise AssertionError("server did not start:\n" + self.log()) from None
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("server exited:\n" + self.log())
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        """SIGTERM, as a platform stops a process; SIGKILL if it lingers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()


@contextmanager
def server_processes() -> Iterator[Callable[[Path, dict[str, str]], ServerProcess]]:
    """`start(workdir, env)` starts a real server; every one started is killed at the end."""
    started: list[ServerProcess] = []

    def start(workdir: Path, env: dict[str, str]) -> ServerProcess:
        started.append(ServerProcess(workdir, env))
        return started[-1].start()

    try:
        yield start
    finally:
        for server in started:
            server.kill()


def start_server(workdir: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """Start `python app.py` on a free port with a SQLite file in `workdir`."""
    return ServerProcess(workdir, env).start()
