"""The "ten thousand per process" goals, each with ComongUS, the seed and their ratio.

    python benchmarks/goals_10k.py DIR               the goals table
    python benchmarks/goals_10k.py DIR SCENARIO      the options that scenario's runs had

DIR is a folder of runs made by series-10k.sh (SCENARIO.SERVER.RUN.json).
ComongUS is the tuned server. Ratios are of the medians over the runs; the
goals that ask for "0" or "all" are met only if every run met them. The sizes
in each row are the ones the runs had, so a reduced run reads as one.
"""
from __future__ import annotations

import sys
from pathlib import Path

from side_by_side_table import load_runs, median, number

GOAL_SERVER = "tuned"
SEED = "seed"


class Runs:
    """The runs of one folder, by scenario and server."""

    def __init__(self, folder: Path):
        self.folder = folder

    def of(self, scenario: str, server: str) -> list[dict]:
        return [run for run in load_runs(self.folder, scenario, server) if run.get("figures")]

    def figure(self, scenario: str, server: str, name: str) -> float | None:
        return median([run["figures"].get(name) for run in self.of(scenario, server)])

    def every(self, scenario: str, server: str, name: str) -> list:
        return [run["figures"].get(name) for run in self.of(scenario, server)]

    def option(self, scenario: str, name: str):
        for server in (GOAL_SERVER, SEED):
            for run in self.of(scenario, server):
                return run.get("options", {}).get(name)
        return None


def ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def times(value: float | None) -> str:
    if value is None:
        return "–"
    if 0 < value < 0.1:  # two significant digits, so 0.0012× reads against a goal of 0.001×
        return f"{float(f'{value:.2g}'):f}".rstrip("0") + "×"
    return f"{value:.2f}×"


def verdict(checks: list[bool | None]) -> str:
    if any(check is None for check in checks):
        return "not run"
    return "met" if all(checks) else "not met"


def all_joined(runs: Runs, scenario: str, server: str) -> bool | None:
    joined = runs.every(scenario, server, "clients_joined")
    clients = runs.option(scenario, "clients")
    if not joined:
        return None
    return all(count == clients for count in joined)


def none_of(runs: Runs, scenario: str, server: str, name: str) -> bool | None:
    values = runs.every(scenario, server, name)
    if not values:
        return None
    return all(value == 0 for value in values)


def joined_cell(runs: Runs, scenario: str, server: str) -> str:
    seconds = runs.figure(scenario, server, "all_joined_s")
    if seconds is None:
        return "not run"
    joined = runs.figure(scenario, server, "clients_joined")
    return f"{number(joined)} of {number(runs.option(scenario, 'clients'))} in {number(seconds)} s"


def join_rows(runs: Runs) -> list[list[str]]:
    rows = []
    for scenario, how in (("join-ramp500", "at 500/s"), ("join-at-once", "all at once")):
        clients, rooms = runs.option(scenario, "clients"), runs.option(scenario, "rooms")
        size = f"{number(clients)} in {number(rooms)} rooms" if clients else "10,000 in 100 rooms"
        share = ratio(runs.figure(scenario, GOAL_SERVER, "all_joined_s"),
                      runs.figure(scenario, SEED, "all_joined_s"))
        rows.append([f"1. Join, {size} {how}: all joined, in ≤ 0.5× the seed's time",
                     joined_cell(runs, scenario, GOAL_SERVER), joined_cell(runs, scenario, SEED),
                     times(share), verdict([all_joined(runs, scenario, GOAL_SERVER),
                                            None if share is None else share <= 0.5])])
        per_join = {server: ratio(runs.figure(scenario, server, "join_server_cpu_s"),
                                  runs.figure(scenario, server, "clients_joined"))
                    for server in (GOAL_SERVER, SEED)}
        rows.append([f"1. CPU per join {how} (join_server_cpu_s / clients joined)",
                     *("–" if per_join[server] is None else f"{per_join[server] * 1000:.2f} ms"
                       for server in (GOAL_SERVER, SEED)),
                     times(ratio(per_join[GOAL_SERVER], per_join[SEED])),
                     "recorded" if per_join[GOAL_SERVER] is not None else "not run"])
    return rows


def idle_rows(runs: Runs) -> list[list[str]]:
    scenario = "idle"
    clients, held = runs.option(scenario, "clients"), runs.option(scenario, "duration")
    size = number(clients) if clients else "10,000"
    memory = {server: runs.figure(scenario, server, "idle_mem_per_conn_kb")
              for server in (GOAL_SERVER, SEED)}
    share = ratio(memory[GOAL_SERVER], memory[SEED])
    rows = [[f"2. Memory per idle connection at {size}: ≤ 0.5× the seed's",
             *("not run" if memory[server] is None else f"{number(memory[server])} KB"
               for server in (GOAL_SERVER, SEED)),
             times(share), verdict([None if share is None else share <= 0.5])]]
    disconnects = {server: runs.every(scenario, server, "disconnects")
                   for server in (GOAL_SERVER, SEED)}
    rows.append([f"2. Disconnects while {size} sit idle {number(held) if held else 300} s: 0",
                 *(", ".join(number(value) for value in disconnects[server]) or "not run"
                   for server in (GOAL_SERVER, SEED)),
                 "–", verdict([all_joined(runs, scenario, GOAL_SERVER),
                               none_of(runs, scenario, GOAL_SERVER, "disconnects")])])
    return rows


def delivery_cell(runs: Runs, scenario: str, server: str) -> str:
    p99 = runs.figure(scenario, server, "lat_p99_ms")
    loss = runs.every(scenario, server, "loss_pct")
    if not loss:
        return "not run"
    return f"loss {', '.join(number(value) for value in loss)} %; p99 {number(p99)} ms"


