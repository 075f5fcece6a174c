#!/usr/bin/env bash
# Fan-out 1,000 at 2.5 msg/s against ComongUS alone, twice: as `bench compare`
# runs it (the kernel places both processes), then with the server on CPU 1 and
# the load generator on CPU 0. Each run records the kernel's scheduler events
# for 5 s of the sending phase and prints, beside the load generator's latency,
# how often the load generator preempted the server and how long the server
# waited for its CPU (benchmarks/sched_trace.py). Needs root (tracefs).
#
#   sudo benchmarks/cpu-sharing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench/bench}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-/tmp/comongus-bench/cpu-sharing}
PORT=${PORT:-5703}
TRACING=/sys/kernel/tracing
rm -rf "$OUT" && mkdir -p "$OUT"
[ -e "$TRACING/trace" ] || mount -t tracefs nodev "$TRACING"

SETTINGS="MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 SEND_BURST=1000 \
SEND_RATE_PER_SECOND=1000 MAX_PENDING_PACKETS=1000 LOG_LEVEL=WARNING"

trace() { # on|off
    local value=1
    [ "$1" = on ] || value=0
    for event in sched_switch sched_wakeup sched_migrate_task; do
        echo "$value" > "$TRACING/events/sched/$event/enable"
    done
}

run() { # name, server CPU list or "", load generator CPU list or ""
    local name=$1 server_pin=() load_pin=()
    [ -z "$2" ] || server_pin=(taskset -c "$2")
    [ -z "$3" ] || load_pin=(taskset -c "$3")
    rm -f "$OUT"/chat.sqlite3*
    env $SETTINGS HOST=127.0.0.1 PORT=$PORT DATABASE_URL="sqlite:///$OUT/chat.sqlite3" \
        setsid "${server_pin[@]}" "$PYTHON" app.py > "$OUT/$name.server.log" 2>&1 &
    local server=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
        sleep 0.2
    done
    echo 0 > "$TRACING/tracing_on"
    echo > "$TRACING/trace"
    echo 65536 > "$TRACING/buffer_size_kb"
    trace on
    # Joining and settling take about 10 s; trace 5 s of the 30 s of sending.
    (sleep 20; echo 1 > "$TRACING/tracing_on"; sleep 5; echo 0 > "$TRACING/tracing_on") &
    "${load_pin[@]}" "$BENCH" load --url "http://127.0.0.1:$PORT" --pid "$server" \
        --clients 1000 --senders 10 --rate 0.25 --duration 30 > "$OUT/$name.load.txt" 2>&1
    wait $!
    trace off
    cp "$TRACING/trace" "$OUT/$name.trace"
    kill -- -"$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
    {
        echo "## $name"
        grep -E "^(loss_pct|lat_p50_ms|lat_p99_ms|server_cpu_pct|loadgen_cpu_pct) " "$OUT/$name.load.txt"
        "$PYTHON" benchmarks/sched_trace.py "$OUT/$name.trace" "$server"
        echo
    } | tee -a "$OUT/summary.md"
}

run "placed-by-the-kernel" "" ""
run "server-cpu1-loadgen-cpu0" 1 0
