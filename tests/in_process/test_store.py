"""The store's promises, on SQLite and PostgreSQL: gap-free seq in commit order, durability."""
from __future__ import annotations

import subprocess
import sys
import threading

from comongus import create_app
from comongus.store import store
from tests.helpers import ROOT


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
