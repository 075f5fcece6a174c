#!/usr/bin/env bash
# GET /messages with 100,000 messages stored: requests/s and latency (needs wrk).
exec "$(dirname "$0")/compare-with-seed.sh" rest-100k --mode rest --fill 100000 --duration 10 --repeats 1 "$@"
