"""Where messages are kept: SQLAlchemy over a SQLite file or PostgreSQL.

The store knows nothing of sockets. Its promise: `save_message` returns only after
the message is committed, and a room's `seq` runs 1, 2, 3, ... in commit order.
"""
from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count

from flask import Flask, current_app
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    create_engine,
    event,
    insert,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .config import SettingError, patched_library
from .group_commit import GroupCommit
from .models import Base, Message, Room
from .payloads import json_size

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 3
HISTORY_BATCH = 20  # rows fetched at a time while a history fills its byte budget


# Plain rows with Message's attribute names: building ORM objects cost more than
# the query itself on a page of 100.
_MESSAGE_ROWS = select(*Message.__table__.columns)
_STORE_MESSAGES = insert(Message).returning(*Message.__table__.columns,
                                           sort_by_parameter_order=True)
_TAKE_SEQS = (update(Room).where(Room.name == bindparam("room"))
              .values(last_seq=Room.last_seq + bindparam("count")).returning(Room.last_seq))


# Connections per engine: a pool of POOL_SIZE kept open, up to POOL_OVERFLOW more.
POOL_SIZE = 5
POOL_OVERFLOW = 10
# The health check's own engine: a stuck database answers 503 within about this.
HEALTH_WAIT_SECONDS = 2.0


class WritersBusy(SQLAlchemyError):
    """Every writer's place is taken (all waiting on a lock, say): refused, not queued."""