def fanout_rows(runs: Runs) -> list[list[str]]:
    scenarios = sorted({path.name.split(".")[0] for path in runs.folder.glob("fanout-*.json")},
                       key=lambda name: int(name.removeprefix("fanout-").split("msg")[0]))
    rows = []
    for scenario in scenarios or ["fanout-1msg"]:
        rate = scenario.removeprefix("fanout-").split("msg")[0]
        clients, rooms = runs.option(scenario, "clients"), runs.option(scenario, "rooms")
        size = f"{number(clients)} in {number(rooms)} rooms" if clients else "10,000 in 100 rooms"
        share = ratio(runs.figure(scenario, GOAL_SERVER, "lat_p99_ms"),
                      runs.figure(scenario, SEED, "lat_p99_ms"))
        rows.append([f"3. Fan-out, {size}, {rate} msg/s per room: 0 loss, p99 ≤ the seed's",
                     delivery_cell(runs, scenario, GOAL_SERVER),
                     delivery_cell(runs, scenario, SEED), f"p99 {times(share)}",
                     verdict([none_of(runs, scenario, GOAL_SERVER, "loss_pct"),
                              None if share is None else share <= 1])])
    return rows


def bigroom_rows(runs: Runs) -> list[list[str]]:
    big, small = "bigroom", "bigroom-seed-size"
    clients = runs.option(big, "clients")
    seed_clients = runs.option(small, "clients")
    p99 = runs.figure(big, GOAL_SERVER, "lat_p99_ms")
    rows = [[f"4. One room of {number(clients) if clients else '10,000'}, 1 msg/s: all joined, "
             "0 loss, p99 ≤ 250 ms",
             f"{joined_cell(runs, big, GOAL_SERVER)}; {delivery_cell(runs, big, GOAL_SERVER)}"
             if clients else "not run",
             f"at {number(seed_clients)}: {joined_cell(runs, small, SEED)}; "
             f"{delivery_cell(runs, small, SEED)}" if seed_clients else "not run",
             "–", verdict([all_joined(runs, big, GOAL_SERVER),
                           none_of(runs, big, GOAL_SERVER, "loss_pct"),
                           None if p99 is None else p99 <= 250])]]
    # The seed sends the whole user list to the whole room on every join, about
    # 62·N³/3 bytes for N joining one room: its figure at the size it reaches,
    # scaled by the cube of the sizes, stands for it at the goal's size.
    ours = runs.figure(big, GOAL_SERVER, "join_roomdata_mb")
    seed = runs.figure(small, SEED, "join_roomdata_mb")
    scaled = None if seed is None or not clients else seed * (clients / seed_clients) ** 3
    share = ratio(ours, scaled)
    rows.append([f"4. Presence traffic (join_roomdata_mb) joining one room of "
                 f"{number(clients) if clients else '10,000'}: ≤ 1/1000 of the seed's",
                 "not run" if ours is None else f"{number(ours)} MB",
                 "not run" if scaled is None else
                 f"{number(scaled)} MB (its {number(seed)} MB at {number(seed_clients)}, "
                 f"× ({number(clients)} / {number(seed_clients)})³)",
                 times(share), verdict([None if share is None else share <= 0.001])])
    same = {server: runs.figure(small, server, "join_roomdata_mb")
            for server in (GOAL_SERVER, SEED)}
    share = ratio(same[GOAL_SERVER], same[SEED])
    both_at = number(seed_clients) if seed_clients else "the seed's size"
    rows.append([f"4. The same, both at {both_at}",
                 *("not run" if same[server] is None else f"{number(same[server])} MB"
                   for server in (GOAL_SERVER, SEED)),
                 times(share), verdict([None if share is None else share <= 0.001])])
    return rows


def polling_rows(runs: Runs) -> list[list[str]]:
    scenario = "polling"
    clients, rooms = runs.option(scenario, "clients"), runs.option(scenario, "rooms")
    size = f"{number(clients)} in {number(rooms)} rooms" if clients else "1,000 in 10 rooms"
    share = ratio(runs.figure(scenario, GOAL_SERVER, "lat_p99_ms"),
                  runs.figure(scenario, SEED, "lat_p99_ms"))
    return [[f"5. Long-polling, {size}, 1 msg/s per room: p99 ≤ 2× the seed's",
             delivery_cell(runs, scenario, GOAL_SERVER), delivery_cell(runs, scenario, SEED),
             f"p99 {times(share)}", verdict([None if share is None else share <= 2])]]


def goals_table(folder: Path) -> str:
    runs = Runs(folder)
    rows = [*join_rows(runs), *idle_rows(runs), *fanout_rows(runs), *bigroom_rows(runs),
            *polling_rows(runs)]
    lines = ["| goal | ComongUS | seed | ComongUS / seed | goal met |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def options_line(folder: Path, scenario: str) -> str:
    """The options a scenario's first run was given, as the load generator recorded them."""
    for path in sorted(folder.glob(f"{scenario}.*.json")):
        run = load_runs(folder, scenario, path.name.split(".")[1])[0]
        options = run.get("options", {})
        wanted = ("mode", "clients", "rooms", "senders", "rate", "duration", "ramp", "transport")
        return ", ".join(f"{name} {options[name]}" for name in wanted if name in options)
    return "–"


def main(argv: list[str]) -> None:
    folder = Path(argv[0])
    print(options_line(folder, argv[1]) if len(argv) > 1 else goals_table(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
