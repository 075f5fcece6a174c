#!/usr/bin/env bash
# fanout-1000 at 1 msg/s in all (60 s): at 2.5 msg/s the seed's per-message
# roomData still keeps the load generator busy 63 % of a core while ComongUS's
# leaves it asleep between broadcasts; here both leave it mostly idle.
exec "$(dirname "$0")/compare-with-seed.sh" fanout-1000-1msg --clients 1000 --senders 10 --rate 0.1 --duration 60 --repeats 3 "$@"
