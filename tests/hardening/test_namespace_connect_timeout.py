"""The namespace-connect timeout blames a client only for its own silence.

A session that has not connected the Socket.IO namespace after
NAMESPACE_CONNECT_TIMEOUT seconds is closed. A server that falls behind (here
held still with SIGSTOP, as a hub busy with thousands of joins is) has its
clients' namespace CONNECTs waiting unread or unhandled past that time: those
clients did nothing wrong, so they must end up connected and joined, and no
log line may call them malformed. A client that really sends nothing is still
closed, and the log says it sent nothing.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import websocket

from tests.clients import next_packet
from tests.helpers import held_still, wait_for

TIMEOUT = 3.0  # NAMESPACE_CONNECT_TIMEOUT of these servers


def engineio_session(url: str):
    """A raw WebSocket with the Engine.IO handshake done, the namespace not yet connected."""
    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=15)
    assert ws.recv().startswith("0{")
    return ws


class PollingSession:
    """A raw long-polling Engine.IO session, namespace not yet connected."""

    def __init__(self, url: str) -> None:
        self.url = url + "/socket.io/?EIO=4&transport=polling"
        self.url += "&sid=" + json.loads(requests.get(self.url, timeout=5).text[1:])["sid"]
        self.posted: list[int] = []

    def post(self, data: str) -> None:
        self.posted.append(requests.post(self.url, data=data, timeout=30).status_code)

    def next_packet(self, prefix: str) -> str:
        """The next packet that starts with `prefix`; "" once the session is gone."""
        while True:
            answer = requests.get(self.url, timeout=30)
            if answer.status_code != 200:
                return ""
            for packet in answer.text.split("\x1e"):
                if packet == "2":
                    self.post("3")
                elif packet == "1" or packet.startswith(prefix):
                    return packet


def join_payload(n: int) -> str:
    return "420" + json.dumps(["join", {"name": f"Late{n}", "room": "lobby"}])


@pytest.mark.parametrize("past_deadline", [0.3, 2.0], ids=["just past", "long past"])
def test_clients_whose_connect_waits_on_a_stalled_server_connect_and_join(servers, past_deadline):
    """The server is held still from before every session's deadline until past it.

    On waking it fires the sessions' timers before it reads their sockets: just
    past the deadline the timers are only a little late, long past it they are
    late enough to say the server is behind."""
    server = servers({"NAMESPACE_CONNECT_TIMEOUT": str(TIMEOUT)})
    sockets = [engineio_session(server.url) for _ in range(12)]
    polls = [PollingSession(server.url) for _ in range(4)]
    with held_still(server):
        for ws in sockets:
            ws.send("40")  # waits in the server's socket buffer
        posts = [threading.Thread(target=poll.post, args=("40",)) for poll in polls]
        for post in posts:
            post.start()
        time.sleep(TIMEOUT + past_deadline)
    for post in posts:
        post.join(30)

    connected = [next_packet(ws, "40")[:3] for ws in sockets] + \
        [poll.next_packet("40")[:3] for poll in polls]
    assert connected == ["40{"] * len(connected), server.log()
    for n, ws in enumerate(sockets):
        ws.send(join_payload(n))
        assert json.loads(next_packet(ws, "430")[3:])[0] is None, server.log()
    for n, poll in enumerate(polls, start=len(sockets)):
        poll.post(join_payload(n))
        assert json.loads(poll.next_packet("430")[3:])[0] is None, server.log()
    assert all(status == 200 for poll in polls for status in poll.posted)
    log = server.full_log()
    assert "malformed" not in log
    assert "closed sid" not in log
    for ws in sockets:
        ws.close()


def test_session_that_sends_nothing_is_closed_and_the_log_says_so(servers):
    server = servers({"NAMESPACE_CONNECT_TIMEOUT": "1"})
    ws = engineio_session(server.url)
    assert next_packet(ws, "4") in ("", "1")  # closed by the server, not answered
    sid = json.loads(requests.get(server.url + "/socket.io/?EIO=4&transport=polling",
                                  timeout=5).text[1:])["sid"]  # a second one, by long-polling
    assert requests.get(server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}",
                        timeout=10).text == "1"
    log = server.full_log()
    assert log.count("sent nothing within 1 s") == 2, log
    assert f"closed sid {sid}: it sent nothing within 1 s" in log


def test_session_that_sends_events_but_never_connects_is_closed_and_the_log_says_so(servers):
    """Sending something buys no time: once what it sent is handled, the timeout holds."""
    server = servers({"NAMESPACE_CONNECT_TIMEOUT": "1"})
    ws = engineio_session(server.url)
    ws.send(join_payload(0))  # an event, with no namespace connected
    assert next_packet(ws, "4") in ("", "1")
    log = server.full_log()
    assert "it sent 1 packets but connected no namespace within 1 s" in log, log
    assert "sent nothing" not in log


def test_client_that_connects_and_closes_at_once_is_not_called_malformed(servers):
    """Its CONNECT is still queued when its close ends the session: dropped, not blamed."""
    server = servers()
    poll = PollingSession(server.url)
    poll.post("40\x1e1")
    assert poll.posted == [200]

    def dealt_with():
        log = server.full_log()
        return ("malformed" in log or "dropped" in log) and log

    log = wait_for(dealt_with, timeout=10, message="the queued CONNECT to be dealt with")
    assert "malformed" not in log, log
    assert "Traceback" not in log, log
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
