#!/usr/bin/env bash
# Memory under steady churn: for SECONDS_OF_CHURN s, a group of 40 clients joins every
# second and each group leaves after 4 s, so about 200 are online and 40 leave
# every second while 40 arrive. Against ComongUS and then the seed's Node
# server; prints each server's RSS every 15 s and 8 s after the last group
# left. A server that keeps what departed sessions used grows all along.
#
#   benchmarks/steady-churn.sh            (SECONDS_OF_CHURN=90 by default)
set -euo pipefail
source "$(dirname "$0")/common.sh"
source benchmarks/server-helpers.sh
results_in steady-churn
echo "# steady-churn: $(run_stamp)" > "$OUT/summary.md"
DURATION=${SECONDS_OF_CHURN:-90}

steady() { # port
    for second in $(seq "$DURATION"); do
        "$BENCH" load --url "http://127.0.0.1:$1" --mode idle --clients 40 --duration 4 \
            --ramp 0 > /dev/null 2>&1 &
        sleep 1
        if [ $((second % 15)) = 0 ]; then
            record_rss "at ${second} s"
        fi
    done
    wait $(jobs -p | grep -vx "$SERVER_GROUP") 2> /dev/null || true
    sleep 8
    record_rss "8 s after"
}

rss_under_churn "$OUT/summary.md" comongus 5711 steady \
    env $SETTINGS HOST=127.0.0.1 PORT=5711 DATABASE_URL="sqlite:///$OUT/chat.sqlite3" "$PYTHON" app.py
rss_under_churn "$OUT/summary.md" seed-node 5712 steady "$BENCH" anchor seed 5712
