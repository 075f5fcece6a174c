#!/usr/bin/env bash
# 1,000 clients joining one room at once: time until all joined, presence bytes.
exec "$(dirname "$0")/compare-with-seed.sh" joinstorm-1000 --mode joinstorm --clients 1000 --join-timeout 180 --repeats 1 "$@"
