#!/usr/bin/env bash
# 10,000 clients in 100 rooms at each of RATES (1 2 3 5 10) msg/s per room,
# ComongUS against the seed: loss and p99 per rate (series-10k.sh's fan-outs).
names=()
for rate in ${RATES:-1 2 3 5 10}; do
    if [ "$rate" = 1 ]; then names+=(fanout-1msg); else names+=("fanout-${rate}msgs"); fi
done
RESULTS_NAME=${RESULTS_NAME:-fanout-10000-rates} exec "$(dirname "$0")/series-10k.sh" "${names[@]}"
