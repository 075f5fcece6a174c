#!/usr/bin/env bash
# SIGTERM with 10,000 connected: how long until the process exits, its exit code,
# and how many error lines it logged on the way out. CLIENTS idle WebSocket
# clients join rooms of 100 (`bench load --mode idle`, RAMP connections a second:
# faster, the joins outrun the server and clients give up), then the server gets
# SIGTERM as a platform sends it; every client must see its connection close.
#
#   benchmarks/shutdown-10000.sh                 (CLIENTS=10000; COMONGUS_TUNING=off
#                                                 or SERVER=gevent pass through)
set -euo pipefail
source "$(dirname "$0")/common.sh"
source benchmarks/server-helpers.sh
CLIENTS=${CLIENTS:-10000}
PORT=${PORT:-5731}
RAMP=${RAMP:-150}
results_in "shutdown-$CLIENTS"
# One file per connection, for the server and the load generator alike.
ulimit -n "$(ulimit -Hn)"

start_server "$OUT/server.log" "$PORT" env $SETTINGS LOG_LEVEL=INFO \
    MAX_CONNECTIONS=$((CLIENTS + 2000)) HOST=127.0.0.1 PORT="$PORT" \
    DATABASE_URL="sqlite:///$OUT/chat.sqlite3" "$PYTHON" app.py
hold_idle_clients "$OUT/load.log" "$PORT" "$CLIENTS" "$RAMP"
# Then until the server is quiet: a join storm's last leaves and lists would
# otherwise be measured as the shutdown's.
wait_until_quiet
HELD=$(grep -o "holding [0-9]* idle" "$OUT/load.log" | grep -o "[0-9]*")
SESSIONS_BEFORE=$(ss -tnH state established "sport = :$PORT" | wc -l)

LOGGED_BEFORE=$(stat -c %s "$OUT/server.log")
started=$(date +%s.%N)
kill -TERM "$SERVER_PID"
code=0
wait "$SERVER_GROUP" || code=$?
ended=$(date +%s.%N)
sleep 1
LEFT_OPEN=$(ss -tnH state established "dport = :$PORT" | wc -l)
kill -- -"$LOAD" 2> /dev/null || true
wait "$LOAD" 2> /dev/null || true

tail -c +$((LOGGED_BEFORE + 1)) "$OUT/server.log" > "$OUT/after-sigterm.log"
ERRORS=$(grep -ciE "error|traceback|exception" "$OUT/after-sigterm.log" || true)
{
    echo "# shutdown-$CLIENTS: $(run_stamp)"
    echo
    if [ "${SERVER:-eventlet}" = gevent ]; then
        echo "Server: gevent (stock); $HELD idle"
    else
        echo "Server: eventlet, COMONGUS_TUNING=${COMONGUS_TUNING:-on}; $HELD idle"
    fi
    echo "WebSocket clients in rooms of 100 ($SESSIONS_BEFORE connections established);"
    echo "load average before SIGTERM: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| SIGTERM to exit | exit code | error lines after SIGTERM | client connections left open 1 s after |"
    echo "| --- | --- | --- | --- |"
    printf "| %.2f s | %s | %s | %s |\n" "$(echo "$ended - $started" | bc)" "$code" "$ERRORS" "$LEFT_OPEN"
} | tee "$OUT/summary.md"
echo "The most frequent error lines after SIGTERM, if any:"
grep -iE "error|traceback|exception" "$OUT/after-sigterm.log" | sort | uniq -c | sort -rn | head -5 || true
