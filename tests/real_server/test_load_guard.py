"""A small fan-out: 200 people in one room, no message lost and nobody dropped.

A guard against regressions in the broadcast path, not a speed test: it fails on
loss or a disconnect, never on time (benchmarks/ measures speed). Every person is
a raw WebSocket read by a thread of its own, so the test needs nothing outside
the repository.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.clients import RawMember
from tests.helpers import wait_for

PEOPLE, SENDERS, ROUNDS = 200, 10, 5  # ten senders, one message a second each, for 5 s
COMPRESSION_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"


@pytest.mark.slow
def test_two_hundred_people_in_one_room_get_every_message(servers):
    server = servers({"MAX_CONNECTIONS_PER_ADDRESS": "0", "HANDSHAKES_PER_SECOND": "0"})

    def arrive(number: int) -> RawMember:
        return RawMember(server.url, f"P{number:03d}", "crowd", timeout=30,
                         header=[COMPRESSION_OFFER])  # as browsers offer it

    people: list[RawMember] = []
    try:
        with ThreadPoolExecutor(20) as pool:
            people.extend(pool.map(arrive, range(PEOPLE)))
        assert [person.join_error for person in people] == [None] * PEOPLE
        # The offer was refused: one framed packet serves every recipient.
        assert not any("sec-websocket-extensions" in {k.lower() for k in p.ws.getheaders()}
                       for p in people)
        senders, sent = people[:SENDERS], []
        for round_ in range(ROUNDS):
            started = time.monotonic()
            for number, sender in enumerate(senders):
                sent.append((sender, sender.send(f"round {round_} from sender {number}")))
            time.sleep(max(0.0, 1 - (time.monotonic() - started)))
        wait_for(lambda: all(ack_id in sender.acks for sender, ack_id in sent), timeout=30,
                 message="every send acked")
        assert [sender.acks[ack_id][0] for sender, ack_id in sent] == [None] * len(sent)
        texts = sorted(sender.acks[ack_id][1]["text"] for sender, ack_id in sent)
        wait_for(lambda: all(len(p.messages) >= len(sent) or p.closed for p in people),
                 timeout=30, message="every message to every person")
        dropped = [p for p in people if p.closed]
        assert not dropped, f"{len(dropped)} of {PEOPLE} people were dropped"
        for person in people:
            assert sorted(m["text"] for m in person.messages) == texts
    finally:
        for person in people:
            person.close()
