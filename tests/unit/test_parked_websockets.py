"""eventlet's WebSocket as the parked connections use it: closed by two tasks at
once (the client's close frame and the session's end), it closes once, quietly."""
from __future__ import annotations

import io
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet
    import eventlet.green.socket
    from eventlet.websocket import RFC6455WebSocket

from comongus.eventlet_tuning.parked_websockets import ClosedOnce


@pytest.mark.parametrize("websocket_class, logged", [
    (RFC6455WebSocket, "socket shutdown error"),  # what the parked connections avoid
    (ClosedOnce, None),
])
def test_a_websocket_closed_by_two_tasks_while_a_write_holds_it_closes_once(
        websocket_class, logged):
    server_end, client_end = eventlet.green.socket.socketpair()
    errors = io.StringIO()
    ws = RFC6455WebSocket(server_end, {"wsgi.errors": errors})
    ws.__class__ = websocket_class
    ws._sendlock.acquire()  # a write under way: both closers wait to send a close frame
    closers = [eventlet.spawn(ws.close) for _ in range(2)]
    eventlet.sleep(0)
    ws._sendlock.release()
    for closer in closers:
        closer.wait()

    if logged is None:
        assert errors.getvalue() == ""
    else:
        assert logged in errors.getvalue()
    assert server_end.fileno() == -1
    assert client_end.recv(64)[:1] == b"\x88"  # one close frame reached the client
    assert client_end.recv(64) == b""
