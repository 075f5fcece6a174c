#!/usr/bin/env bash
# The "ten thousand per process" goals: each scenario against ComongUS tuned
# (`python app.py`) and the seed's Node server (`bench anchor seed`), side by
# side, round by round (side-by-side.sh), then a table of every goal with
# ComongUS, the seed and their ratio (goals_10k.py).
#
#   benchmarks/series-10k.sh [scenario ...]    default: all, in the order below
#   benchmarks/join-10000.sh, idle-10000.sh, fanout-10000-rates.sh,
#   bigroom-10000.sh, polling-1000.sh          one goal's scenarios each
#   SERVER_CPU=1 LOADGEN_CPU=0 benchmarks/fanout-10000-rates.sh
#                                              the servers on CPU 1, the load generator on CPU 0
#   ADD_ROUNDS=1 OUT=benchmarks/results/DATE-series-10k benchmarks/series-10k.sh fanout-5msgs
#                                              another round into a run's folder
#
# Scenarios (CLIENTS in ROOMS rooms unless said otherwise):
#   join-ramp500, join-at-once  joinstorm at 500 connections/s and all at once
#   idle                        idle connections held IDLE_SECONDS
#   fanout-1msg ... -10msgs     RATES msg/s per room (ROOMS x rate senders at 1 msg/s)
#                               for DURATION s, then DRAIN s (10) for late deliveries
#   bigroom                     BIG_CLIENTS in one room, 1 msg/s, ComongUS only
#                               (the seed's user list per join makes its join phase
#                               grow as N^3 in bytes)
#   bigroom-seed-size           the same at SEED_BIG_CLIENTS, ComongUS and the seed
#   polling                     POLL_CLIENTS on long-polling in POLL_ROOMS rooms,
#                               1 msg/s per room
#
# Sizes and times come from the environment, so every scenario can be checked at
# a reduced size first (CLIENTS=1000 ROOMS=10 IDLE_SECONDS=10 DURATION=5
# SEED_BIG_CLIENTS=200 POLL_CLIENTS=100); a run below 10,000 clients goes to a
# folder named -at-CLIENTS and says so in its summary. WITH_STOCK=1 adds ComongUS
# stock (COMONGUS_TUNING=off); ONLY=tuned (comma-separated names) runs only those
# servers. ComongUS runs with common.sh's settings (the
# per-address caps off) and MAX_CONNECTIONS=12000; every process gets the hard
# open-file limit. Results: a new benchmarks/results/YYYY-MM-DD-series-10k/
# (RESULTS_NAME, or OUT, overrides it): the load generator's JSON per run and
# summary.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/side-by-side.sh"
CLIENTS=${CLIENTS:-10000}
ROOMS=${ROOMS:-100}
RATES=${RATES:-1 2 3 5 10}
DURATION=${DURATION:-20}
DRAIN=${DRAIN:-10}
IDLE_SECONDS=${IDLE_SECONDS:-300}
BIG_CLIENTS=${BIG_CLIENTS:-$CLIENTS}
SEED_BIG_CLIENTS=${SEED_BIG_CLIENTS:-1000}
POLL_CLIENTS=${POLL_CLIENTS:-1000}
POLL_ROOMS=${POLL_ROOMS:-10}
RUNS=${RUNS:-2}
PORT_FOR_RUNS=${PORT_FOR_RUNS:-5741}
NAME=${RESULTS_NAME:-series-10k}
[ "$CLIENTS" = 10000 ] || NAME+="-at-$CLIENTS"
results_in "$NAME"

# One socket per client: the load generator and the servers need more open files
# than a shell's usual 1,024. bench raises its own and the seed's to the hard
# limit; ComongUS raises its own and refuses to start if MAX_CONNECTIONS cannot fit.
ulimit -n "$(ulimit -Hn)"
NEEDED=$((12000 + 64))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEEDED" ]; then
    echo "series-10k: the open-file limit is $(ulimit -n); MAX_CONNECTIONS=12000 needs" \
        "$NEEDED (raise the hard limit: ulimit -Hn $NEEDED as root, LimitNOFILE)" >&2
    exit 1
fi

TEN_THOUSAND="MAX_CONNECTIONS=12000"
ALL_SERVERS="tuned=$(comongus_command "$PORT_FOR_RUNS" "$TEN_THOUSAND")
stock=$(comongus_command "$PORT_FOR_RUNS" "COMONGUS_TUNING=off $TEN_THOUSAND")
seed=$(seed_command "$PORT_FOR_RUNS")"
if [ -n "${WITH_STOCK:-}" ]; then
    COMPARED=tuned,stock,seed RATIOS=tuned/seed,stock/seed,tuned/stock
else
    COMPARED=tuned,seed RATIOS=tuned/seed
fi

per_room() { # rate: a fan-out scenario's name
    if [ "$1" = 1 ]; then echo fanout-1msg; else echo "fanout-${1}msgs"; fi
}

