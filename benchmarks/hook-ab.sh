#!/usr/bin/env bash
# What each eventlet tuning hook is worth: ComongUS with every hook, with all
# but one (COMONGUS_TUNING_WITHOUT; a hook goes out with the hooks that need it),
# and stock (COMONGUS_TUNING=off), side by side, round by round.
#
#   benchmarks/hook-ab.sh            RUNS=2 rounds of each scenario below
#   ADD_ROUNDS=1 OUT=benchmarks/results/DATE-hook-ab ONLY=all,no_direct_write \
#   SCENARIOS=fanout-1000 benchmarks/hook-ab.sh
#                                    more rounds of some variants into a run's folder
#
# The fan-out of 1,000 (latency, CPU: what the send path's hooks aim at) and
# 1,000 idle connections (memory: what parking and the ping timers aim at);
# SCENARIOS=fanout-10000 adds 10,000 in 100 rooms at 10 msg/s per room, where
# the server is saturated and deliveries/s show what the send path costs.
# A hook that needs another is also measured against the set without both
# ("without parking" against "without parking, fair_reads"), so each hook has
# a pair of variants that differ by it alone. Results: a new
# benchmarks/results/YYYY-MM-DD-hook-ab/summary.md (OUT overrides the folder).
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/side-by-side.sh"
results_in hook-ab
RUNS=${RUNS:-2}
PORT_FOR_RUNS=${PORT_FOR_RUNS:-5721}

# name=what is left out (the names are eventlet_tuning.HOOKS's).
VARIANTS="all=
no_broadcast_frames=broadcast_frames
no_direct_write=direct_write,broadcast_frames
no_ping_timers=ping_timers
no_parking=parking
no_parking_fair_reads=parking,fair_reads
no_parking_direct_write=parking,direct_write,broadcast_frames
no_parking_send_queue=parking,direct_write,broadcast_frames,send_queue"
ulimit -n "$(ulimit -Hn)"  # for fanout-10000: a socket per client
ROOM_FOR=MAX_CONNECTIONS=12000
ALL_SERVERS=""
while IFS= read -r line; do
    ALL_SERVERS+="${line%%=*}=$(comongus_command "$PORT_FOR_RUNS" "$ROOM_FOR COMONGUS_TUNING_WITHOUT=${line#*=}")"$'\n'
done <<< "$VARIANTS"
ALL_SERVERS+="stock=$(comongus_command "$PORT_FOR_RUNS" "$ROOM_FOR COMONGUS_TUNING=off")"
NAMES=$(echo "$ALL_SERVERS" | cut -d= -f1 | paste -sd,)
ONLY=${ONLY:-$NAMES}
SERVERS=$(grep -E "^(${ONLY//,/|})=" <<< "$ALL_SERVERS")

case ",${SCENARIOS:-fanout-1000,idle-1000}," in *,fanout-1000,*)
    run_rounds fanout-1000 "$RUNS" --clients 1000 --senders 10 --rate 1 --duration 10 ;;
esac
case ",${SCENARIOS:-fanout-1000,idle-1000}," in *,idle-1000,*)
    run_rounds idle-1000 "$RUNS" --mode idle --clients 1000 --duration 10 ;;
esac
case ",${SCENARIOS:-}," in *,fanout-10000,*)
    run_rounds fanout-10000 "$RUNS" --clients 10000 --rooms 100 --senders 1000 --rate 1 \
        --duration 20 --join-timeout 600 --settle-max 120 ;;
esac

# Each hook, and the pair of variants that differ by it alone.
PAIRS="no_broadcast_frames/all,no_direct_write/no_broadcast_frames,no_ping_timers/all,\
no_parking/all,no_parking_fair_reads/no_parking,no_parking_send_queue/no_parking_direct_write,\
no_parking_direct_write/no_parking,stock/all"
{
    echo "# Each eventlet tuning hook, left out one at a time"
    echo
    echo "What each variant leaves out (COMONGUS_TUNING_WITHOUT):"
    echo
    while IFS= read -r line; do echo "- ${line%%=*}: ${line#*=}"; done <<< "$VARIANTS" |
        sed 's/: $/: nothing/'
    echo "- stock: COMONGUS_TUNING=off"
    echo
    how_runs_were_made
    echo
    echo "## Fan-out: 1,000 clients in one room, 10 senders at 1 msg/s for 10 s"
    echo
    "$PYTHON" benchmarks/side_by_side_table.py "$OUT" fanout-1000 "$NAMES" \
        server_cpu_s,server_cpu_pct,server_mem_per_conn_kb,lat_p50_ms,lat_p99_ms,loadgen_loop_lag_p99_ms,load_avg,loss_pct "$PAIRS"
    echo
    echo "## Idle: 1,000 connections held 10 s"
    echo
    "$PYTHON" benchmarks/side_by_side_table.py "$OUT" idle-1000 "$NAMES" \
        server_mem_per_conn_kb,idle_mem_per_conn_kb,idle_server_cpu_pct,all_joined_s,load_avg "$PAIRS"
    if compgen -G "$OUT/fanout-10000.*.json" > /dev/null; then
        echo
        echo "## Fan-out: 10,000 clients in 100 rooms, 10 msg/s per room for 20 s"
        echo
        "$PYTHON" benchmarks/side_by_side_table.py "$OUT" fanout-10000 "$NAMES" \
            deliveries_per_s,loss_pct,lat_p99_ms,server_cpu_pct,loadgen_loop_lag_p99_ms,load_avg "$PAIRS"
    fi
} > "$OUT/summary.md"
echo "$OUT/summary.md"
