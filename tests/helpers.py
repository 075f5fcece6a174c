"""Tools the tests share: free ports, waiting, services that must exist in CI, a database
schema of a test's own, and a real server process (tests/conftest.py's `servers` starts them;
tests/clients.py holds the clients that talk to them)."""
from __future__ import annotations

import os
import random
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
# The server `python app.py` runs, as app.py reads it: SERVER=gevent in the tests'
# environment starts every real server on gevent (CI runs the real-server tests so too).
SERVER = os.environ.get("SERVER", "").strip().lower() or "eventlet"
eventlet_only = pytest.mark.skipif(
    SERVER != "eventlet", reason=f"about eventlet's server, and SERVER={SERVER} serves on "
    f"{SERVER}: the run without SERVER covers it")
POSTGRES_URL = os.environ.get("COMONGUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COMONGUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Many sessions, events and posts from one address in a few seconds, for tests about
# something else; each of these limits has tests of its own.
QUIET_LIMITS = {"HANDSHAKE_BURST": "100000", "HANDSHAKES_PER_SECOND": "100000",
                "SEND_BURST": "10000", "EVENT_BUDGET_BURST": "100000",
                "REST_POSTS_PER_SECOND": "0"}


def services_required() -> bool:
    """CI sets COMONGUS_REQUIRE_SERVICES=1: a missing service is then a failure, not a skip."""
    return os.environ.get("COMONGUS_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (COMONGUS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@contextmanager
def held_still(server: ServerProcess) -> Iterator[None]:
    """The server process gets no CPU: a hub so busy it reads and handles nothing."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


def close_databases(app) -> None:
    """Close an app's database connections, so a long run on PostgreSQL never holds
    more than one test's worth of them."""
    for name in ("comongus.store", "comongus.store.health"):
        app.extensions[name].dispose()


# Ports for servers tests start are picked from here up to the kernel's ephemeral range.
FIRST_TEST_PORT = 20000


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: one from that range can be
    given to an outgoing connection as its local port before the server binds it."""
    for _ in range(200):
        port = random.randrange(FIRST_TEST_PORT, _first_ephemeral_port())
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def _first_ephemeral_port() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            first = int(ports.read().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32768  # Linux's default
    return max(first, FIRST_TEST_PORT + 1000)


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


class ServerProcess:
    """A real ComongUS process (`python app.py` by default, on the server SERVER names) on a
    free port."""

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
        """The tail of the server's log, for assertion messages and recent lines."""
        return self.log_path.read_text(errors="replace")[-5000:]

    def full_log(self) -> str:
        return self.log_path.read_text(errors="replace")

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
        """Stop and start again on the same port (clients come back to the same URL)."""
        self.stop()
        return self.start()


@contextmanager
def server_processes() -> Iterator[Callable[..., ServerProcess]]:
    """`start(workdir, env, command=None)` starts a real server; every one started is killed
    at the end (the `servers` fixture, and the fixtures that share one server, use this)."""
    started: list[ServerProcess] = []

    def start(workdir: Path, env: dict[str, str], command: list[str] | None = None
              ) -> ServerProcess:
        started.append(ServerProcess(workdir, env, command))
        return started[-1].start()

    try:
        yield start
    finally:
        for server in started:
            server.kill()


def app_py_under(open_files: int) -> list[str]:
    """`python app.py` with its open-file limit, soft and hard, at `open_files`."""
    return [sys.executable, "-c",
            f"import resource, runpy; resource.setrlimit(resource.RLIMIT_NOFILE, "
            f"({open_files}, {open_files})); runpy.run_path('app.py', run_name='__main__')"]


def start_up(env: dict[str, str], command: list[str] | None = None,
             open_files: int | None = None) -> subprocess.CompletedProcess:
    """Run a server command expecting it to stop at once (a start-up error); its result."""
    if open_files is not None:
        command = app_py_under(open_files)
    environment = {**ServerProcess(ROOT).env, "PORT": str(free_port()), **env}
    try:
        return subprocess.run(command or [sys.executable, "app.py"], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the server started with {env}") from None


def stored(server: ServerProcess, room: str | None = None) -> list[dict]:
    """The messages a server has stored (in `room`), over REST."""
    query = {"limit": 1000, **({"roomname": room} if room else {})}
    response = requests.get(server.url + "/messages", params=query, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def post_message(base_url: str, room: str, username: str, text: str) -> dict:
    """Post a message as `username` over REST (as someone else would); the stored message."""
    response = requests.post(base_url + "/messages",
                             json={"username": username, "roomname": room, "text": text},
                             timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def stored_texts(base_url: str, room: str) -> list[str]:
    """The texts stored in `room`, oldest first."""
    response = requests.get(base_url + "/messages", params={"roomname": room}, timeout=5)
    return [message["text"] for message in response.json()["results"]]
