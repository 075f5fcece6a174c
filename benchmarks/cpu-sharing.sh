#!/usr/bin/env bash
# Fan-out 1,000 at 2.5 msg/s, three runs: ComongUS as `bench compare` runs it
# (the kernel places both processes), ComongUS on CPU 1 with the load generator
# on CPU 0, and the seed's Node server placed by the kernel. Each run records
# the kernel's scheduler events for 5 s of the sending phase and prints, beside
# the load generator's latency, how often the server was preempted and by whom,
# and how long it waited for its CPU (benchmarks/sched_trace.py). Needs root
# (tracefs).
#
#   sudo benchmarks/cpu-sharing.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
results_in cpu-sharing
echo "# cpu-sharing: $(run_stamp)" > "$OUT/summary.md"
PORT=${PORT:-5703}
TRACING=/sys/kernel/tracing
[ -e "$TRACING/trace" ] || mount -t tracefs nodev "$TRACING"
source benchmarks/server-helpers.sh

trace() { # on|off
    local value=1
    [ "$1" = on ] || value=0
    for event in sched_switch sched_wakeup sched_migrate_task; do
        echo "$value" > "$TRACING/events/sched/$event/enable"
    done
}

run() { # name, server CPU list or "", load generator CPU list or "", server command...
    local name=$1 server_pin=() load_pin=()
    [ -z "$2" ] || server_pin=(taskset -c "$2")
    [ -z "$3" ] || load_pin=(taskset -c "$3")
    shift 3
    rm -f "$OUT"/chat.sqlite3*
    start_server "$OUT/$name.server.log" "$PORT" "${server_pin[@]}" "$@"
    local server=$SERVER_PID
    echo 0 > "$TRACING/tracing_on"
    echo > "$TRACING/trace"
    echo 65536 > "$TRACING/buffer_size_kb"
    trace on
    # Joining and settling take about 10 s; trace 5 s of the 30 s of sending.
    (sleep 20; echo 1 > "$TRACING/tracing_on"; sleep 5; echo 0 > "$TRACING/tracing_on") &
    local tracer=$!
    # `bench load` execs node: this pid is the load generator's own.
    "${load_pin[@]}" "$BENCH" load --url "http://127.0.0.1:$PORT" --pid "$server" \
        --clients 1000 --senders 10 --rate 0.25 --duration 30 > "$OUT/$name.load.txt" 2>&1 &
    local load_generator=$!
    wait "$load_generator"
    wait "$tracer"
    trace off
    cp "$TRACING/trace" "$OUT/$name.trace"
    stop_server
    {
        echo "## $name"
        grep -E "^(loss_pct|lat_p50_ms|lat_p99_ms|server_cpu_pct|loadgen_cpu_pct) " "$OUT/$name.load.txt"
        "$PYTHON" benchmarks/sched_trace.py "$OUT/$name.trace" "$server" "$load_generator"
        echo
    } | tee -a "$OUT/summary.md"
}

COMONGUS=(env $SETTINGS HOST=127.0.0.1 PORT=$PORT DATABASE_URL="sqlite:///$OUT/chat.sqlite3"
          "$PYTHON" app.py)
run "comongus-placed-by-the-kernel" "" "" "${COMONGUS[@]}"
run "comongus-on-cpu1-loadgen-on-cpu0" 1 0 "${COMONGUS[@]}"
run "seed-placed-by-the-kernel" "" "" "$BENCH" anchor seed "$PORT"