class Store:
    """Binds an engine to each app; the engine itself lives in `app.extensions`.

    Writers take one of DATABASE_MAX_WRITERS places, fewer than the pool's
    connections, so writers stuck behind a lock leave connections for reads; the
    health check has an engine of its own.
    """

    def init_app(self, app: Flask) -> None:
        max_writers = app.config["DATABASE_MAX_WRITERS"]
        if not 1 <= max_writers < POOL_SIZE + POOL_OVERFLOW:
            raise SettingError(f"DATABASE_MAX_WRITERS must be from 1 to "
                             f"{POOL_SIZE + POOL_OVERFLOW - 1} (the pool has "
                             f"{POOL_SIZE + POOL_OVERFLOW} connections), not {max_writers}")
        wait = app.config["DATABASE_WAIT_SECONDS"]
        engine = make_engine(app.config["DATABASE_URL"], pool_timeout=wait)
        _create_tables(engine)
        app.extensions["comongus.store"] = engine
        app.extensions["comongus.store.health"] = make_engine(
            app.config["DATABASE_URL"], pool_timeout=HEALTH_WAIT_SECONDS, pool_size=1,
            statement_timeout=HEALTH_WAIT_SECONDS)
        app.extensions["comongus.store.writer"] = engine.execution_options(
            sqlite_begin="IMMEDIATE")
        app.extensions["comongus.store.writers"] = (threading.BoundedSemaphore(max_writers),
                                                    wait)
        app.extensions["comongus.store.saves"] = self._saves(engine, wait)
        app.extensions["comongus.changes"] = change_counter(engine)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["comongus.store"]

    def save_message(self, room: str, username: str, text: str,
                     client_id: str | None = None) -> tuple[Row, bool]:
        """Store a message; returns `(message, created)`, the message as a row.

        With a `client_id` already stored for this user in this room, nothing new is
        stored and the first message comes back with `created=False`. On SQLite,
        saves that arrive together share a transaction (group_commit.py).
        """
        return current_app.extensions["comongus.store.saves"](room, username, text, client_id)

    def _saves(self, engine: Engine, wait: float) -> Callable[..., tuple[Row, bool]]:
        """How a save is written. SQLite writes one transaction at a time anyway (the
        file's lock), so saves queued meanwhile share the next one; a save still
        queued after `wait` seconds is refused, as a writer without a place is.
        PostgreSQL locks a room's counter row, not the database: its saves stay
        each in a transaction of its own, so a room stuck on a lock holds up no
        other room.
        """
        if engine.dialect.name == "postgresql":
            def save_alone(*save) -> tuple[Row, bool]:
                outcome = self._write_saves([save])[0]
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome

            return save_alone
        return GroupCommit(self._write_saves, queue_timeout=wait,
                           too_long=lambda: WritersBusy("the writer ahead is stuck"))

    def _write_saves(self, saves: list[tuple]) -> list[tuple[Row, bool] | Exception]:
        """Write queued saves, together while nothing fails; each one's outcome, in order."""
        writers, wait = current_app.extensions["comongus.store.writers"]
        if not writers.acquire(timeout=wait):
            raise WritersBusy("every writer's place is taken")
        try:
            if len(saves) > 1:
                try:
                    return self._write_once(saves)
                except IntegrityError:
                    # A resend and its original in one batch, or another process
                    # creating a room's counter row: each save alone then, so none
                    # fails for another's sake.
                    log.info("writing %d saves one at a time after a write race", len(saves))
            outcomes: list[tuple[Row, bool] | Exception] = []
            for save in saves:
                try:
                    outcomes.append(self._write_alone(save))
                except SQLAlchemyError as error:
                    outcomes.append(error)
            return outcomes
        finally:
            writers.release()

    def _write_alone(self, save: tuple) -> tuple[Row, bool]:
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                return self._write_once([save])[0]
            except IntegrityError:
                # Two writers raced: both created a room's first counter row, or
                # both stored one client_id. The retry sees the winner's row.
                if attempt == SAVE_ATTEMPTS:
                    raise
                log.info("retrying a message store after a write race in room %r", save[0])
        raise AssertionError("unreachable")

    def _write_once(self, saves: list[tuple]) -> list[tuple[Row, bool]]:
        # SQL statements, not ORM objects: a broadcast waits for this commit, and
        # the ORM's unit of work took more than half of it.
        outcomes: list[tuple[Row, bool] | None] = [None] * len(saves)
        with current_app.extensions["comongus.store.writer"].begin() as connection:
            for i, (room, username, _, client_id) in enumerate(saves):
                if client_id is not None:
                    earlier = connection.execute(_MESSAGE_ROWS.where(
                        Message.room == room, Message.username == username,
                        Message.client_id == client_id)).first()
                    if earlier is not None:
                        outcomes[i] = earlier, False
            new = [i for i, outcome in enumerate(outcomes) if outcome is None]
            seqs = _take_seqs(connection, [saves[i][0] for i in new])
            now = datetime.now(UTC).replace(tzinfo=None)
            if new:
                rows = connection.execute(_STORE_MESSAGES, [
                    {"room": saves[i][0], "seq": seq, "username": saves[i][1],
                     "text": saves[i][2], "client_id": saves[i][3], "created_at": now}
                    for i, seq in zip(new, seqs, strict=True)]).all()
                for i, row in zip(new, rows, strict=True):
                    outcomes[i] = row, True
        return outcomes

    def message_with_client_id(self, room: str, username: str, client_id: str) -> Row | None:
        """The message `username` stored in `room` with `client_id`, if there is one."""
        with self.engine.connect() as connection:
            return connection.execute(_MESSAGE_ROWS.where(
                Message.room == room, Message.username == username,
                Message.client_id == client_id)).first()

    def latest_messages(self, room: str | None = None, limit: int = 100,
                        before_id: int | None = None, max_bytes: int | None = None) -> list[Row]:
        """The newest `limit` messages (of `room`, older than `before_id`), oldest first.

        With `max_bytes`, only the newest of them that fit in it (see `_within`).
        """
        query = _filtered(_MESSAGE_ROWS, room, before_id=before_id)
        rows, _ = self._within(query.order_by(Message.id.desc()).limit(limit), max_bytes)
        return rows[::-1]

    def messages_after(self, after_id: int, room: str | None = None, limit: int = 100,
                       before_id: int | None = None) -> list[Row]:
        """The first `limit` messages with an id above `after_id`, oldest first."""
        query = _filtered(_MESSAGE_ROWS, room, before_id=before_id)
        return self._all(query.where(Message.id > after_id).order_by(Message.id).limit(limit))

    def room_messages_since(self, room: str, seq: int, limit: int,
                            max_bytes: int | None = None) -> tuple[list[Row], bool]:
        """A client's catch-up: the first messages of `room` with a `seq` above `seq`,
        at most `limit` of them and `max_bytes` (see `_within`); and whether more
        were left out, for the client to page over REST."""
        query = _MESSAGE_ROWS.where(Message.room == room, Message.seq > seq)
        rows, more = self._within(query.order_by(Message.seq).limit(limit + 1), max_bytes)
        return rows[:limit], more or len(rows) > limit

    def _within(self, query, max_bytes: int | None) -> tuple[list[Row], bool]:
        """The rows of `query`, in its order, until their JSON would pass `max_bytes`
        (the first row always comes, whatever it weighs); and whether rows were left.

        Rows are fetched a few at a time, so a budget met early reads no more.
        """
        if max_bytes is None:
            return self._all(query), False
        rows, size = [], 0
        with self.engine.connect() as connection:
            result = connection.execution_options(yield_per=HISTORY_BATCH).execute(query)
            try:
                for row in result:
                    size += json_size(row)
                    if rows and size > max_bytes:
                        return rows, True
                    rows.append(row)
            finally:
                result.close()
        return rows, False

    def ping(self) -> None:
        """Raise unless the database answers (on connections no writer can take)."""
        with current_app.extensions["comongus.store.health"].connect() as connection:
            connection.execute(text("SELECT 1"))

    def _all(self, query) -> list[Row]:
        with self.engine.connect() as connection:
            return list(connection.execute(query))


