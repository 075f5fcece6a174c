#!/usr/bin/env bash
# 100 clients on HTTP long-polling only, 10 msg/s in all: latency.
exec "$(dirname "$0")/compare-with-seed.sh" polling-100 --clients 100 --senders 10 --rate 1 --duration 10 --transport polling --repeats 2 "$@"
