"""Group commit: saves that arrive while one is being written share the next transaction.

A message's save is a transaction of its own when it comes alone. Under load,
a transaction's fixed cost (BEGIN, COMMIT and SQLAlchemy's work around them)
was a quarter of the server's CPU at a thousand messages a second, so the
saves that queue up while one is written go together in the next one.

No thread of its own: the first caller leads, yields once so that callers
ready to run can queue (under eventlet a SQLite write never yields, so nothing
would queue while one is written), writes what is queued (itself first), then
hands the lead to the oldest caller still waiting. A caller returns only once
its own save is written, with its own result or error.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

# Saves written in one transaction at most: bounds a transaction's time and
# the statement's size (SQLAlchemy splits larger inserts anyway).
MAX_BATCH = 100


class _Waiting:
    """One caller's save: its arguments, then its outcome."""

    __slots__ = ("args", "ready", "leads", "result", "error")

    def __init__(self, args: tuple) -> None:
        self.args = args
        self.ready = threading.Event()
        self.leads = False  # woken to write the next batch, not with a result
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs `write_batch` on the arguments of calls that queued up together.

    `write_batch(list_of_args)` returns one outcome per call, in order, or an
    exception object for a call that failed alone; if it raises, every call
    of the batch gets that error. A call not taken into a batch within
    `queue_timeout` seconds (a write stuck on a lock ahead of it) leaves the
    queue with `too_long()` raised.
    """

    def __init__(self, write_batch: Callable[[list[tuple]], Sequence[Any]],
                 max_batch: int = MAX_BATCH, queue_timeout: float | None = None,
                 too_long: Callable[[], BaseException] = TimeoutError) -> None:
        if max_batch < 1:
            raise ValueError(f"a batch holds at least one call, not {max_batch}")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._queue_timeout = queue_timeout
        self._too_long = too_long
        self._lock = threading.Lock()
        self._queue: deque[_Waiting] = deque()
        self._leading = False

    def __call__(self, *args) -> Any:
        mine = _Waiting(args)
        with self._lock:
            self._queue.append(mine)
            leads, self._leading = not self._leading, True
        if not leads:
            while not mine.ready.wait(self._queue_timeout):
                with self._lock:
                    if mine.leads:
                        break
                    if mine in self._queue:  # not taken into a batch: give up
                        self._queue.remove(mine)
                        raise self._too_long()
                # in a batch being written: its outcome comes with the batch's end
            leads = mine.leads
        if leads:
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _lead(self) -> None:
        """Write the queue's head batch (the leader's own save is its first), then hand on."""
        time.sleep(0)
        with self._lock:
            batch = [self._queue.popleft()
                     for _ in range(min(self._max_batch, len(self._queue)))]
        try:
            outcomes = self._write_batch([waiting.args for waiting in batch])
            for waiting, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    waiting.error = outcome
                else:
                    waiting.result = outcome
        except BaseException as error:  # a greenlet killed mid-write too: no one waits for ever
            for waiting in batch:
                waiting.error = error
            raise
        finally:
            for waiting in batch:
                waiting.ready.set()
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.leads = True
                    successor.ready.set()
                else:
                    self._leading = False
