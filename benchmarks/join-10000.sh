#!/usr/bin/env bash
# 10,000 clients joining 100 rooms at 500/s and all at once, ComongUS against
# the seed: time until all joined, CPU per join (series-10k.sh's join scenarios).
RESULTS_NAME=${RESULTS_NAME:-join-10000} exec "$(dirname "$0")/series-10k.sh" join-ramp500 join-at-once
