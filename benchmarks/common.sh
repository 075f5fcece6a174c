# Sourced by every benchmark script that is more than one `compare-with-seed.sh`
# line: it moves to the project root and says where the tools are, the settings
# ComongUS runs with, and where results go.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH=${BENCH:-$ROOT/../shared/bench/bench}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

# Every simulated client comes from 127.0.0.1, which the per-address caps would
# rightly refuse; the send limits are raised so the load generator, not the
# token bucket, sets the pace.
SETTINGS="MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 SEND_BURST=1000 \
SEND_RATE_PER_SECOND=1000 MAX_PENDING_PACKETS=1000 LOG_LEVEL=WARNING"

results_in() { # name: sets OUT (default /tmp/comongus-bench/NAME) and empties it
    OUT=${OUT:-/tmp/comongus-bench/$1}
    rm -rf "$OUT" && mkdir -p "$OUT"
}
