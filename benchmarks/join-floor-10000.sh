#!/usr/bin/env bash
# 10,000 clients joining 100 rooms all at once, against ComongUS, the bare stack
# it is built on (bare_socketio.py: python-socketio on eventlet, as shipped, with
# a join that does only what the contract's join asks) and the seed, round by
# round: what ComongUS costs per join beside what its libraries cost with an
# empty chat.
#
#   benchmarks/join-floor-10000.sh        RUNS rounds (3), each server in turn
#
# Results: a new benchmarks/results/YYYY-MM-DD-join-floor-10000/summary.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/side-by-side.sh"
RUNS=${RUNS:-3}
PORT_FOR_RUNS=${PORT_FOR_RUNS:-5742}
results_in join-floor-10000
ulimit -n "$(ulimit -Hn)"

SERVERS="tuned=$(comongus_command "$PORT_FOR_RUNS" MAX_CONNECTIONS=12000)
bare=cd $ROOT && exec $PYTHON benchmarks/bare_socketio.py $PORT_FOR_RUNS
seed=$(seed_command "$PORT_FOR_RUNS")"
OPTIONS=(--mode joinstorm --clients 10000 --rooms 100 --ramp 0 --join-timeout 600
    --settle-max 120)
run_rounds join-at-once "$RUNS" "${OPTIONS[@]}"

{
    echo "# Joining all at once: ComongUS, the bare stack and the seed"
    echo
    how_runs_were_made
    echo "ComongUS also ran with MAX_CONNECTIONS=12000. \`bare\` is"
    echo "benchmarks/bare_socketio.py: python-socketio on eventlet as shipped, no Flask,"
    echo "no limits, no storage, a join that enters the room, sends the welcome and"
    echo "answers with the room's list. CPU per join is join_server_cpu_s over"
    echo "clients_joined."
    echo
    echo "## join-at-once: ${OPTIONS[*]}"
    echo
    "$PYTHON" benchmarks/side_by_side_table.py "$OUT" join-at-once tuned,bare,seed \
        clients_joined,all_joined_s,join_ack_p50_ms,join_ack_p99_ms,connect_join_p50_ms,connect_join_p99_ms,join_server_cpu_s,load_avg \
        tuned/seed,bare/seed,tuned/bare
} > "$OUT/summary.md"
echo "$OUT/summary.md"
