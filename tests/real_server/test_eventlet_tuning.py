"""The eventlet tuning's stock fallback: a server whose libraries differ, or told not to
tune, starts stock, says so in one line, and chats; one with the expected libraries is tuned.
A server told to leave hooks out (COMONGUS_TUNING_WITHOUT, for measuring them) chats with
the rest, and one given a name that is no hook does not start.
"""
from __future__ import annotations

import sys
import textwrap

import pytest

from tests.helpers import eventlet_only, start_up

pytestmark = eventlet_only

# `python app.py`, with the installed eventlet's version reported as another.
FAKE_EVENTLET_VERSION = textwrap.dedent("""
    import importlib.metadata, runpy
    real_version = importlib.metadata.version
    importlib.metadata.version = (
        lambda name: "0.0.1" if name == "eventlet" else real_version(name))
    runpy.run_path("app.py", run_name="__main__")
""")


def _chat_works(server, clients) -> None:
    sender, reader = (clients(server.url, ["websocket"]) for _ in range(2))
    assert reader.call("join", {"name": "Reader", "room": "lobby"})[0] is None
    assert sender.call("join", {"name": "Sender", "room": "lobby"})[0] is None
    assert sender.call("sendMessage", "over a stock server")[0] is None
    reader.wait_for_text("over a stock server")


@pytest.mark.parametrize("how, says", [
    ("fake version", "eventlet tuning not installed, serving stock: eventlet is 0.0.1"),
    ("COMONGUS_TUNING=off", "eventlet tuning off (COMONGUS_TUNING): serving stock"),
])
def test_a_server_that_may_not_be_tuned_starts_stock_says_so_once_and_chats(servers, clients,
                                                                           how, says):
    if how == "fake version":
        server = servers({"COMONGUS_TUNING": "on"},
                         command=[sys.executable, "-c", FAKE_EVENTLET_VERSION])
    else:
        server = servers({"COMONGUS_TUNING": "off"})
    _chat_works(server, clients)
    log = server.log()
    assert log.count("eventlet tuning") == 1, log
    assert says in log, log
    assert "Traceback" not in log


def test_a_server_with_the_expected_libraries_is_tuned(servers, clients):
    server = servers({"COMONGUS_TUNING": "on"})
    _chat_works(server, clients)
    assert server.log().count("eventlet tuning installed") == 1


@pytest.mark.parametrize("without, says", [
    ("broadcast_frames", "without broadcast_frames"),
    ("direct_write,broadcast_frames", "without direct_write, broadcast_frames"),
    ("ping_timers", "without ping_timers"),
    ("parking", "without parking"),
    ("parking,fair_reads", "without fair_reads, parking"),
    ("parking,direct_write,broadcast_frames,send_queue",
     "without send_queue, direct_write, broadcast_frames, parking"),
])
def test_a_server_tuned_without_some_hooks_says_which_and_chats(servers, clients, without, says):
    server = servers({"COMONGUS_TUNING": "on", "COMONGUS_TUNING_WITHOUT": without})
    _chat_works(server, clients)
    log = server.log()
    assert log.count("eventlet tuning installed") == 1, log
    assert f"eventlet tuning installed {says} (COMONGUS_TUNING_WITHOUT)" in log, log


@pytest.mark.parametrize("without, message", [
    ("parking,fast_path", "COMONGUS_TUNING_WITHOUT names no hook fast_path (the hooks: "),
    ("fair_reads", "COMONGUS_TUNING_WITHOUT leaves out fair_reads, needed by parking"),
])
def test_a_hook_to_leave_out_that_cannot_be_stops_the_start(tmp_path, without, message):
    result = start_up({"COMONGUS_TUNING_WITHOUT": without,
                       "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
