"""A crowd arriving at once cannot hold up the people already in the chat.

Each new connection's handshake is work for the server. Taken all before
anything else, as eventlet's accept loop would (and gevent's, a hundred at a
time), two thousand arriving together (a lecture starting, or an attacker with
many addresses) would be let in one handshake after another before the next
message of someone already chatting. Here the server is held still (SIGSTOP)
while the crowd connects from a hundred other addresses and sends its WebSocket
upgrades, and the victim sends a message: when the server runs again, all of it
is waiting at once. The victim's message must be acked before most of the crowd
is let in, and then the whole crowd gets in.
"""
from __future__ import annotations

import json
import resource
import select

from tests.clients import engineio_websocket, next_packet, open_from, upgrade_request
from tests.helpers import held_still

CROWD = [f"127.0.1.{host}" for host in range(1, 101) for _ in range(20)]


def answered(sockets) -> int:
    """How many of `sockets` have an answer waiting to be read."""
    poll = select.poll()
    for sock in sockets:
        poll.register(sock, select.POLLIN)
    return len(poll.poll(0))


def test_a_crowd_arriving_at_once_waits_behind_those_already_in(servers):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a socket per person
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    server = servers()
    victim = engineio_websocket(server.url, timeout=30)
    victim.send('420["join",{"name":"Vic","room":"hall"}]')
    assert json.loads(next_packet(victim, "430")[3:])[0] is None
    crowd = []
    try:
        with held_still(server):
            for address in CROWD:
                crowd.append(open_from(address, server.port, timeout=30))
                crowd[-1].sendall(upgrade_request(server.port))
            victim.send('421["sendMessage","still here"]')
        error, message = json.loads(next_packet(victim, "431")[3:])
        let_in_before = answered(crowd)
        assert error is None and message["text"] == "still here"
        assert let_in_before < len(crowd) // 2, (
            f"{let_in_before} of {len(crowd)} let in before the victim's message was acked")
        for sock in crowd:
            assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    finally:
        for sock in crowd:
            sock.close()
        victim.close()
