#!/usr/bin/env bash
# fanout-1000 at a quarter of the rate (2.5 msg/s in all, 40 s): at 5 msg/s the
# load generator still nears a full core on the seed's per-message roomData.
exec "$(dirname "$0")/compare-with-seed.sh" fanout-1000-2msgs --clients 1000 --senders 10 --rate 0.25 --duration 40 --repeats 2 "$@"
