"""Calls that queue up together are written together, and each caller gets its own
answer: its result, its own failure, or the failure of the batch it was in."""
from __future__ import annotations

import threading
import time

import pytest

from comongus.group_commit import GroupCommit


class Writer:
    """A batch writer that holds its first batch until let go, and records each batch."""

    def __init__(self, fail_batch_with=None):
        self.batches = []
        self.first_started = threading.Event()
        self.go_on = threading.Event()
        self.fail_batch_with = fail_batch_with

    def __call__(self, batch):
        self.batches.append([args[0] for args in batch])
        if len(self.batches) == 1:
            self.first_started.set()
            self.go_on.wait(10)
        elif self.fail_batch_with is not None:
            raise self.fail_batch_with
        return [ValueError(name) if name.startswith("bad") else name.upper()
                for name, in batch]


def call_while_first_is_written(writer, names):
    """`names[0]` leads; the rest call while its batch is held. Returns each outcome."""
    commit = GroupCommit(writer)
    outcomes = {}

    def call(name):
        try:
            outcomes[name] = commit(name)
        except Exception as error:  # kept as this caller's outcome
            outcomes[name] = error

    threads = [threading.Thread(target=call, args=(names[0],))]
    threads[0].start()
    assert writer.first_started.wait(10)
    for name in names[1:]:
        threads.append(threading.Thread(target=call, args=(name,)))
        threads[-1].start()
    time.sleep(0.3)  # all queued behind the first
    writer.go_on.set()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    return commit, outcomes


def test_callers_queued_during_a_write_go_together_and_get_their_own_outcomes():
    writer = Writer()
    commit, outcomes = call_while_first_is_written(writer, ["a", "b", "bad", "c"])

    assert writer.batches[0] == ["a"]
    assert sorted(writer.batches[1]) == ["b", "bad", "c"]
    assert (outcomes["a"], outcomes["b"], outcomes["c"]) == ("A", "B", "C")
    assert isinstance(outcomes["bad"], ValueError)
    assert commit("d") == "D"  # the lead was handed on and given back


def test_a_failed_batch_fails_each_of_its_callers_and_the_next_call_still_runs():
    writer = Writer(fail_batch_with=RuntimeError("database gone"))
    commit, outcomes = call_while_first_is_written(writer, ["a", "b", "c"])

    assert outcomes["a"] == "A"
    assert [str(outcomes[name]) for name in ("b", "c")] == ["database gone"] * 2
    writer.fail_batch_with = None
    assert commit("d") == "D"


def test_a_batch_holds_at_most_max_batch_calls():
    writer = Writer()
    commit = GroupCommit(writer, max_batch=2)
    first = threading.Thread(target=commit, args=("a",))
    first.start()
    assert writer.first_started.wait(10)
    rest = [threading.Thread(target=commit, args=(name,)) for name in "bcde"]
    for thread in rest:
        thread.start()
    time.sleep(0.3)
    writer.go_on.set()
    for thread in [first, *rest]:
        thread.join(10)
    assert [len(batch) for batch in writer.batches] == [1, 2, 2]


@pytest.mark.parametrize("max_batch", [0, -1])
def test_a_batch_must_hold_at_least_one_call(max_batch):
    with pytest.raises(ValueError):
        GroupCommit(lambda batch: batch, max_batch=max_batch)
