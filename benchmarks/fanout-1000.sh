#!/usr/bin/env bash
# 1,000 clients in one room over WebSocket, 10 msg/s in all: loss and latency.
exec "$(dirname "$0")/compare-with-seed.sh" fanout-1000 --clients 1000 --senders 10 --rate 1 --duration 10 --repeats 2 "$@"
