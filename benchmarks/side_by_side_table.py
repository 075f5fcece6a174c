"""Markdown tables from the load generator's JSON of runs made by side-by-side.sh.

    python benchmarks/side_by_side_table.py DIR SCENARIO SERVERS FIGURES [RATIOS]

DIR holds SCENARIO.SERVER.RUN.json. SERVERS and FIGURES are comma-separated, in
the order wanted; RATIOS is comma-separated A/B pairs (default: every server
against the first; empty: none). Prints a table of the chosen figures (a row per server:
the median, then every run), one of the ratios of their medians (none for a
single server), and every figure the load generator reported, run by run: the
raw record.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

# The wait a visitor feels, from opening the connection to being in the room: the
# load generator reports it in its connect phase, not among its figures.
CONNECT_FIGURES = ("connect_join_p50_ms", "connect_join_p99_ms")


def load_runs(folder: Path, scenario: str, server: str) -> list[dict]:
    """Each run's JSON, its figures joined by `load_avg` where side-by-side.sh noted it
    and by the connect phase's `CONNECT_FIGURES`."""
    runs = []
    for path in sorted(folder.glob(f"{scenario}.{server}.*.json"),
                       key=lambda path: int(path.stem.rsplit(".", 1)[1])):
        try:
            run = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            run = {"error": f"unreadable: {error}", "figures": {}}
        for figure in CONNECT_FIGURES:
            if figure in run.get("connect", {}):
                run.setdefault("figures", {})[figure] = run["connect"][figure]
        try:
            run.setdefault("figures", {})["load_avg"] = float(
                path.with_suffix(".load").read_text())
        except (OSError, ValueError):
            pass
        runs.append(run)
    return runs


def median(values: list) -> float | None:
    numbers = [value for value in values if isinstance(value, (int, float))]
    return statistics.median(numbers) if numbers else None


def number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,}"


def cell(values: list) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return number(values[0])
    return f"{number(median(values))} ({', '.join(number(value) for value in values)})"


def tables(folder: Path, scenario: str, servers: list[str], figures: list[str],
           ratios: list[tuple[str, str]]) -> str:
    runs = {server: load_runs(folder, scenario, server) for server in servers}
    figures = [figure for figure in figures  # no column for a figure no run has
               if any(figure in run.get("figures", {}) for server in servers
                      for run in runs[server])]
    values = {server: {figure: [run.get("figures", {}).get(figure) for run in runs[server]]
                       for figure in figures} for server in servers}
    lines = ["| server | " + " | ".join(figures) + " |",
             "|---" * (len(figures) + 1) + "|"]
    for server in servers:
        lines.append(f"| {server} | " + " | ".join(cell(values[server][figure])
                                                 for figure in figures) + " |")
    if ratios:
        lines += ["", "| ratio of medians | " + " | ".join(figures) + " |",
                  "|---" * (len(figures) + 1) + "|"]
    for top, bottom in ratios:
        row = []
        for figure in figures:
            a, b = median(values[top][figure]), median(values[bottom][figure])
            row.append("–" if a is None or not b else f"{a / b:.2f}×")
        lines.append(f"| {top} / {bottom} | " + " | ".join(row) + " |")
    errors = [f"- {server} run {index}: {run['error']}".splitlines()[0]
              for server in servers for index, run in enumerate(runs[server], 1)
              if run.get("error")]
    warnings = [f"- {server} run {index}: {warning}"
                for server in servers for index, run in enumerate(runs[server], 1)
                for warning in run.get("warnings", [])]
    if errors or warnings:
        lines += ["", *errors, *warnings]
    every = []
    for server in servers:
        for run in runs[server]:
            every += [figure for figure in run.get("figures", {}) if figure not in every]
    lines += ["", "<details><summary>every figure, run by run</summary>", "",
              "| figure | " + " | ".join(servers) + " |", "|---" * (len(servers) + 1) + "|"]
    for figure in every:
        lines.append(f"| {figure} | " + " | ".join(
            ", ".join(number(run.get("figures", {}).get(figure)) for run in runs[server])
            for server in servers) + " |")
    lines += ["", "</details>"]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    folder, scenario, servers, figures = Path(argv[0]), argv[1], argv[2].split(","), \
        argv[3].split(",")
    if len(argv) > 4:
        ratios = [tuple(pair.split("/")) for pair in argv[4].split(",") if pair]
    else:
        ratios = [(server, servers[0]) for server in servers[1:]]
    print(tables(folder, scenario, servers, figures, ratios))


if __name__ == "__main__":
    main(sys.argv[1:])
