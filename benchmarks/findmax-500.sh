#!/usr/bin/env bash
# 500 clients: the highest send rate with p99 <= 100 ms and no loss.
exec "$(dirname "$0")/compare-with-seed.sh" findmax-500 --clients 500 --senders 50 --rate 1 --find-max --step-duration 5 --repeats 1 "$@"
