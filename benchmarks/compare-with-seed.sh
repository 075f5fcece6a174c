#!/usr/bin/env bash
# ComongUS against the seed's Node server (../shared/bench's `anchor seed`), one
# scenario, A, B, A, B ... with `bench compare`. The scenario scripts beside this
# file call it; extra arguments go to the load generator.
#
#   benchmarks/compare-with-seed.sh NAME [loadgen options]
#
# ComongUS runs as `python app.py` (eventlet) on a fresh SQLite file, with the
# per-address caps off (every simulated client comes from 127.0.0.1) and the
# send limits raised so the load generator, not the token bucket, sets the pace.
# Results: $OUT (default /tmp/comongus-bench/NAME), summary.md there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=$1
shift
BENCH=${BENCH:-$ROOT/../shared/bench/bench}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-/tmp/comongus-bench/$NAME}
A_PORT=${A_PORT:-5701}
B_PORT=${B_PORT:-5702}
rm -rf "$OUT" && mkdir -p "$OUT"

SETTINGS="MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 SEND_BURST=1000 \
SEND_RATE_PER_SECOND=1000 MAX_PENDING_PACKETS=1000 LOG_LEVEL=WARNING"
# Each run starts on an empty database.
A_CMD="cd $ROOT && rm -f $OUT/chat.sqlite3* && env $SETTINGS HOST=127.0.0.1 PORT=$A_PORT \
DATABASE_URL=sqlite:///$OUT/chat.sqlite3 $PYTHON app.py"

"$BENCH" compare \
    --a "$A_CMD" --a-url "http://127.0.0.1:$A_PORT" --a-name comongus \
    --b "$BENCH anchor seed $B_PORT" --b-url "http://127.0.0.1:$B_PORT" --b-name seed-node \
    --out "$OUT" "$@"
echo "settings for ComongUS: $SETTINGS" | tee -a "$OUT/summary.md"
