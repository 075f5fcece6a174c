#!/usr/bin/env bash
# ComongUS against itself, served two ways, one scenario, A, B, A, B ... with
# `bench compare`: what the eventlet tuning is worth (tuned against stock), or
# what gevent costs.
#
#   benchmarks/compare-modes.sh A B [loadgen options]   default: the fan-out of 1,000
#
# A and B: `tuned` (python app.py), `stock` (COMONGUS_TUNING=off python app.py) or
# `gevent` (SERVER=gevent python app.py); the settings are those of common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mode_env() { # mode: the environment that selects it
    case $1 in
        tuned) echo "" ;;
        stock) echo "COMONGUS_TUNING=off" ;;
        gevent) echo "SERVER=gevent" ;;
        *) echo "compare-modes.sh: '$1' is not tuned, stock or gevent" >&2; return 1 ;;
    esac
}
A=${1:?A: tuned, stock or gevent}
B=${2:?B: tuned, stock or gevent}
shift 2
A_ENV=$(mode_env "$A")
B_ENV=$(mode_env "$B")
results_in "$A-vs-$B"
run() { # port, the mode's environment
    echo "cd $ROOT && rm -f $OUT/chat-$1.sqlite3* && env $SETTINGS $2 HOST=127.0.0.1 PORT=$1 \
DATABASE_URL=sqlite:///$OUT/chat-$1.sqlite3 $PYTHON app.py"
}
if [ $# -eq 0 ]; then
    set -- --clients 1000 --senders 10 --rate 1 --duration 10 --repeats 2
fi
"$BENCH" compare \
    --a "$(run 5711 "$A_ENV")" --a-url http://127.0.0.1:5711 --a-name "$A" \
    --b "$(run 5712 "$B_ENV")" --b-url http://127.0.0.1:5712 --b-name "$B" \
    --out "$OUT" "$@"
echo "run: $(run_stamp); settings: $SETTINGS" | tee -a "$OUT/summary.md"