describe() { # scenario: sets TITLE, ON (the servers), OPTIONS and FIGURES
    ON=$COMPARED
    local fanout_figures=loss_pct,rooms_with_loss,lat_p50_ms,lat_p99_ms,lat_max_ms,deliveries_per_s,server_cpu_pct,server_mem_per_conn_kb,all_joined_s,disconnects,loadgen_loop_lag_p99_ms,load_avg
    case $1 in
        join-ramp500 | join-at-once)
            local ramp=500 how="at 500 connections/s"
            [ "$1" = join-ramp500 ] || ramp=0 how="all at once"
            TITLE="$CLIENTS clients joining $ROOMS rooms $how"
            OPTIONS=(--mode joinstorm --clients "$CLIENTS" --rooms "$ROOMS" --ramp "$ramp"
                --join-timeout 600 --settle-max 120)
            FIGURES=clients_joined,join_failed,all_joined_s,join_ack_p50_ms,join_ack_p99_ms,connect_join_p50_ms,connect_join_p99_ms,join_server_cpu_s,join_roomdata_mb,server_mem_per_conn_kb,disconnects,load_avg ;;
        idle)
            TITLE="$CLIENTS idle connections in $ROOMS rooms, held $IDLE_SECONDS s"
            OPTIONS=(--mode idle --clients "$CLIENTS" --rooms "$ROOMS" --duration "$IDLE_SECONDS"
                --join-timeout 600 --settle-max 120)
            FIGURES=clients_joined,server_mem_per_conn_kb,idle_mem_per_conn_kb,server_rss_held_mb,disconnects,idle_server_cpu_pct,load_avg ;;
        fanout-*msg*)
            local rate=${1#fanout-}
            rate=${rate%msg*}
            [[ $rate =~ ^[0-9]+$ ]] && [ "$(per_room "$rate")" = "$1" ] ||
                { echo "series-10k.sh: no scenario $1" >&2; return 1; }
            TITLE="$CLIENTS clients in $ROOMS rooms, $rate msg/s per room ($((ROOMS * rate)) senders at 1 msg/s) for $DURATION s, drain $DRAIN s"
            OPTIONS=(--clients "$CLIENTS" --rooms "$ROOMS" --senders $((ROOMS * rate)) --rate 1
                --duration "$DURATION" --drain "$DRAIN" --join-timeout 600 --settle-max 120)
            FIGURES=$fanout_figures ;;
        bigroom | bigroom-seed-size)
            local clients=$BIG_CLIENTS
            if [ "$1" = bigroom ]; then
                ON=${COMPARED/,seed/}
            else
                clients=$SEED_BIG_CLIENTS
            fi
            TITLE="$clients clients in one room, 1 msg/s for $DURATION s"
            OPTIONS=(--clients "$clients" --senders 1 --rate 1 --duration "$DURATION"
                --join-timeout 900 --settle-max 300)
            FIGURES=clients_joined,all_joined_s,join_roomdata_mb,loss_pct,lat_p50_ms,lat_p99_ms,lat_max_ms,roomdata_mb,server_mem_per_conn_kb,disconnects,loadgen_loop_lag_p99_ms,load_avg ;;
        polling)
            TITLE="$POLL_CLIENTS clients on HTTP long-polling only in $POLL_ROOMS rooms, 1 msg/s per room for $DURATION s"
            OPTIONS=(--transport polling --clients "$POLL_CLIENTS" --rooms "$POLL_ROOMS"
                --senders "$POLL_ROOMS" --rate 1 --duration "$DURATION" --join-timeout 600 --settle-max 120)
            FIGURES=$fanout_figures ;;
        *) echo "series-10k.sh: no scenario $1" >&2; return 1 ;;
    esac
    [ -z "${ONLY:-}" ] || ON=$(tr , '\n' <<< "$ON" | grep -xE "${ONLY//,/|}" | paste -sd, || true)
}

FANOUTS=""
for rate in $RATES; do FANOUTS+=" $(per_room "$rate")"; done
ALL="join-ramp500 join-at-once idle$FANOUTS bigroom bigroom-seed-size polling"
# shellcheck disable=SC2086 # one word per scenario
[ $# -gt 0 ] || set -- $ALL
for name in "$@"; do
    describe "$name" # every name checked before anything runs
done
for name in "$@"; do
    describe "$name"
    [ -n "$ON" ] || continue
    SERVERS=$(grep -E "^(${ON//,/|})=" <<< "$ALL_SERVERS")
    run_rounds "$name" "$RUNS" "${OPTIONS[@]}"
done

ratios_among() { # servers: those of RATIOS whose two servers are both among them
    local pair kept=""
    for pair in ${RATIOS//,/ }; do
        case ",$1," in *",${pair%/*},"*) ;; *) continue ;; esac
        case ",$1," in *",${pair#*/},"*) kept+=",$pair" ;; esac
    done
    echo "${kept#,}"
}

{
    echo "# Ten thousand per process: ComongUS against the seed"
    echo
    if [ "$CLIENTS" != 10000 ]; then
        echo "**Reduced size, to check the scripts: $CLIENTS clients, not the goals' 10,000.**"
        echo "Its figures say nothing about the goals."
        echo
    fi
    how_runs_were_made
    echo "ComongUS also ran with $TEN_THOUSAND."
    echo
    echo "## The goals"
    echo
    "$PYTHON" benchmarks/goals_10k.py "$OUT"
    # The scenarios of this run, then any other a folder of added rounds holds.
    IN_FOLDER=$(cd "$OUT" && for json in *.json; do echo "${json%%.*}"; done | sort -u)
    SHOWN=" "
    for name in $ALL $IN_FOLDER; do
        case $SHOWN in *" $name "*) continue ;; esac
        SHOWN+="$name "
        compgen -G "$OUT/$name.*.json" > /dev/null || continue
        describe "$name"
        [ -n "$ON" ] || continue
        echo
        echo "## $name: $TITLE"
        echo
        echo "Load generator, as recorded: $("$PYTHON" benchmarks/goals_10k.py "$OUT" "$name")."
        echo
        "$PYTHON" benchmarks/side_by_side_table.py "$OUT" "$name" "$ON" "$FIGURES" "$(ratios_among "$ON")"
    done
} > "$OUT/summary.md"
echo "$OUT/summary.md"
