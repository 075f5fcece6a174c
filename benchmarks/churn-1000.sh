#!/usr/bin/env bash
# Memory after people leave: ROUNDS rounds of 1,000 clients joining, holding 3 s
# and leaving, against ComongUS and then the seed's Node server; prints each
# server's RSS before the first round and 8 s after each round. A server that
# keeps what departed sessions used grows from round to round.
#
#   benchmarks/churn-1000.sh            (ROUNDS=4 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench/bench}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-/tmp/comongus-bench/churn-1000}
ROUNDS=${ROUNDS:-4}
rm -rf "$OUT" && mkdir -p "$OUT"

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

measure() { # name, port, command...
    local name=$1 port=$2
    shift 2
    setsid "$@" > "$OUT/$name.log" 2>&1 &
    local group=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.2
    done
    local pid
    pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    local line="$name: RSS MB before $(rss_mb "$pid")"
    for round in $(seq "$ROUNDS"); do
        "$BENCH" load --url "http://127.0.0.1:$port" --mode idle --clients 1000 --duration 3 \
            > "$OUT/$name-round-$round.log" 2>&1
        sleep 8
        line="$line, after round $round $(rss_mb "$pid")"
    done
    kill -- -"$group" 2> /dev/null || true
    wait "$group" 2> /dev/null || true
    echo "$line" | tee -a "$OUT/summary.md"
}

measure comongus 5721 env MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 \
    LOG_LEVEL=WARNING HOST=127.0.0.1 PORT=5721 DATABASE_URL="sqlite:///$OUT/chat.sqlite3" \
    "$PYTHON" app.py
measure seed-node 5722 "$BENCH" anchor seed 5722
