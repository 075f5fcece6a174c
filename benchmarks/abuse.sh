#!/usr/bin/env bash
# One client must not hurt everyone: each attack runs for ATTACK_SECONDS against a fresh
# server (`python app.py` on its own SQLite file) beside CLIENTS ordinary clients,
# and one table row says what the ordinary clients saw: the p99 round trip of
# their own messages, `/healthz` p99, the server's RSS growth, who was dropped,
# and what became of the attacker. Goals: no ordinary client dropped, `/healthz`
# p99 under 250 ms, RSS growth under 50 MB per attacker.
#
#   benchmarks/abuse.sh                              every attack, 200 clients, 20 s each
#   CLIENTS=50 ATTACK_SECONDS=5 benchmarks/abuse.sh         a quick trial
#   ATTACKS="baseline pings cache" benchmarks/abuse.sh
#
# Knobs: CLIENTS (200), ATTACK_SECONDS (20, per attack; bash keeps SECONDS for
# itself), ATTACKS (space-separated, from the list below; all of them by
# default), PORT (5731: the first server's port, one more for each attack), OUT
# (benchmarks/results/YYYY-MM-DD-abuse), PYTHON (.venv/bin/python).
#
# The ordinary clients and the /healthz prober (every 50 ms, on a fresh
# connection each time, a timeout counted as its full 5 s) come from 127.0.0.1,
# each in a room of 20 sending a message every 2 s; the attacker from 127.0.0.2
# (slowloris: 127.0.0.2–9; seeding the replay room: 127.0.1.x). The attacks
# (benchmarks/abuse.py has one function each):
#
#   baseline     no attack
#   fragments    a text message begun with FIN=0, continued for ever in 16 KiB fragments
#   big-frames   whole 60 KB text frames in a loop
#   pings        6-byte WebSocket ping frames, a thousand per write
#   cache        GET /messages with a junk second roomname and a junk Origin, 8 keep-alive links
#   replay       join {since: 0} every 20 ms into a room of 500 stored 2,000-character
#                Korean messages, never reading
#   slowloris    1,000 requests from 8 addresses sending one header byte a second
#   binary       a packet announcing 1,000,000 binary attachments, then 60 KB binary
#                frames, on 4 connections
#   sqlite-lock  another process holds SQLite's write lock all along; 20 writers send
#   flipping     one connection joins the ordinary rooms in turn as fast as it can,
#                another floods typing true/false into one of them
#   send-flood   sendMessage as fast as the socket takes it, into an ordinary room
#
# An attacker the server cuts reconnects, as a real one would. The per-address
# caps stay at their defaults, since they are part of the defence; only
# HANDSHAKE_BURST is raised (to twice CLIENTS) so the ordinary clients, all from
# one address, can connect at once, and MAX_CONNECTIONS_PER_ADDRESS when CLIENTS
# leaves it too little room.
set -euo pipefail
source "$(dirname "$0")/common.sh"
source benchmarks/server-helpers.sh
results_in abuse
CLIENTS=${CLIENTS:-200}
SECONDS_EACH=${ATTACK_SECONDS:-20}
ATTACKS=${ATTACKS:-baseline fragments big-frames pings cache replay slowloris binary sqlite-lock flipping send-flood}
PORT=${PORT:-5731}
PER_ADDRESS=$((CLIENTS + 20 > 256 ? CLIENTS + 20 : 256))
RUN_SETTINGS="LOG_LEVEL=WARNING HANDSHAKE_BURST=$((CLIENTS * 2)) MAX_CONNECTIONS_PER_ADDRESS=$PER_ADDRESS"

stop_within() { # seconds: SIGTERM to the server, SIGKILL if it has not exited by then
    local began=$SECONDS
    kill -- -"$SERVER_GROUP" 2> /dev/null || true
    (sleep "$1" && kill -KILL -- -"$SERVER_GROUP" 2> /dev/null) &
    local killer=$!
    wait "$SERVER_GROUP" 2> /dev/null || true
    kill "$killer" 2> /dev/null || true
    wait "$killer" 2> /dev/null || true
    STOPPED_IN=$((SECONDS - began))
}

SUMMARY="$OUT/summary.md"
{
    echo "# Abuse: $(run_stamp)"
    echo
    echo "$CLIENTS ordinary clients, $SECONDS_EACH s per attack; settings: $RUN_SETTINGS."
    echo "Goals: no ordinary client dropped, /healthz p99 < 250 ms, RSS growth < 50 MB per attacker."
    echo
    echo "| attack | ordinary p99 round trip ms | ordinary sends | /healthz p99 ms | RSS growth MB | ordinary clients dropped | attacker |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
} | tee "$SUMMARY"

NOTES=""
for attack in $ATTACKS; do
    dir="$OUT/$attack"
    mkdir -p "$dir"
    start_server "$dir/server.log" "$PORT" \
        env $RUN_SETTINGS HOST=127.0.0.1 PORT="$PORT" \
        DATABASE_URL="sqlite:///$dir/chat.sqlite3" "$PYTHON" app.py
    if [ -z "$SERVER_PID" ]; then
        echo "| $attack | the server did not start (see $dir/server.log) | | | | | |" | tee -a "$SUMMARY"
        stop_within 5
        PORT=$((PORT + 1))
        continue
    fi
    row=$(timeout -k 5 $((SECONDS_EACH + 150)) "$PYTHON" benchmarks/abuse.py run "$attack" \
        --port "$PORT" --pid "$SERVER_PID" --clients "$CLIENTS" --seconds "$SECONDS_EACH" \
        --database "$dir/chat.sqlite3" 2> "$dir/driver.log") \
        || row="| $attack | the driver failed or timed out (see $dir/driver.log) | | | | | |"
    echo "$row" | tee -a "$SUMMARY"
    stop_within 15
    tracebacks=$(grep -c Traceback "$dir/server.log" || true)
    NOTES="$NOTES- $attack: the server exited ${STOPPED_IN} s after SIGTERM; $tracebacks tracebacks in its log.\n"
    PORT=$((PORT + 1))
done
printf "\n%b" "$NOTES" | tee -a "$SUMMARY"
echo "Written to $SUMMARY"
