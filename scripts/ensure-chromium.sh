#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when it is missing and we
# may (root with apt-get, as in CI); elsewhere say so, and those tests skip.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi nanum; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium" >&2
  apt-get update -qq
  # Fonts too, so Korean and emoji show in the screenshots instead of empty boxes.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum \
    fonts-noto-color-emoji >/dev/null
elif ! command -v chromium >/dev/null 2>&1; then
  echo "ensure-chromium: no chromium and no way to install it here; browser tests will skip" >&2
fi
