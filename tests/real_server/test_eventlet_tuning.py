"""The eventlet tuning's seam: what it assumes of upstream, and the stock fallback.

An upgrade of eventlet or python-engineio fails the fingerprint test with the
functions to re-read (docs/architecture.md, "After an upgrade"); a server whose
libraries differ starts stock, says so in one line, and chats.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet  # noqa: F401

from comongus.eventlet_tuning.upstream import FINGERPRINTED, expected_fingerprints, fingerprint
from tests.helpers import ROOT, ServerProcess
from tests.test_real_server import ChatClient


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


# `python app.py`, with the installed eventlet's version reported as another.
FAKE_EVENTLET_VERSION = textwrap.dedent("""
    import importlib.metadata, runpy
    real_version = importlib.metadata.version
    importlib.metadata.version = (
        lambda name: "0.0.1" if name == "eventlet" else real_version(name))
    runpy.run_path("app.py", run_name="__main__")
""")


def _chat_works(server) -> None:
    sender, reader = (ChatClient(server.url, ["websocket"]) for _ in range(2))
    try:
        assert reader.call("join", {"name": "Reader", "room": "lobby"})[0] is None
        assert sender.call("join", {"name": "Sender", "room": "lobby"})[0] is None
        assert sender.call("sendMessage", "over a stock server")[0] is None
        reader.wait_for_text("over a stock server")
    finally:
        sender.close()
        reader.close()


@pytest.mark.parametrize("how, says", [
    ("fake version", "eventlet tuning not installed, serving stock: eventlet is 0.0.1"),
    ("COMONGUS_TUNING=off", "eventlet tuning off (COMONGUS_TUNING): serving stock"),
])
def test_a_server_that_may_not_be_tuned_starts_stock_says_so_once_and_chats(tmp_path, how, says):
    if how == "fake version":
        server = ServerProcess(tmp_path, env={"COMONGUS_TUNING": "on"},
                               command=[sys.executable, "-c", FAKE_EVENTLET_VERSION])
    else:
        server = ServerProcess(tmp_path, env={"COMONGUS_TUNING": "off"})
    server.start()
    try:
        _chat_works(server)
        log = server.log()
        assert log.count("eventlet tuning") == 1, log
        assert says in log, log
        assert "Traceback" not in log
    finally:
        server.stop()


def test_a_server_with_the_expected_libraries_is_tuned(tmp_path):
    server = ServerProcess(tmp_path, env={"COMONGUS_TUNING": "on"}).start()
    try:
        _chat_works(server)
        assert server.log().count("eventlet tuning installed") == 1
    finally:
        server.stop()
