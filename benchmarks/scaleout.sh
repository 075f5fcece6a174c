#!/usr/bin/env bash
# One ComongUS process against two behind nginx (scripts/run-cluster.sh), with
# ../shared/bench: the same fan-out scenario on each, A, B, A, B.
#
#   benchmarks/scaleout.sh [extra loadgen options]      e.g. --clients 1000
#
# Both sides use the local PostgreSQL (a schema of their own, emptied first) and
# have the per-address caps off (every simulated client comes from 127.0.0.1, as
# every client behind nginx comes from nginx). B also uses the local Redis, under
# a key prefix of its own that is deleted afterwards. Results: $OUT (default
# benchmarks/results/YYYY-MM-DD-scaleout), summary.md there; discussed in docs/scaleout.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
results_in scaleout
PG=${PG:-postgresql://postgres@127.0.0.1:5432/test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
SCHEMA=comongus_bench
PREFIX="comongus-bench-$$:"
DB="$PG?options=-csearch_path%3D$SCHEMA"
A_PORT=${A_PORT:-5601}  # one process
B_PORT=${B_PORT:-5610}  # nginx; its processes on B_PORT+1, B_PORT+2

"$PYTHON" - "$PG" "$SCHEMA" <<'PY'
import sys
import sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg2://"))
with engine.begin() as connection:
    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {sys.argv[2]} CASCADE")
    connection.exec_driver_sql(f"CREATE SCHEMA {sys.argv[2]}")
PY
cleanup() {
    "$PYTHON" - "$REDIS_URL" "$PREFIX" <<'PY'
import sys
import redis
client = redis.Redis.from_url(sys.argv[1])
for key in client.scan_iter(match=sys.argv[2] + "*", count=1000):
    client.delete(key)
PY
}
trap cleanup EXIT

COMMON="DATABASE_URL='$DB' MAX_CONNECTIONS_PER_ADDRESS=0 HANDSHAKES_PER_SECOND=0 LOG_LEVEL=WARNING"
"$BENCH" compare \
    --a "cd $ROOT && env $COMMON HOST=127.0.0.1 PORT=$A_PORT $PYTHON app.py" \
    --a-url http://127.0.0.1:$A_PORT --a-name one-process \
    --b "cd $ROOT && env $COMMON REDIS_URL=$REDIS_URL REDIS_PREFIX=$PREFIX PYTHON=$PYTHON scripts/run-cluster.sh 2 $B_PORT" \
    --b-url http://127.0.0.1:$B_PORT --b-name two-behind-nginx \
    --repeats 2 --clients 500 --senders 10 --rate 1 --duration 10 --out "$OUT" "$@"
echo "run: $(run_stamp); settings: $COMMON" | tee -a "$OUT/summary.md"
