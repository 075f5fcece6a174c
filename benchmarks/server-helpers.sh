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
