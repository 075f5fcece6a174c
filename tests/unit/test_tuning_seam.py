"""What the eventlet tuning assumes of upstream, and that the app package stays free of it.

An upgrade of eventlet or python-engineio fails the fingerprint test with the
functions to re-read (docs/architecture.md, "After an upgrade"). The hooks a
maintainer leaves out to measure the others (COMONGUS_TUNING_WITHOUT) are checked
before anything is installed.
"""
from __future__ import annotations

import subprocess
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet  # noqa: F401

import pytest

from comongus.config import SettingError, load_config
from comongus.eventlet_tuning import HOOKS, hooks_to_install
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


def test_every_hook_is_installed_unless_left_out():
    assert hooks_to_install(()) == set(HOOKS)
    assert hooks_to_install(("parking",)) == set(HOOKS) - {"parking"}
    assert hooks_to_install(("direct_write", "broadcast_frames", "ping_timers")) == \
        set(HOOKS) - {"direct_write", "broadcast_frames", "ping_timers"}


def test_a_hook_name_that_is_no_hook_stops_the_start_and_lists_the_hooks():
    with pytest.raises(SettingError) as refused:
        hooks_to_install(("parking", "shared_frames"))
    assert "names no hook shared_frames" in str(refused.value)
    assert all(hook in str(refused.value) for hook in HOOKS)


def test_leaving_out_a_hook_that_others_need_names_every_one_of_them():
    with pytest.raises(SettingError) as refused:
        hooks_to_install(("send_queue",))
    assert "needed by direct_write, broadcast_frames, parking" in str(refused.value)
    assert hooks_to_install(("send_queue", "direct_write", "broadcast_frames", "parking")) == \
        {"fair_reads", "ping_timers", "room_index"}


def test_the_hooks_to_leave_out_are_read_from_a_comma_separated_list():
    assert load_config({"COMONGUS_TUNING_WITHOUT": " Parking, ,direct_write "},
                       "/tmp")["TUNING_WITHOUT"] == ("parking", "direct_write")
    assert load_config({}, "/tmp")["TUNING_WITHOUT"] == ()
