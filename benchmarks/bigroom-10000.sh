#!/usr/bin/env bash
# 10,000 clients in one room at 1 msg/s on ComongUS, and both servers at the
# size the seed reaches (SEED_BIG_CLIENTS, 1,000): joins, presence traffic,
# loss, p99 (series-10k.sh's bigroom scenarios).
RESULTS_NAME=${RESULTS_NAME:-bigroom-10000} exec "$(dirname "$0")/series-10k.sh" bigroom bigroom-seed-size
