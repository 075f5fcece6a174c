"""What the eventlet tuning assumes of upstream, and that the app package stays free of it.

An upgrade of eventlet or python-engineio fails the fingerprint test with the
functions to re-read (docs/architecture.md, "After an upgrade").
"""
from __future__ import annotations

import subprocess
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet  # noqa: F401

from comongus.eventlet_tuning.upstream import FINGERPRINTED, expected_fingerprints, fingerprint
from tests.helpers import ROOT


def test_upstream_functions_are_the_ones_the_tuning_follows():
    expected = expected_fingerprints()
    assert sorted(expected) == sorted(FINGERPRINTED)
    changed = [name for name in FINGERPRINTED if fingerprint(name) != expected[name]]
    assert not changed, (
        "upstream changed the source of " + ", ".join(changed) + ": re-read each against the "
        "hook that follows it (comongus/eventlet_tuning/upstream.py says which), then update "
        "comongus/eventlet_tuning/fingerprints.json and VERSIONS")


def test_the_app_package_imports_nothing_of_the_tuning():
    code = ("import sys; from comongus import create_app; "
            "create_app({'SOCKETIO_ASYNC_MODE': 'threading'}); "
            "print(sorted(m for m in sys.modules if m.startswith('comongus.eventlet_tuning')))")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
