#!/usr/bin/env bash
# 10,000 idle connections in 100 rooms held 5 minutes, ComongUS against the
# seed: memory per connection, disconnects (series-10k.sh's idle scenario).
RESULTS_NAME=${RESULTS_NAME:-idle-10000} exec "$(dirname "$0")/series-10k.sh" idle
