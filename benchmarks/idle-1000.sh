#!/usr/bin/env bash
# 1,000 idle connections: memory per connection.
exec "$(dirname "$0")/compare-with-seed.sh" idle-1000 --mode idle --clients 1000 --duration 10 --repeats 1 "$@"
