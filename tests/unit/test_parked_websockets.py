"""eventlet's WebSocket as the parked connections use it: closed by two tasks at
once (the client's close frame and the session's end), it closes once, quietly;
lightened (a send lock whose waiters' queue is made when needed), it still sends
whole messages from tasks that write at once; its socket, without the methods it
copied onto itself, still shuts down and closes."""
from __future__ import annotations

import errno
import io
import socket
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's own deprecation notice
    import eventlet
    import eventlet.green.socket
    import eventlet.greenio
    from eventlet.websocket import RFC6455WebSocket

from comongus.eventlet_tuning.parked_websockets import (
    ClosedOnce,
    SendLock,
    _drop_copied_socket_methods,
    lighten_websocket,
)

LARGER_THAN_THE_SOCKET_BUFFERS = "x" * (4 * 1024 * 1024)


def assert_closed(server_end, errors, logged) -> None:
    """The socket is closed, and eventlet's log holds `logged` (None: nothing)."""
    if logged is None:
        assert errors.getvalue() == ""
    else:
        assert logged in errors.getvalue()
    assert server_end.fileno() == -1


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
    client = RFC6455WebSocket(client_end, {}, client=True)
    # A write the client has not read yet: both closers wait behind it.
    writer = eventlet.spawn(ws.send, LARGER_THAN_THE_SOCKET_BUFFERS)
    eventlet.sleep(0.1)
    closers = [eventlet.spawn(ws.close) for _ in range(2)]
    eventlet.sleep(0.1)
    assert client.wait() == LARGER_THAN_THE_SOCKET_BUFFERS
    writer.wait()
    for closer in closers:
        closer.wait()

    assert_closed(server_end, errors, logged)
    assert client.wait() is None  # the close frame came, then the end of the stream


def first_caller_runs_eventlets_close(ws, close_data=None):
    """ClosedOnce's guard around eventlet's own close, which shuts down the socket
    whatever its state."""
    if ws.__dict__.get("comongus_closing"):
        return
    ws.comongus_closing = True
    RFC6455WebSocket.close(ws, close_data)


@pytest.mark.parametrize("close, logged", [
    (first_caller_runs_eventlets_close, "socket shutdown error"),
    (ClosedOnce.close, None),
])
def test_a_connection_ended_while_the_first_close_waits_for_a_write_is_closed_quietly(
        close, logged):
    server_end, client_end = eventlet.green.socket.socketpair()
    server_end.settimeout(0.5)  # a parked WebSocket's socket has one (for a frame's rest)
    errors = io.StringIO()
    ws = RFC6455WebSocket(server_end, {"wsgi.errors": errors})
    ws.__class__ = ClosedOnce
    writer = eventlet.spawn(ws.send, LARGER_THAN_THE_SOCKET_BUFFERS)  # the client never reads
    eventlet.sleep(0.1)
    first = eventlet.spawn(close, ws)  # the client's close frame, say: waits for the write
    eventlet.sleep(0.1)
    close(ws)  # the session's end: returns at once, and ends the connection as
    eventlet.greenio.shutdown_safe(server_end)  # eventlet's server does
    server_end.close()
    with pytest.raises(OSError):
        writer.wait()  # the write times out and lets the first close go on
    first.wait()

    assert_closed(server_end, errors, logged)
    client_end.close()


@pytest.mark.parametrize("lighten", [False, True])
def test_messages_sent_by_tasks_at_once_arrive_whole(lighten):
    server_end, client_end = eventlet.green.socket.socketpair()
    errors = io.StringIO()
    ws = RFC6455WebSocket(server_end, {"wsgi.errors": errors})
    if lighten:
        lighten_websocket(ws)
    client = RFC6455WebSocket(client_end, {}, client=True)
    # Each larger than the socket buffers: every writer after the first must wait
    # for the lock while the one before it is blocked half-way through its frame.
    messages = [letter * (4 * 1024 * 1024) for letter in "abc"]
    writers = [eventlet.spawn(ws.send, message) for message in messages]
    eventlet.sleep(0.1)

    with eventlet.Timeout(10):  # interleaved frames leave the client waiting
        received = [client.wait() for _ in messages]
        for writer in writers:
            writer.wait()
    assert sorted(received) == messages  # whole: no frame interleaved with another
    ws.__class__ = ClosedOnce
    ws.close()
    assert_closed(server_end, errors, None)


def test_the_send_lock_lets_one_task_in_at_a_time_and_times_out_a_waiter():
    lock = SendLock()
    inside, most_inside = [], 0

    def hold(seconds):
        nonlocal most_inside
        with lock:
            inside.append(1)
            most_inside = max(most_inside, len(inside))
            eventlet.sleep(seconds)
            inside.pop()

    holders = [eventlet.spawn(hold, 0.05) for _ in range(4)]
    eventlet.sleep(0)
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.01) is False  # four holders of 0.05 s each are ahead
    for holder in holders:
        holder.wait()
    assert most_inside == 1
    assert lock.acquire(blocking=False) is True
    lock.release()


def test_a_socket_without_its_copied_methods_still_shuts_down_and_closes():
    """A parked connection drops the socket methods GreenSocket copies onto itself;
    they come back when used, so the connection's end still reaches the peer."""
    server_end, client_end = eventlet.green.socket.socketpair()
    _drop_copied_socket_methods(server_end)
    assert not {"close", "shutdown", "setsockopt"} & set(vars(server_end))
    server_end.sendall(b"last words")
    server_end.shutdown(socket.SHUT_WR)
    assert client_end.recv(100) == b"last words"
    assert client_end.recv(100) == b""  # the shutdown reached the peer
    server_end.close()
    assert server_end.fileno() == -1
    client_end.close()


def test_a_failed_shutdown_is_logged_with_the_client_it_was_for():
    """ClosedOnce keeps no log context of its own; the line still says whose socket."""

    class SocketThatFailsToShutDown:
        def fileno(self):
            return 7

        def sendall(self, data):
            pass  # the close frame

        def shutdown(self, how):
            raise OSError(errno.EPIPE, "Broken pipe")

        def close(self):
            pass

    errors = io.StringIO()
    environ = {"wsgi.errors": errors, "HTTP_HOST": "chat.example:5000", "SCRIPT_NAME": "",
               "PATH_INFO": "/socket.io/", "REMOTE_ADDR": "127.0.0.9", "REMOTE_PORT": "40123"}
    ws = RFC6455WebSocket(SocketThatFailsToShutDown(), environ)
    ClosedOnce.adopt(ws)
    ws.close()
    assert errors.getvalue() == ("server=chat.example:5000//socket.io/ client=127.0.0.9:40123 "
                                 "socket shutdown error: [Errno 32] Broken pipe")
