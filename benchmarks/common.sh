# Sourced by every benchmark script that is more than one `compare-with-seed.sh`
# line: it moves to the project root and says where the tools are, the settings
# ComongUS runs with, and where results go.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH=${BENCH:-$ROOT/../shared/bench/bench}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

# Every simulated client comes from 127.0.0.1, which the per-address caps would
# rightly refuse; the send limits are raised (REST posts unlimited: rest-100k.sh
# fills 100,000 from one address) so the load generator, not a token bucket,
# sets the pace.
SETTINGS="MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 SEND_BURST=1000 \
SEND_RATE_PER_SECOND=1000 MAX_PENDING_PACKETS=1000 REST_POSTS_PER_SECOND=0 LOG_LEVEL=WARNING"

results_in() { # name: sets OUT and makes it an empty folder
    # By default a new dated folder, benchmarks/results/YYYY-MM-DD-NAME (-2, -3 ...
    # for another run the same day), so a run never overwrites an earlier one; its
    # summary.md is the record kept in git (benchmarks/results/README.md).
    if [ -z "${OUT:-}" ]; then
        local base run=1
        base="$ROOT/benchmarks/results/$(date -u +%F)-$1"
        OUT=$base
        while [ -e "$OUT" ]; do
            run=$((run + 1))
            OUT=$base-$run
        done
    fi
    if [ -n "${ADD_ROUNDS:-}" ]; then
        mkdir -p "$OUT"  # side-by-side.sh: more rounds into an earlier run's folder
    else
        rm -rf "$OUT" && mkdir -p "$OUT"
    fi
}

run_stamp() { # one line for a summary: the date, the commit, and whether the tree was clean
    local commit dirty=""
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?')
    git -C "$ROOT" diff --quiet HEAD -- comongus app.py 2> /dev/null || dirty=" with uncommitted changes"
    echo "$(date -u +%F), commit $commit$dirty"
}
