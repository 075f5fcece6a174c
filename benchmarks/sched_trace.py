"""Read a scheduler trace of a fan-out run: did the server and the load generator share a CPU?

On this 2-CPU machine the load generator (one Node process) and the server talk
over loopback, and every message wakes the other side with a "sync" wakeup,
which tells the kernel to run the woken task on the waker's CPU. benchmarks/
cpu-sharing.sh records `sched_switch`, `sched_wakeup` and `sched_migrate_task`
during the sending phase; this prints, for the server's process:

- how often it was switched out while still runnable (preempted), by whom, and
  how often by the load generator's own process (processes named alike, as
  both Node servers are, are told apart by pid);
- how long it waited, runnable, for its CPU in all;
- how often the kernel moved it to another CPU.

    python benchmarks/sched_trace.py TRACE SERVER_PID LOAD_GENERATOR_PID
"""
from __future__ import annotations

import re
import sys
from collections import Counter

EVENT = re.compile(r"-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+): (sched_\w+): (.*)")
FIELD = re.compile(r"(\w+)=(\S+)")


def read(path: str):
    with open(path, errors="replace") as trace:
        for line in trace:
            match = EVENT.search(line)
            if match:
                task, cpu, seconds, kind, rest = match.groups()
                yield task, int(cpu), float(seconds), kind, dict(FIELD.findall(rest))


def summarize(path: str, server_pid: str, load_generator_pid: str) -> dict:
    running = False
    waiting_since = None  # when it was last preempted
    preempted_by: Counter = Counter()
    by_load_generator = 0
    waited = 0.0
    migrations = 0
    first = last = None
    for task, _cpu, now, kind, fields in read(path):
        first = now if first is None else first
        last = now
        switched_to_server = kind == "sched_switch" and fields["next_pid"] == server_pid
        # An event of the server's own means it runs, though the trace may have
        # dropped the switch to it.
        if not running and (switched_to_server or task == server_pid):
            running = True
            if waiting_since is not None:
                waited += now - waiting_since
                waiting_since = None
        if kind == "sched_migrate_task" and fields.get("pid") == server_pid:
            migrations += 1
        if kind == "sched_switch" and fields["prev_pid"] == server_pid:
            running = False
            if fields["prev_state"].startswith("R"):
                waiting_since = now
                preempted_by[fields["next_comm"]] += 1
                by_load_generator += fields["next_pid"] == load_generator_pid
    return {"traced_s": (last or 0) - (first or 0),
            "preemptions": sum(preempted_by.values()), "preempted_by": dict(preempted_by),
            "by_load_generator": by_load_generator,
            "waited_runnable_ms": waited * 1000, "migrations": migrations}


def main() -> None:
    path, server_pid, load_generator_pid = sys.argv[1:4]
    figures = summarize(path, server_pid, load_generator_pid)
    print(f"traced {figures['traced_s']:.1f} s")
    print(f"preempted while runnable: {figures['preemptions']} times, "
          f"{figures['by_load_generator']} by the load generator, "
          f"waiting {figures['waited_runnable_ms']:.1f} ms in all")
    print(f"preempted by name: {figures['preempted_by']}")
    print(f"moved between CPUs: {figures['migrations']} times")


if __name__ == "__main__":
    main()
