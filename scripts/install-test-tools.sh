#!/usr/bin/env bash
# What the tests drive besides Python: Debian's Chromium (with fonts, so Korean
# and emoji show in the screenshots) and nginx (the scale-out recipe). Installed
# when missing and we may (root with apt-get, as in CI); elsewhere the tests that
# need them skip, and say why.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi nanum || missing+=(fonts-nanum fonts-noto-color-emoji)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "install-test-tools: missing ${missing[*]} and no way to install them here" >&2
fi
