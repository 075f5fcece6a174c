"""The eventlet tuning's stock fallback: a server whose libraries differ, or told not to
tune, starts stock, says so in one line, and chats; one with the expected libraries is tuned.
"""
from __future__ import annotations

import sys
import textwrap

import pytest

from tests.helpers import eventlet_only

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
