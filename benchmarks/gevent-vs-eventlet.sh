#!/usr/bin/env bash
# The same ComongUS code on eventlet (python app.py, the product's server) and on
# gevent (benchmarks/gevent_server.py), one scenario, A, B, A, B ...
#
#   benchmarks/gevent-vs-eventlet.sh [loadgen options]   default: the fan-out of 1,000
#
# Needs gevent in the venv (`.venv/bin/pip install gevent`); the settings are those
# of benchmarks/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
results_in gevent-vs-eventlet
run() { # port, command
    echo "cd $ROOT && rm -f $OUT/chat-$1.sqlite3* && env $SETTINGS HOST=127.0.0.1 PORT=$1 \
DATABASE_URL=sqlite:///$OUT/chat-$1.sqlite3 $2"
}
if [ $# -eq 0 ]; then
    set -- --clients 1000 --senders 10 --rate 1 --duration 10 --repeats 2
fi
"$BENCH" compare \
    --a "$(run 5711 "$PYTHON app.py")" --a-url http://127.0.0.1:5711 --a-name eventlet \
    --b "$(run 5712 "$PYTHON benchmarks/gevent_server.py")" --b-url http://127.0.0.1:5712 \
    --b-name gevent --out "$OUT" "$@"
echo "run: $(run_stamp); settings: $SETTINGS" | tee -a "$OUT/summary.md"
