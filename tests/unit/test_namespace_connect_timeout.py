"""The namespace-connect timeout waits for the packets a session sent but the server has
not handled yet.

On a real server that happens to a client whose CONNECT is read just as its
time runs out (tests/hardening/test_namespace_connect_timeout.py holds the
server still instead); here a real python-socketio server, on threads, is fed
Engine.IO messages directly, and the packet before the CONNECT takes as long as
the test likes to handle.
"""
from __future__ import annotations

import logging
import threading
import time

import pytest
import socketio
from engineio.socket import Socket

from comongus.incoming_packets import handle_packets_in_order
from comongus.limits import BEHIND_SECONDS, close_sessions_without_namespace
from tests.helpers import wait_for

TIMEOUT = 0.2
SID = "held"


class Session:
    """A server with one Engine.IO session, opened at once: `receive` hands it a message,
    the packet "slow" is handled once `slow_done` is set, the server's timers wake
    over BEHIND_SECONDS late while `lagging` is set (`late_wakes` counts them), and
    `answers` holds what the timer was told each time it asked whether packets wait."""

    def __init__(self) -> None:
        self.server = server = socketio.Server(async_mode="threading")
        self.slow_done, self.lagging = threading.Event(), threading.Event()
        self.late_wakes, self.answers = 0, []
        handle_message = server.eio.handlers["message"]

        def slow_first(eio_sid, data):
            if data == "slow":  # stands for any packet whose handling takes a while
                self.slow_done.wait(30)
            else:
                handle_message(eio_sid, data)

        server.eio.on("message", slow_first)
        packets = handle_packets_in_order(server, max_pending=16)
        waiting = packets.waiting
        packets.waiting = lambda eio_sid: self.answers.append(waiting(eio_sid)) or \
            self.answers[-1]
        sleep = server.sleep
        server.sleep = lambda seconds: self._lag_after(sleep(seconds))
        close_sessions_without_namespace(server, TIMEOUT, packets)
        server.eio.sockets[SID] = Socket(server.eio, SID)
        server.eio.handlers["connect"](SID, {})  # what Engine.IO calls on a handshake
        self.receive = server.eio.handlers["message"]

    def _lag_after(self, _slept) -> None:
        if self.lagging.is_set():
            time.sleep(BEHIND_SECONDS + 0.2)
            self.late_wakes += 1


@pytest.fixture
def session():
    opened = Session()
    yield opened
    opened.slow_done.set()


def open_(server) -> bool:
    return SID in server.eio.sockets


def test_connect_queued_behind_a_slow_packet_past_the_timeout_still_connects(session, caplog):
    server = session.server
    session.receive(SID, "slow")
    session.receive(SID, "0")  # the namespace CONNECT, queued behind it
    with caplog.at_level(logging.INFO, logger="comongus"):
        wait_for(lambda: len(session.answers) >= 2 or not open_(server),
                 message="the timer to look")
        assert session.answers[:2] == [True, True] and open_(server), caplog.text
        session.slow_done.set()
        wait_for(lambda: server.manager.sid_from_eio_sid(SID, "/"), message="the CONNECT handled")
        assert open_(server)
    assert "closed sid" not in caplog.text


def test_packets_that_connect_no_namespace_buy_no_time_once_handled(session, caplog):
    server = session.server
    with caplog.at_level(logging.INFO, logger="comongus"):
        session.receive(SID, "slow")
        session.slow_done.set()
        wait_for(lambda: not open_(server), message="the session closed")
    assert f"closed sid {SID}: it sent 1 packets but connected no namespace within " \
        f"{TIMEOUT:g} s" in caplog.text


def test_a_silent_session_is_not_judged_while_the_server_is_behind(session, caplog):
    server = session.server
    with caplog.at_level(logging.INFO, logger="comongus"):
        session.lagging.set()
        wait_for(lambda: session.late_wakes >= 3 or not open_(server), timeout=15,
                 message="three late wake-ups")
        assert open_(server), caplog.text
        session.lagging.clear()
        wait_for(lambda: not open_(server), message="the session closed")
    assert f"closed sid {SID}: it sent nothing within {TIMEOUT:g} s" in caplog.text
