#!/usr/bin/env bash
# Run ComongUS as N processes behind nginx, on one machine.
#
#   scripts/run-cluster.sh [N] [P]        N processes (default 2) on ports P+1..P+N,
#                                         nginx on port P (default 8000)
#
# Environment (each has a default that works on this machine):
#   REDIS_URL      redis://127.0.0.1:6379/0   shared events and presence
#   DATABASE_URL   postgresql://postgres@127.0.0.1:5432/test
#                  (several processes need PostgreSQL: SQLite serialises every writer)
#   LISTEN_HOST    127.0.0.1 (0.0.0.0 to serve other machines)
#   PYTHON         .venv/bin/python      NGINX   nginx from PATH, else /usr/sbin/nginx
#   CLUSTER_RUNDIR where logs, nginx.conf and nginx's temporary files go (default: a new
#                  temporary directory, removed on exit)
# Any other ComongUS setting (REDIS_PREFIX, PRESENCE_LEASE_SECONDS, ...) passes through.
#
# Behind nginx every client has nginx's address, so the per-address caps are turned
# off here (MAX_CONNECTIONS_PER_ADDRESS=0, HANDSHAKES_PER_SECOND=0); limit in nginx
# instead. Ctrl-C or SIGTERM stops nginx and every process (SIGTERM: a clean stop).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2}
P=${2:-8000}
PYTHON=${PYTHON:-.venv/bin/python}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
LISTEN_HOST=${LISTEN_HOST:-127.0.0.1}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
export MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0
export HOST=127.0.0.1  # the processes answer only nginx

if [[ -n "${CLUSTER_RUNDIR:-}" ]]; then
    RUNDIR=$CLUSTER_RUNDIR
    mkdir -p "$RUNDIR"
    remove_rundir=false
else
    RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/comongus-cluster.XXXXXX")
    remove_rundir=true
fi
chmod 755 "$RUNDIR"  # nginx's workers (nobody, when started as root) use its temp dirs

pids=()
stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait || true
    if $remove_rundir; then rm -rf "$RUNDIR"; fi
}
trap stop EXIT
trap 'exit 0' INT TERM

servers=""
for i in $(seq 1 "$N"); do
    port=$((P + i))
    PORT=$port "$PYTHON" app.py >"$RUNDIR/comongus-$port.log" 2>&1 &
    pids+=($!)
    servers+="        server 127.0.0.1:$port;"$'\n'
done

for i in $(seq 1 "$N"); do
    port=$((P + i))
    for _ in $(seq 1 150); do
        if "$PYTHON" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" \
                "http://127.0.0.1:$port/healthz" 2>/dev/null; then
            continue 2
        fi
        sleep 0.2
    done
    echo "ComongUS on port $port did not start; its log:" >&2
    tail -n 30 "$RUNDIR/comongus-$port.log" >&2
    exit 1
done

template=deploy/nginx.conf.template
awk -v rundir="$RUNDIR" -v listen="$LISTEN_HOST:$P" -v servers="${servers%$'\n'}" '
    { gsub(/@RUNDIR@/, rundir); gsub(/@LISTEN@/, listen) }
    /^@SERVERS@$/ { print servers; next }
    { print }' "$template" >"$RUNDIR/nginx.conf"
"$NGINX" -t -q -c "$RUNDIR/nginx.conf" -g 'daemon off;'
"$NGINX" -c "$RUNDIR/nginx.conf" -g 'daemon off;' &
pids+=($!)
nginx_pid=$!

echo "ComongUS: $N processes on ports $((P + 1))-$((P + N)), nginx on http://$LISTEN_HOST:$P"
echo "logs in $RUNDIR"
wait "$nginx_pid"