def change_counter(engine: Engine) -> Callable[[], object | None]:
    """A value that changes whenever anything is committed, by any process; None
    where nothing tells, and then nothing read may be kept.

    For caches of what was read. On a SQLite file, `PRAGMA data_version` on a
    connection kept for it (and never written through) costs microseconds. On
    PostgreSQL, the current snapshot (the transactions still running): ids are
    taken before commit, so a slow writer's message can commit after one with a
    higher id, and the newest id would not change. A SQLite database in memory
    or named by URI has neither: its newest id would miss a deletion, which
    changes a row and adds none.
    """
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        def snapshot() -> str:
            with engine.connect() as connection:
                return connection.execute(text("SELECT pg_current_snapshot()::text")).scalar()

        return snapshot
    if database and database != ":memory:" and not database.startswith("file:"):
        watcher = sqlite3.connect(database, check_same_thread=False, isolation_level=None,
                                  timeout=0, factory=_CooperativeConnection)
        lock = threading.Lock()

        def data_version() -> int:
            with lock:
                return watcher.cursor().execute("PRAGMA data_version").fetchone()[0]

        return data_version
    return lambda: None


def _create_tables(engine: Engine) -> None:
    """Create the tables that are missing, one process at a time.

    Processes started together on an empty PostgreSQL database (a cluster's
    first start) would otherwise race on CREATE TABLE and one would fail.
    """
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(727465)"))  # any fixed key
        Base.metadata.create_all(connection)


def _filtered(query, room: str | None, before_id: int | None):
    if room is not None:
        query = query.where(Message.room == room)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return query


def _take_seqs(connection: Connection, rooms: list[str]) -> list[int]:
    """The next `seq` of each room in `rooms` (a room may come again: its next ones in
    turn), holding the rooms' counter rows until the commit.

    On PostgreSQL the UPDATE's row lock makes a second writer in a room wait for
    the first one's commit, so `seq` order is commit order; on SQLite BEGIN
    IMMEDIATE does the same for the whole file. A room's first message creates
    its row; two first messages at once fail one of them on the primary key, and
    it retries.
    """
    counts = Counter(rooms)
    following = {}
    for room in counts:
        last = connection.execute(_TAKE_SEQS, {"room": room, "count": counts[room]}).scalar()
        if last is None:
            connection.execute(insert(Room), {"name": room, "last_seq": counts[room]})
            last = counts[room]
        following[room] = count(last - counts[room] + 1)
    return [next(following[room]) for room in rooms]


