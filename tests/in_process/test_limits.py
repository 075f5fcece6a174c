"""What one client may cost, seen through the Flask and Socket.IO test clients: a sender
that keeps flooding is disconnected; pages and REST say what they are."""
from __future__ import annotations

import json
import time

import pytest


@pytest.mark.settings(SEND_BURST=3, SEND_RATE_PER_SECOND=0.01, FLOOD_CLOSE_SECONDS=0.5)
def test_sender_that_keeps_flooding_is_disconnected(connect):
    flooder, bob = connect(), connect()
    flooder.join("Flood", "lobby")
    bob.join("Bob", "lobby")
    acks = [flooder.emit("sendMessage", f"m{i}") for i in range(9)]
    assert [ack[0] for ack in acks[:3]] == [None] * 3
    assert all("too fast" in ack[0] for ack in acks[3:])
    assert flooder.client.is_connected()  # a burst is refused, not punished
    deadline = time.monotonic() + 5
    while flooder.client.is_connected() and time.monotonic() < deadline:
        flooder.emit("sendMessage", "more")  # refused on and on, never pausing a second
        time.sleep(0.05)
    assert not flooder.client.is_connected()
    bob.wait_for_text("Flood has left.")
    assert [m["text"] for m in bob.events("message") if m["user"] == "Flood"] == ["m0", "m1", "m2"]


def test_pages_and_rest_say_what_they_are(client):
    page = client.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    rest = client.get("/messages")
    assert rest.headers["Content-Type"] == "application/json"
    assert rest.headers["X-Content-Type-Options"] == "nosniff"
    json.loads(rest.data)
