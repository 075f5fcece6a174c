#!/usr/bin/env bash
# What the tests drive besides Python: Debian's Chromium (with fonts, so Korean
# and emoji show in the screenshots), nginx (the scale-out recipe) and, from npm,
# axe-core (the accessibility checker the browser tests load into each page, at
# the version tests/browser/package-lock.json pins, into tests/browser/node_modules).
# Installed when missing and we may (root with apt-get, as in CI); elsewhere the
# tests that need them skip, and say why.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi nanum || missing+=(fonts-nanum fonts-noto-color-emoji)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-test-tools: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "install-test-tools: missing ${missing[*]} and no way to install them here" >&2
  fi
fi
browser_tests="$(cd "$(dirname "$0")/../tests/browser" && pwd)"
installed="$browser_tests/node_modules/.package-lock.json"
if command -v npm >/dev/null 2>&1 \
   && { [ ! -f "$installed" ] || [ "$browser_tests/package-lock.json" -nt "$installed" ]; }; then
  npm ci --prefix "$browser_tests" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