def with_driver(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver that runs under eventlet.

    Platforms hand out `postgres://`, which SQLAlchemy no longer accepts, and
    SQLAlchemy 2.1 picks psycopg 3 for a bare `postgresql://`.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


# How long a statement waits for another writer (another process, say) to let go.
LOCK_WAIT_SECONDS = 15.0
LOCK_RETRY_SECONDS = 0.02


def _while_locked(statement: Callable[[], object]):
    """Run `statement`, trying again while the file is locked, for LOCK_WAIT_SECONDS.

    What SQLite's busy handler does, but sleeping between tries: a cooperative
    sleep under eventlet, where the handler's sleep in C would stop every greenlet.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as error:
            message = str(error)
            if ("locked" not in message and "busy" not in message) \
                    or time.monotonic() > deadline:
                raise
            time.sleep(LOCK_RETRY_SECONDS)


class _CooperativeCursor(sqlite3.Cursor):
    """A cursor whose statements wait for a lock by `_while_locked`: reads too, since a
    checkpoint or a schema change can lock them out."""

    def execute(self, sql, parameters=()):
        return _while_locked(lambda: sqlite3.Cursor.execute(self, sql, parameters))

    def executemany(self, sql, parameters):
        return _while_locked(lambda: sqlite3.Cursor.executemany(self, sql, parameters))


class _CooperativeConnection(sqlite3.Connection):
    """A connection with no busy handler (timeout 0) whose cursors wait cooperatively."""

    def cursor(self, factory=_CooperativeCursor):
        return super().cursor(factory)


def make_engine(url: str, pool_timeout: float = 30.0, pool_size: int = POOL_SIZE,
                statement_timeout: float = LOCK_WAIT_SECONDS) -> Engine:
    """An engine for `url` whose waits never stall the other connections' greenlets.

    SQLite gets WAL, write-locking BEGINs, and lock waits that sleep between
    tries (a cooperative sleep under eventlet) instead of inside SQLite's C busy
    handler, which would block the whole eventlet hub. PostgreSQL gets
    psycopg2's wait callback when eventlet is in charge, and a statement timeout.
    A connection not free within `pool_timeout` seconds is an error (a 503),
    not a wait as long as the client's patience.
    """
    url = with_driver(url)
    pool = {"pool_size": pool_size, "max_overflow": POOL_OVERFLOW if pool_size == POOL_SIZE
            else 0, "pool_timeout": pool_timeout}
    if not url.startswith("sqlite"):
        _let_psycopg2_wait_cooperatively()
        engine = create_engine(url, pool_pre_ping=True, **pool)

        @event.listens_for(engine, "connect")
        def _bound_waits(dbapi_connection, _record):
            # A statement stuck behind another session's lock fails (an error ack)
            # instead of holding its sender's queue for ever.
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(statement_timeout * 1000)}")
            dbapi_connection.commit()

        return engine
    if make_url(url).database in (None, "", ":memory:"):
        pool = {}  # one connection, shared: SQLAlchemy's own pool for a database in memory
    engine = create_engine(url, connect_args={"timeout": 0, "factory": _CooperativeConnection},
                           **pool)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions begin in _begin below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of the process (not of the OS).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A writer takes the write lock at BEGIN, so it never fails half-way
        # with "database is locked" after it has read.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _let_psycopg2_wait_cooperatively() -> None:
    """Under eventlet or gevent, psycopg2 waits for the server on the hub.

    gevent through psycogreen; eventlet through its own helper.
    """
    if patched_library() == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
        return
    eventlet = sys.modules.get("eventlet")  # only app.py's production path imports it
    if eventlet is None or not eventlet.patcher.is_monkey_patched("socket"):
        return
    from eventlet.support.psycopg2_patcher import make_psycopg_green

    make_psycopg_green()


store = Store()
