#!/usr/bin/env bash
# Memory after people leave: ROUNDS rounds of 1,000 clients joining, holding 3 s
# and leaving, against ComongUS and then the seed's Node server; prints each
# server's RSS before the first round and 8 s after each round. A server that
# keeps what departed sessions used grows from round to round.
#
#   benchmarks/churn-1000.sh            (ROUNDS=4 by default)
set -euo pipefail
source "$(dirname "$0")/common.sh"
source benchmarks/server-helpers.sh
results_in churn-1000
echo "# churn-1000: $(run_stamp)" > "$OUT/summary.md"
ROUNDS=${ROUNDS:-4}

waves() { # port, name
    for round in $(seq "$ROUNDS"); do
        "$BENCH" load --url "http://127.0.0.1:$1" --mode idle --clients 1000 --duration 3 \
            > "$OUT/$2-round-$round.log" 2>&1
        sleep 8
        record_rss "after round $round"
    done
}

rss_under_churn "$OUT/summary.md" comongus 5721 waves \
    env $SETTINGS HOST=127.0.0.1 PORT=5721 DATABASE_URL="sqlite:///$OUT/chat.sqlite3" "$PYTHON" app.py
rss_under_churn "$OUT/summary.md" seed-node 5722 waves "$BENCH" anchor seed 5722
