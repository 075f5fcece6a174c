#!/usr/bin/env bash
# fanout-1000 at half the rate (5 msg/s in all): at 10 msg/s the load generator
# itself runs at a full core parsing the seed's roomData (sent after every
# message), which inflates the seed's latencies. Here it stays below that.
exec "$(dirname "$0")/compare-with-seed.sh" fanout-1000-5msgs --clients 1000 --senders 10 --rate 0.5 --duration 20 --repeats 2 "$@"
