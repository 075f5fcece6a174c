#!/usr/bin/env bash
# Everyone leaves at once: CLIENTS idle WebSocket clients in rooms of 100 (`bench
# load --mode idle`), then the load generator is killed, so the server sees every
# connection end together (a venue's network dropping, a load balancer failing
# over). Measured per server: seconds until `/rooms` is empty and the server is
# quiet again, and the CPU seconds it spent on the way. Each server in VARIANTS
# (name=settings) runs ROUNDS times, the variants in turn.
#
#   benchmarks/departure-10000.sh       tuned, and tuned without the room index
set -euo pipefail
source "$(dirname "$0")/common.sh"
source benchmarks/server-helpers.sh
CLIENTS=${CLIENTS:-10000}
PORT=${PORT:-5733}
RAMP=${RAMP:-150}
ROUNDS=${ROUNDS:-2}
VARIANTS=${VARIANTS:-"tuned= without_room_index=COMONGUS_TUNING_WITHOUT=room_index"}
results_in "departure-$CLIENTS"
ulimit -n "$(ulimit -Hn)"
rooms_left() { curl -s "http://127.0.0.1:$PORT/rooms" | "$PYTHON" -c \
    'import json, sys; print(len(json.load(sys.stdin)["results"]))'; }

{
    echo "# departure-$CLIENTS: $(run_stamp)"
    echo
    echo "$CLIENTS idle WebSocket clients in rooms of 100, then the load generator killed."
    echo
    echo "| server | round | joined | until /rooms is empty | until quiet | server CPU | load average before |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
} > "$OUT/summary.md"
for round in $(seq "$ROUNDS"); do
    for variant in $VARIANTS; do
        name=${variant%%=*}
        settings=${variant#*=}
        log="$OUT/$name-$round"
        start_server "$log.server.log" "$PORT" env $SETTINGS $settings \
            MAX_CONNECTIONS=$((CLIENTS + 2000)) HOST=127.0.0.1 PORT="$PORT" \
            DATABASE_URL="sqlite:///$log.sqlite3" "$PYTHON" app.py
        hold_idle_clients "$log.load.log" "$PORT" "$CLIENTS" "$RAMP"
        wait_until_quiet
        held=$(grep -o "holding [0-9]* idle" "$log.load.log" | grep -o "[0-9]*")
        load_average=$(cut -d' ' -f1 /proc/loadavg)
        ticks=$(server_cpu_ticks)
        started=$(date +%s.%N)
        kill -KILL -- -"$LOAD"
        wait "$LOAD" 2> /dev/null || true
        until [ "$(rooms_left)" = 0 ]; do sleep 0.1; done
        emptied=$(date +%s.%N)
        wait_until_quiet
        calmed=$(date +%s.%N)
        cpu=$(echo "scale=2; ($(server_cpu_ticks) - $ticks) / $(getconf CLK_TCK)" | bc)
        stop_server
        printf "| %s | %s | %s | %.2f s | %.2f s | %.2f s | %s |\n" "$name" "$round" "$held" \
            "$(echo "$emptied - $started" | bc)" "$(echo "$calmed - $started - 1" | bc)" \
            "$cpu" "$load_average" | tee -a "$OUT/summary.md"
    done
done
echo "Results: $OUT/summary.md"
