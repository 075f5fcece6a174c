#!/usr/bin/env bash
# Fail on known vulnerabilities in the pinned requirements, and on pins below the
# versions that fixed the advisories issue 4 names.
#
#   bash scripts/audit-dependencies.sh        (from the repository root; uses .venv)
#
# pip-audit resolves requirements.txt and asks PyPI's JSON API about each
# `name==version`. Where that per-version page is not served (some mirrors only
# serve the per-project page), pip-audit skips the package and, without
# --strict, still says "No known vulnerabilities found". This script does not
# trust that: for a skipped package it reads the per-project page, whose
# `vulnerabilities` list describes the latest release, and audits the pin from
# it when the pin is that release. A package it still cannot audit fails the
# run, unless AUDIT_ALLOW_UNAUDITED=1.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
PIP_AUDIT="${PIP_AUDIT:-.venv/bin/pip-audit}"
REQUIREMENTS="${1:-requirements.txt}"

# 1. Pins at or above the fixed versions.
pins_ok=0
"$PYTHON" - "$REQUIREMENTS" <<'PY' || pins_ok=1
import re
import sys

from packaging.version import Version

MINIMUM = {"python-engineio": "4.13.2", "python-socketio": "5.16.2", "eventlet": "0.40.3"}
pins = {}
for line in open(sys.argv[1]):
    match = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+?)(\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
    if match:
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
failed = False
for name, minimum in MINIMUM.items():
    pinned = pins.get(name)
    if pinned is None:
        print(f"FAIL {name} is not pinned with == in {sys.argv[1]}")
        failed = True
    elif Version(pinned) < Version(minimum):
        print(f"FAIL {name}=={pinned} is below {minimum}, the release that fixed its advisories")
        failed = True
    else:
        print(f"ok   {name}=={pinned} (at least {minimum})")
sys.exit(1 if failed else 0)
PY

# 2. Known vulnerabilities.
report="$(mktemp)"
errors="$(mktemp)"
trap 'rm -f "$report" "$errors"' EXIT
status=0
"$PIP_AUDIT" -r "$REQUIREMENTS" --format json --progress-spinner off >"$report" 2>"$errors" \
    || status=$?
if [ ! -s "$report" ]; then
    cat "$errors"
    echo "FAIL pip-audit gave no report (exit $status)"
    exit 1
fi
"$PYTHON" - "$report" <<'PY'
import json
import os
import re
import sys

import requests
from packaging.version import Version

report = json.load(open(sys.argv[1]))
vulnerable, unaudited, audited = [], [], 0
for dep in report["dependencies"]:
    if "skip_reason" not in dep:
        audited += 1
        vulnerable += [(dep["name"], dep["version"], v["id"], v.get("fix_versions"))
                       for v in dep.get("vulns", [])]
        continue
    found = re.search(r"\(([^()]+)\)\s*$", dep["skip_reason"])
    if "not found on PyPI" not in dep["skip_reason"] or not found:
        unaudited.append((dep["name"], dep["skip_reason"]))
        continue
    version = found.group(1)
    try:
        page = requests.get(f"https://pypi.org/pypi/{dep['name']}/json", timeout=30)
        page.raise_for_status()
        project = page.json()
    except (requests.RequestException, ValueError) as error:
        unaudited.append((dep["name"], f"{version}: project page unavailable: {error}"))
        continue
    latest = project["info"]["version"]
    if Version(latest) != Version(version):
        unaudited.append((dep["name"], f"{version} is not the latest release ({latest}); "
                                       "the per-version feed is not reachable"))
        continue
    audited += 1
    vulnerable += [(dep["name"], version, v["id"], v.get("fixed_in"))
                   for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]

for name, version, vuln_id, fixed in vulnerable:
    print(f"FAIL {name}=={version}: {vuln_id} (fixed in {', '.join(fixed or []) or 'no release'})")
for name, reason in unaudited:
    print(f"{'warn' if os.environ.get('AUDIT_ALLOW_UNAUDITED') == '1' else 'FAIL'} "
          f"{name} could not be audited: {reason}")
print(f"{audited} packages audited, {len(vulnerable)} known vulnerabilities, "
      f"{len(unaudited)} not audited")
if vulnerable or (unaudited and os.environ.get("AUDIT_ALLOW_UNAUDITED") != "1"):
    sys.exit(1)
PY
exit "$pins_ok"
