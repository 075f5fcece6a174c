# For the benchmark scripts that start servers themselves rather than through
# `bench compare`: source it.

rss_mb() { # pid: its resident memory in MB
    awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

start_server() { # log file, port, command...: sets SERVER_GROUP and SERVER_PID
    local log=$1 port=$2
    shift 2
    setsid "$@" > "$log" 2>&1 &
    SERVER_GROUP=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.2
    done
    # The process that listens, under any wrapper (`bench anchor` runs node as a child).
    SERVER_PID=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
}

stop_server() {
    kill -- -"$SERVER_GROUP" 2> /dev/null || true
    wait "$SERVER_GROUP" 2> /dev/null || true
}

rss_under_churn() { # summary file, name, port, churn function, server command...
    # Starts the server, notes its RSS, runs `churn PORT NAME` (which calls
    # record_rss wherever a figure is wanted), stops it and prints one line.
    local summary=$1 name=$2 port=$3 churn=$4
    shift 4
    start_server "$(dirname "$summary")/$name.log" "$port" "$@"
    RSS_LINE="$name: RSS MB before $(rss_mb "$SERVER_PID")"
    "$churn" "$port" "$name"
    stop_server
    echo "$RSS_LINE" | tee -a "$summary"
}

record_rss() { # label: adds "label MB" to the line rss_under_churn prints
    RSS_LINE="$RSS_LINE, $1 $(rss_mb "$SERVER_PID")"
}

hold_idle_clients() { # log, port, clients, ramp: idle WebSocket clients in rooms of 100
    # Starts `bench load --mode idle` in a process group of its own (LOAD: its id) and
    # returns once it holds its connections; exits if it stops before.
    setsid "$BENCH" load --url "http://127.0.0.1:$2" --mode idle --clients "$3" \
        --rooms $((($3 + 99) / 100)) --ramp "$4" --duration 600 --pid "$SERVER_PID" \
        --json "${1%.log}.json" > "$1" 2>&1 &
    LOAD=$!
    until grep -q "holding .* idle connections" "$1"; do
        if ! kill -0 "$LOAD" 2> /dev/null; then
            echo "the load generator stopped before holding its connections:" >&2
            tail "$1" >&2
            stop_server
            exit 1
        fi
        sleep 1
    done
}

server_cpu_ticks() { # the server's CPU time so far, in clock ticks
    awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"
}

wait_until_quiet() { # until the server uses under a fifth of a core for a second (2 minutes at most)
    local before
    for _ in $(seq 120); do
        before=$(server_cpu_ticks)
        sleep 1
        [ $(($(server_cpu_ticks) - before)) -lt $(($(getconf CLK_TCK) / 5)) ] && return
    done
}
