#!/usr/bin/env bash
# The six scenarios of the performance goals, each against ComongUS tuned
# (`python app.py`), ComongUS stock (COMONGUS_TUNING=off) and the seed's Node
# server (`bench anchor seed`), side by side, round by round, in one run:
# what the tuning is worth and where ComongUS stands against the seed.
#
#   benchmarks/series.sh [scenario ...]    default: all six, in this order
#   ADD_ROUNDS=1 OUT=benchmarks/results/DATE-series benchmarks/series.sh fanout-1000
#                                          another round into a run's folder
#
# fanout-1000, findmax-500, polling-100, joinstorm-1000, idle-1000, rest-100k:
# the same options as the scenario scripts of the same name (RUNS rounds each,
# default 2; find-max and REST one). The summary covers every scenario in the
# folder, all rounds counted. Results: a new
# benchmarks/results/YYYY-MM-DD-series/summary.md (OUT overrides the folder).
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/side-by-side.sh"
if { [ $# -eq 0 ] || [[ " $* " == *" rest-100k "* ]]; } && ! command -v wrk > /dev/null; then
    echo "series.sh: rest-100k needs wrk (apt-get install wrk); without it the load" \
        "generator fills the database and measures no request" >&2
    exit 1
fi
results_in series
RUNS=${RUNS:-2}
PORT_FOR_RUNS=${PORT_FOR_RUNS:-5731}
SERVERS="tuned=$(comongus_command "$PORT_FOR_RUNS" "")
stock=$(comongus_command "$PORT_FOR_RUNS" COMONGUS_TUNING=off)
seed=$(seed_command "$PORT_FOR_RUNS")"
RATIOS=tuned/seed,stock/seed,tuned/stock

describe() { # scenario: sets TITLE, ROUNDS, OPTIONS and FIGURES
    ROUNDS=$RUNS
    case $1 in
        fanout-1000)
            TITLE="1,000 clients in one room over WebSocket, 10 senders at 1 msg/s for 10 s"
            OPTIONS=(--clients 1000 --senders 10 --rate 1 --duration 10)
            FIGURES=loss_pct,lat_p50_ms,lat_p99_ms,server_cpu_pct,server_cpu_s,server_mem_per_conn_kb,disconnects,loadgen_loop_lag_p99_ms,load_avg ;;
        findmax-500)
            TITLE="500 clients, 50 senders: the highest send rate with p99 ≤ 100 ms and no loss"
            ROUNDS=1
            OPTIONS=(--clients 500 --senders 50 --rate 1 --find-max --step-duration 5)
            FIGURES=max_send_rate,max_deliveries_per_s,first_failing_rate,best_lat_p99_ms,best_loadgen_cpu_pct,load_avg ;;
        polling-100)
            TITLE="100 clients on HTTP long-polling only, 10 senders at 1 msg/s for 10 s"
            OPTIONS=(--clients 100 --senders 10 --rate 1 --duration 10 --transport polling)
            FIGURES=loss_pct,lat_p50_ms,lat_p99_ms,server_cpu_pct,server_mem_per_conn_kb,loadgen_loop_lag_p99_ms,load_avg ;;
        joinstorm-1000)
            TITLE="1,000 clients joining one room at once"
            OPTIONS=(--mode joinstorm --clients 1000 --join-timeout 180)
            FIGURES=clients_joined,all_joined_s,join_ack_p50_ms,join_ack_p99_ms,join_roomdata_mb,server_mem_per_conn_kb,load_avg ;;
        idle-1000)
            TITLE="1,000 idle connections held 10 s"
            OPTIONS=(--mode idle --clients 1000 --duration 10)
            FIGURES=clients_joined,server_mem_per_conn_kb,idle_mem_per_conn_kb,server_rss_held_mb,load_avg ;;
        rest-100k)
            TITLE="GET /messages with 100,000 stored (wrk -t2 -c10, 10 s)"
            ROUNDS=1
            OPTIONS=(--mode rest --fill 100000 --duration 10)
            FIGURES=rest_rps,rest_lat_p50_ms,rest_lat_p99_ms,rest_non_2xx,get_body_kb,fill_post_rps,load_avg ;;
        *) echo "series.sh: no scenario $1" >&2; return 1 ;;
    esac
}

ALL="fanout-1000 findmax-500 polling-100 joinstorm-1000 idle-1000 rest-100k"
# shellcheck disable=SC2086 # one word per scenario
[ $# -gt 0 ] || set -- $ALL
for name in "$@"; do
    describe "$name" # every name checked before anything runs
done
for name in "$@"; do
    describe "$name"
    run_rounds "$name" "$ROUNDS" "${OPTIONS[@]}"
done
{
    echo "# The performance goals' scenarios: ComongUS tuned, ComongUS stock, the seed"
    echo
    how_runs_were_made
    for name in $ALL; do
        compgen -G "$OUT/$name.*.json" > /dev/null || continue
        describe "$name"
        echo
        echo "## $name: $TITLE"
        echo
        echo "Load generator: \`${OPTIONS[*]}\`."
        echo
        "$PYTHON" benchmarks/side_by_side_table.py "$OUT" "$name" tuned,stock,seed "$FIGURES" "$RATIOS"
    done
} > "$OUT/summary.md"
echo "$OUT/summary.md"
