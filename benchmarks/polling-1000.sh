#!/usr/bin/env bash
# 1,000 clients on HTTP long-polling in 10 rooms at 1 msg/s per room, ComongUS
# against the seed: loss and p99 (series-10k.sh's polling scenario).
RESULTS_NAME=${RESULTS_NAME:-polling-1000} exec "$(dirname "$0")/series-10k.sh" polling
