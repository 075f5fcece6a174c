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
# Results: $OUT (default benchmarks/results/YYYY-MM-DD-NAME), summary.md there.
#
# SERVER_CPU=1 LOADGEN_CPU=0 puts both servers on one CPU and the load generator
# on the other (taskset), the same for ComongUS and the seed: on loopback each
# side's sends wake the other onto the sender's CPU, and the two then take turns
# on one CPU while the other idles (benchmarks/cpu-sharing.sh shows it). Clients
# on other machines wake nothing on the server's CPU; pinning is closer to that.
set -euo pipefail
source "$(dirname "$0")/common.sh"
results_in "$1"
shift
A_PORT=${A_PORT:-5701}
B_PORT=${B_PORT:-5702}
SERVER_PIN="" LOADGEN_PIN=()
if [ -n "${SERVER_CPU:-}" ]; then
    SERVER_PIN="taskset -c $SERVER_CPU"
    LOADGEN_PIN=(taskset -c "${LOADGEN_CPU:?LOADGEN_CPU goes with SERVER_CPU}")
fi

# Each run starts on an empty database.
A_CMD="cd $ROOT && rm -f $OUT/chat.sqlite3* && env $SETTINGS HOST=127.0.0.1 PORT=$A_PORT \
DATABASE_URL=sqlite:///$OUT/chat.sqlite3 $SERVER_PIN $PYTHON app.py"

"${LOADGEN_PIN[@]}" "$BENCH" compare \
    --a "$A_CMD" --a-url "http://127.0.0.1:$A_PORT" --a-name comongus \
    --b "$SERVER_PIN $BENCH anchor seed $B_PORT" --b-url "http://127.0.0.1:$B_PORT" --b-name seed-node \
    --out "$OUT" "$@"
echo "run: $(run_stamp); settings for ComongUS: $SETTINGS" | tee -a "$OUT/summary.md"
[ -z "$SERVER_PIN" ] || echo "both servers on CPU $SERVER_CPU, the load generator on CPU $LOADGEN_CPU" |
    tee -a "$OUT/summary.md"
