#!/bin/sh
# Refresh the vendored Socket.IO browser client from the npm registry.
#
#   scripts/refresh-socketio-client.sh 4.8.1
#
# The chat pages load static/vendor/socket.io/socket.io.min.js, never a CDN, so
# the chat works on a network with no internet (a classroom). Pin the version the
# server's protocol (Socket.IO v5, i.e. client 4.x) speaks; commit the result.
set -eu

version="${1:?usage: $0 VERSION   (a socket.io-client 4.x version, e.g. 4.8.1)}"
case "$version" in
    4.*) ;;
    *) echo "socket.io-client $version is not 4.x; the server speaks protocol v5 (client 4.x)" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/static/vendor/socket.io"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "socket.io-client@$version" >/dev/null)
tar -xzf "$work/socket.io-client-$version.tgz" -C "$work"

mkdir -p "$dest"
cp "$work/package/dist/socket.io.min.js" "$work/package/dist/socket.io.min.js.map" "$dest/"
cp "$work/package/LICENSE" "$dest/LICENSE"
printf '%s\n' "$version" > "$dest/VERSION"
echo "static/vendor/socket.io: socket.io-client $version"
