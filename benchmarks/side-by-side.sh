# Sourced by the scripts that run one scenario against several servers in turn
# (hook-ab.sh, series.sh), after common.sh. Where `bench compare` alternates two
# servers, this alternates any number: round 1 runs every server once, round 2
# again, and so on, so that a slow spell of the machine touches every server
# alike. Each run starts its server afresh (a fresh SQLite file for ComongUS)
# and writes OUT/SCENARIO.SERVER.RUN.json (the load generator's JSON), .txt,
# .log, .server.log and .load (the load average as it began);
# side_by_side_table.py turns them into tables.
#
# SERVER_CPU=1 LOADGEN_CPU=0 puts every server on CPU 1 and the load generator on
# CPU 0 (taskset), as compare-with-seed.sh does; unset, the kernel places them.

SERVER_PIN=() LOADGEN_PIN=()
if [ -n "${SERVER_CPU:-}" ]; then
    SERVER_PIN=(taskset -c "$SERVER_CPU")
    LOADGEN_PIN=(taskset -c "${LOADGEN_CPU:?LOADGEN_CPU goes with SERVER_CPU}")
fi

comongus_command() { # port, environment (VAR=value ...): `python app.py` with common.sh's settings
    echo "cd $ROOT && rm -f $OUT/chat-$1.sqlite3* && exec env $SETTINGS $2 HOST=127.0.0.1 \
PORT=$1 DATABASE_URL=sqlite:///$OUT/chat-$1.sqlite3 $PYTHON app.py"
}

seed_command() { # port: the seed's Node server on that one port (REST and Socket.IO)
    echo "exec $BENCH anchor seed $1"
}

port_open() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

group_alive() { kill -0 -- "-$1" 2> /dev/null; }

run_once() { # json file, port, server command, loadgen options...: one server, one run
    local json=$1 port=$2 command=$3 pid
    shift 3
    local base=${json%.json}
    if port_open "$port"; then
        echo "side-by-side: port $port is in use" >&2
        return 1
    fi
    setsid "${SERVER_PIN[@]}" bash -c "$command" > "$base.server.log" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 300); do
        port_open "$port" && break
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.2
    done
    if ! port_open "$port"; then
        echo "{\"error\": \"server did not start\", \"figures\": {}}" > "$json"
        tail -5 "$base.server.log" >&2
        kill -KILL -- "-$pid" 2> /dev/null || true
        return 0
    fi
    sleep 1
    cut -d' ' -f1 /proc/loadavg > "$base.load"  # the machine's load as the run began
    echo "$(date -u +%T) $(basename "$base")" >&2
    "${LOADGEN_PIN[@]}" "$BENCH" load --url "http://127.0.0.1:$port" --pid "$pid" --json "$json" \
        --label "$(basename "$base")" "$@" > "$base.txt" 2> "$base.log" || true
    grep -E '^(WARNING|ERROR)' "$base.txt" >&2 || true
    [ -f "$json" ] || echo "{\"error\": \"the load generator wrote nothing\", \"figures\": {}}" > "$json"
    # The whole group, and wait for it: a server closing 1,000 sockets must not
    # do so on the next run's CPU.
    kill -TERM -- "-$pid" 2> /dev/null || true
    for _ in $(seq 50); do
        group_alive "$pid" || break
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    for _ in $(seq 50); do
        port_open "$port" || break
        sleep 0.2
    done
}

run_rounds() { # scenario, rounds, loadgen options... ; servers in SERVERS (name=command, one a line)
    # Runs are numbered on from those already in OUT: with ADD_ROUNDS=1 and OUT
    # set to an earlier run's folder, a script adds rounds to it (to rerun a
    # disturbed figure, or to narrow a spread) and its summary counts them all.
    local scenario=$1 rounds=$2 name command run
    shift 2
    for _ in $(seq "$rounds"); do
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            name=${line%%=*}
            command=${line#*=}
            run=1
            while [ -e "$OUT/$scenario.$name.$run.json" ]; do run=$((run + 1)); done
            run_once "$OUT/$scenario.$name.$run.json" "$PORT_FOR_RUNS" "$command" "$@"
        done <<< "$SERVERS"
    done
}

placement() { # where the servers and the load generator ran, for a summary
    if [ -n "${SERVER_CPU:-}" ]; then
        echo "every server on CPU $SERVER_CPU, the load generator on CPU $LOADGEN_CPU (taskset)"
    else
        echo "placed by the kernel, nothing pinned"
    fi
}

how_runs_were_made() { # the paragraph every summary carries
    # RUNS_MADE_AT: the date and commit, for a summary written again from the
    # folder of runs made at an earlier commit.
    cat << EOF
Runs: ${RUNS_MADE_AT:-$(run_stamp)}. Each server in turn, round by round, each run on a fresh
server (a fresh SQLite file for ComongUS) on port $PORT_FOR_RUNS; the load
generator (\`bench load\`, Node) on the same machine ($(nproc) CPUs, $(placement)),
at normal priority. Other work on the machine ran at
nice 19 meanwhile (test suites); the load average when this summary was
written: $(cut -d' ' -f1-3 /proc/loadavg). Settings for ComongUS: $SETTINGS.
Browser tests' Chromium sets its own priority (-8 to 5), so those ran beside
these runs at close to their priority: load_avg (the 1-minute load average as
each run began) shows how busy the machine was; high values go with a high
loadgen_loop_lag_p99_ms and disturbed latencies, while server CPU seconds and
memory per connection move far less.
Cells: the median, then every run in brackets; ratios are of the medians.
EOF
}
