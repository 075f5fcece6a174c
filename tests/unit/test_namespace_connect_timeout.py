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

import pytest
import socketio
from engineio.socket import Socket

from comongus.incoming_packets import handle_packets_in_order
from comongus.limits import close_sessions_without_namespace
from tests.helpers import wait_for

TIMEOUT = 0.2
SID = "held"


@pytest.fixture
def session():
    """(server, the Engine.IO message handler, an Event that ends the slow packet's handling,
    the timer's answers from `waiting` so far)."""
    server = socketio.Server(async_mode="threading")
    slow_done = threading.Event()
    handle_message = server.eio.handlers["message"]

    def slow_first(eio_sid, data):
        if data == "slow":  # stands for any packet whose handling takes a while
            slow_done.wait(30)
        else:
            handle_message(eio_sid, data)

    server.eio.on("message", slow_first)
    packets = handle_packets_in_order(server, max_pending=16)
    answers = []
    waiting = packets.waiting
    packets.waiting = lambda eio_sid: answers.append(waiting(eio_sid)) or answers[-1]
    close_sessions_without_namespace(server, TIMEOUT, packets)
    server.eio.sockets[SID] = Socket(server.eio, SID)
    server.eio._trigger_event("connect", SID, {}, run_async=False)
    yield server, server.eio.handlers["message"], slow_done, answers
    slow_done.set()


def open_(server) -> bool:
    return SID in server.eio.sockets


def test_connect_queued_behind_a_slow_packet_past_the_timeout_still_connects(session, caplog):
    server, receive, slow_done, answers = session
    receive(SID, "slow")
    receive(SID, "0")  # the namespace CONNECT, queued behind it
    with caplog.at_level(logging.INFO, logger="comongus"):
        wait_for(lambda: len(answers) >= 2 or not open_(server), message="the timer to look")
        assert answers[:2] == [True, True] and open_(server), caplog.text
        slow_done.set()
        wait_for(lambda: server.manager.sid_from_eio_sid(SID, "/"), message="the CONNECT handled")
        assert open_(server)
    assert "closed sid" not in caplog.text


def test_packets_that_connect_no_namespace_buy_no_time_once_handled(session, caplog):
    server, receive, slow_done, _ = session
    with caplog.at_level(logging.INFO, logger="comongus"):
        receive(SID, "slow")
        slow_done.set()
        wait_for(lambda: not open_(server), message="the session closed")
    assert f"closed sid {SID}: it connected no namespace within {TIMEOUT:g} s (its 1 packets " \
        "handled)" in caplog.text
