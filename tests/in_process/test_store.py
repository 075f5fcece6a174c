"""The store's promises, on SQLite and PostgreSQL: gap-free seq in commit order, durability."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import DataError, SQLAlchemyError

from comongus import create_app
from comongus.store import WritersBusy, store
from tests.helpers import ROOT, close_databases


def run_together(count, work):
    """Run `work(i)` in `count` threads at once; returns their results, raises their errors."""
    results, errors = [None] * count, []

    def run(i):
        try:
            results[i] = work(i)
        except Exception as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_concurrent_writers_get_gap_free_seq_in_commit_order(app):
    """Writers racing in one room (and its very first message) never skip or share a seq."""
    def write(writer):
        with app.app_context():
            for i in range(15):
                store.save_message("busy", f"w{writer}", f"{writer}-{i}")

    run_together(4, write)
    with app.app_context():
        stored = store.latest_messages("busy", limit=1000)
    assert [m.seq for m in stored] == list(range(1, 61))  # id order is seq order
    for writer in range(4):  # one writer's messages keep their order
        mine = [m.text for m in stored if m.username == f"w{writer}"]
        assert mine == [f"{writer}-{i}" for i in range(15)]


def test_concurrent_resends_of_one_client_id_store_one_message(app):
    def resend(_):
        with app.app_context():
            return store.save_message("r", "Alice", "once", client_id="dup")[0].id

    assert len(set(run_together(6, resend))) == 1
    with app.app_context():
        assert [m.text for m in store.latest_messages("r")] == ["once"]


def test_messages_survive_a_new_app_on_the_same_database(settings, save):
    save("lobby", "Alice", "before the restart")
    restarted = create_app(settings)
    with restarted.app_context():
        assert [m.text for m in store.latest_messages("lobby")] == ["before the restart"]
        message, created = store.save_message("lobby", "Bob", "after")
    assert created and message.seq == 2


def test_processes_starting_together_on_an_empty_database_all_start(database_url):
    """A cluster's first start: several processes create the tables at the same moment."""
    settings = {"DATABASE_URL": database_url, "SOCKETIO_ASYNC_MODE": "threading"}
    starter = ("import sys\n"
               "from comongus import create_app\n"
               "print('imported', flush=True)\n"
               "sys.stdin.readline()\n"
               f"create_app({settings!r})\n")
    processes = [subprocess.Popen([sys.executable, "-c", starter], cwd=ROOT, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
                 for _ in range(6)]
    for process in processes:  # every one imported, so the go below starts them together
        assert process.stdout.readline() == "imported\n"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, errors
    with create_app(settings).app_context():
        message, created = store.save_message("lobby", "Alice", "the tables are all there")
    assert created and message.seq == 1



@contextmanager
def app_on(database_url, **settings):
    """An app of its own on one database, for what only that database does."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "SOCKETIO_ASYNC_MODE": "threading", **settings})
    try:
        yield app
    finally:
        close_databases(app)


def saved_behind_a_busy_writer(app, saves, errors_kept=False):
    """Each of `saves` (save_message's arguments) in a thread of its own, the first
    while another connection holds the database's write lock, the others once it
    waits; the lock is let go when all are queued. Returns their results, in order
    (with `errors_kept`, a failed save's error in its place), and how many
    transactions committed."""
    commits = []
    with app.app_context():
        event.listen(store.engine, "commit", lambda _connection: commits.append(1))
        blocker = store.engine.execution_options(sqlite_begin="IMMEDIATE").connect()
        transaction = blocker.begin()
        if blocker.dialect.name == "postgresql":
            blocker.exec_driver_sql("LOCK TABLE rooms IN EXCLUSIVE MODE")

    def save(i):
        with app.app_context():
            try:
                return store.save_message(*saves[i])
            except SQLAlchemyError as error:
                if not errors_kept:
                    raise
                return error

    first = {}
    leader = threading.Thread(target=lambda: first.update(result=save(0)))
    leader.start()
    time.sleep(0.5)  # the first save waits for the lock
    rest = {}
    followers = threading.Thread(target=lambda: rest.update(
        results=run_together(len(saves) - 1, lambda i: save(i + 1))))
    followers.start()
    time.sleep(0.5)  # the others queue behind it
    transaction.rollback()
    blocker.close()
    leader.join()
    followers.join()
    return [first["result"], *rest["results"]], len(commits)


def test_saves_that_queue_behind_a_busy_writer_share_one_commit_on_sqlite(app):
    """SQLite writes one transaction at a time: the saves queued meanwhile go
    together. PostgreSQL locks rooms, not the file: each save stays alone, so a
    room stuck on a lock holds up no other (the next test)."""
    saves = [("first", "Ann", "waits alone")]
    saves += [(f"room-{i % 3}", f"u{i}", f"text {i}") for i in range(12)]
    results, commits = saved_behind_a_busy_writer(app, saves)

    with app.app_context():
        on_sqlite = store.engine.dialect.name == "sqlite"
    assert commits == (2 if on_sqlite else 13)  # SQLite: the first alone, then the twelve
    assert [(m.room, m.username, m.text) for m, _ in results] == saves
    assert all(created for _, created in results)
    with app.app_context():
        for room in ("room-0", "room-1", "room-2"):
            stored = store.latest_messages(room)
            assert [m.seq for m in stored] == [1, 2, 3, 4]
            assert sorted(m.id for m in stored) == [m.id for m in stored]  # seq order is id order


def test_a_resend_in_the_same_batch_as_its_original_stores_one_message(app):
    saves = [("first", "Ann", "waits alone", None), ("r", "Bob", "twice", "c1"),
             ("r", "Cy", "beside them", None), ("r", "Bob", "twice", "c1")]
    results, _ = saved_behind_a_busy_writer(app, saves)

    assert [(m.room, m.username, m.text) for m, _ in results] == [s[:3] for s in saves]
    assert results[1][0].id == results[3][0].id
    assert sorted(created for _, created in (results[1], results[3])) == [False, True]
    with app.app_context():
        assert [(m.username, m.text, m.seq) for m in store.latest_messages("r")] in (
            [("Bob", "twice", 1), ("Cy", "beside them", 2)],
            [("Cy", "beside them", 1), ("Bob", "twice", 2)])


def test_a_save_the_database_refuses_fails_alone_and_the_saves_beside_it_are_stored(
        postgres_url):
    """PostgreSQL refuses a name longer than its column (the chat's own checks keep
    names far shorter): that save fails, the others sent with it are stored."""
    with app_on(postgres_url) as app:
        saves = [("first", "Ann", "waits alone"), ("r", "Bob", "fine"),
                 ("r", "x" * 300, "refused"), ("s", "Cy", "fine too")]
        results, _ = saved_behind_a_busy_writer(app, saves, errors_kept=True)
        assert isinstance(results[2], DataError)
        assert [(m.room, m.username, m.text) for m, _ in results[:2] + results[3:]] == \
            saves[:2] + saves[3:]


def test_on_postgresql_a_save_stuck_on_one_rooms_lock_holds_up_no_other_room(postgres_url):
    with app_on(postgres_url) as app:
        with app.app_context():
            store.save_message("locked", "Ann", "makes the room's counter row")
            blocker = store.engine.connect()
            transaction = blocker.begin()
            blocker.exec_driver_sql("SELECT * FROM rooms WHERE name = 'locked' FOR UPDATE")
        stuck = {}

        def save_in_locked_room():
            with app.app_context():
                stuck["result"] = store.save_message("locked", "Ann", "waits for the lock")

        waiting = threading.Thread(target=save_in_locked_room)
        waiting.start()
        time.sleep(0.5)  # waiting on PostgreSQL's row lock now
        started = time.monotonic()
        with app.app_context():
            message, created = store.save_message("calm", "Bob", "not held up")
        assert created and message.room == "calm"
        assert time.monotonic() - started < 5 and "result" not in stuck
        transaction.rollback()
        blocker.close()
        waiting.join(10)
        assert stuck["result"][0].seq == 2


def test_on_sqlite_a_save_queued_behind_a_stuck_writer_is_refused_after_the_wait(tmp_path):
    with app_on(f"sqlite:///{tmp_path}/chat.db", DATABASE_WAIT_SECONDS=0.5) as app:
        with app.app_context():
            store.save_message("lobby", "Ann", "the file exists")
            blocker = store.engine.execution_options(sqlite_begin="IMMEDIATE").connect()
            transaction = blocker.begin()
        first = {}

        def save(key, name):
            with app.app_context():
                try:
                    first[key] = store.save_message("lobby", name, "while locked")
                except WritersBusy as refused:
                    first[key] = refused

        leader = threading.Thread(target=save, args=("leader", "Ann"))
        leader.start()
        time.sleep(0.3)  # the leader waits for the file's lock
        started = time.monotonic()
        save("queued", "Bob")
        assert isinstance(first["queued"], WritersBusy)
        assert time.monotonic() - started < 3
        transaction.rollback()
        blocker.close()
        leader.join(20)
        assert first["leader"][1] is True  # the one writing waited for the lock and wrote


def test_on_a_database_in_memory_a_deleted_message_leaves_the_board_and_the_history():
    """SQLite in memory cannot tell what changed (a deletion adds no row), so nothing
    read from it is kept: the board and the next join show the deletion at once."""
    from tests.conftest import SocketTester
    from tests.owner_helpers import BEARER, OWNER

    with app_on("sqlite://", **OWNER) as app:
        http = app.test_client()

        def board():
            return [m["text"] for m in http.get("/messages").json["results"]]

        def history(reader):
            joiner = SocketTester(app, http)
            try:
                return [m["text"] for m in joiner.join(reader, "lobby")[1]["history"]]
            finally:
                joiner.disconnect()

        first = http.post("/messages", json={"username": "Ann", "text": "oops",
                                             "roomname": "lobby"}).json
        http.post("/messages", json={"username": "Ann", "text": "fine", "roomname": "lobby"})
        assert board() == board() == history("Bob") == history("Carol") == ["oops", "fine"]
        assert http.delete(f"/messages/{first['id']}", headers=BEARER).status_code == 204
        assert board() == history("Dave") == ["", "fine"]
