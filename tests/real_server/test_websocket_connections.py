"""A WebSocket's life on the real server (`python app.py`), which, tuned, parks an
idle WebSocket with no task of its own (comongus/eventlet_tuning/parked_websockets.py),
and stock keeps Engine.IO's two tasks: the move from
long-polling, the connection caps, a client that stops half-way through a frame,
and the close frame at the end."""
from __future__ import annotations

import json
import socket
import sys
import time

import pytest
import requests
import websocket

from tests.clients import engineio_websocket, read_events
from tests.helpers import wait_for


def _move_to_websocket_and_chat(server, clients) -> None:
    """A client that starts on long-polling moves to WebSocket; it and a client
    that started there exchange messages, each delivered once."""
    mover = clients(server.url, ["polling", "websocket"])
    other = clients(server.url, ["websocket"])
    assert mover.call("join", {"name": "Mover", "room": "lobby"})[0] is None
    assert other.call("join", {"name": "Other", "room": "lobby"})[0] is None
    wait_for(lambda: mover.sio.transport() == "websocket", message="the upgrade")
    assert mover.call("sendMessage", "from the upgraded socket")[0] is None
    other.wait_for_text("from the upgraded socket")
    assert other.call("sendMessage", "to the upgraded socket")[0] is None
    mover.wait_for_text("to the upgraded socket")
    assert mover.texts().count("to the upgraded socket") == 1


def test_a_client_that_starts_on_long_polling_moves_to_websocket_and_chats(servers, clients):
    _move_to_websocket_and_chat(servers(), clients)


def test_a_packet_sent_with_the_upgrade_packet_is_handled_at_once(servers):
    """A browser may put its next packet in the same segment as the upgrade packet
    ("5"); the server must handle it then, not when the client next sends."""
    server = servers()
    polling = server.url + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(polling, timeout=5).text[1:])["sid"]
    polling += "&sid=" + sid
    assert requests.post(polling, data="40", timeout=5).status_code == 200
    assert requests.get(polling, timeout=5).text.startswith("40{")
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + f"/socket.io/?EIO=4&transport=websocket&sid={sid}",
        timeout=5)
    ws.send("2probe")
    assert ws.recv() == "3probe"
    join = '421["join",{"name":"Quick","room":"lobby"}]'
    ws.sock.sendall(b"".join(websocket.ABNF.create_frame(text, websocket.ABNF.OPCODE_TEXT)
                             .format() for text in ("5", join)))
    ws.settimeout(2)
    frames = [ws.recv()]  # a no-op (the poll's end), the welcome, the ack
    while not frames[-1].startswith("431[") and len(frames) < 5:
        frames.append(ws.recv())
    assert frames[-1].startswith("431[null,"), frames
    ws.close()


def test_a_quiet_websocket_stays_open_on_heartbeats_alone(servers, clients):
    server = servers({"SOCKET_TIMEOUT": "1", "PING_INTERVAL": "0.5", "PING_TIMEOUT": "1"})
    quiet = clients(server.url, ["websocket"])
    assert quiet.call("join", {"name": "Quiet", "room": "lobby"})[0] is None
    time.sleep(4)  # eight heartbeats, four socket timeouts
    assert quiet.sio.connected
    assert quiet.call("sendMessage", "still here")[0] is None
    quiet.wait_for_text("still here")


def test_websockets_work_under_eventlet_servers_other_than_serve(servers, clients):
    """Flask-SocketIO's own `socketio.run` on eventlet has no connection to keep
    open: WebSockets there stay on Engine.IO's handler and its tasks."""
    start = ("import eventlet; eventlet.monkey_patch(); from app import app; "
             "from comongus.extensions import socketio; "
             "socketio.run(app, host='127.0.0.1', port={port}, log_output=False)")
    _move_to_websocket_and_chat(servers(command=[sys.executable, "-c", start]), clients)


def _status(server) -> int:
    return requests.get(server.url + "/healthz", timeout=5).status_code


def test_open_websockets_count_toward_the_per_address_cap(servers):
    server = servers({"MAX_CONNECTIONS_PER_ADDRESS": "3"})
    sockets = [engineio_websocket(server.url) for _ in range(3)]
    try:
        assert _status(server) == 503  # a fourth connection from 127.0.0.1
        sockets.pop().close()
        wait_for(lambda: _status(server) == 200, message="a slot freed by a closed WebSocket")
    finally:
        for ws in sockets:
            ws.close()


def test_open_websockets_count_toward_the_server_wide_cap(servers):
    server = servers({"MAX_CONNECTIONS": "3"})
    sockets = [engineio_websocket(server.url) for _ in range(3)]
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(server.url + "/healthz", timeout=1)  # waits in the listen backlog
        sockets.pop().close()
        wait_for(lambda: _status(server) == 200, timeout=10,
                 message="a connection served once a WebSocket closed")
    finally:
        for ws in sockets:
            ws.close()


def test_a_websocket_that_stops_half_way_through_a_frame_is_closed_and_leaves(servers):
    server = servers({"PING_INTERVAL": "1", "PING_TIMEOUT": "1"})
    stuck = engineio_websocket(server.url)
    watcher = engineio_websocket(server.url)
    try:
        watcher.send('42["join",{"name":"Watcher","room":"lobby"}]')
        read_events(watcher, "roomData", 1)
        stuck.send('42["join",{"name":"Stuck","room":"lobby"}]')
        read_events(watcher, "message", 1, lambda m: m["text"] == "Stuck has joined!")
        stuck.sock.sendall(b"\x81\xfe")  # a text frame's first bytes, then nothing
        read_events(watcher, "message", 1, lambda m: "Stuck" in m["text"] and "left" in m["text"])
        stuck.sock.settimeout(10)
        assert _read_until_closed(stuck.sock), "the server kept the stuck socket open"
    finally:
        stuck.close()
        watcher.close()


def _read_until_closed(sock: socket.socket) -> bool:
    """True when the server closes the TCP connection (reads to its end)."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def test_a_websocket_gets_a_close_frame_when_the_server_stops(servers):
    server = servers()
    ws = engineio_websocket(server.url)
    ws.send('42["join",{"name":"Alice","room":"lobby"}]')
    read_events(ws, "roomData", 1)
    server.stop()
    ws.settimeout(10)
    opcodes = []
    try:
        while websocket.ABNF.OPCODE_CLOSE not in opcodes:
            opcode, _ = ws.recv_data(control_frame=True)
            opcodes.append(opcode)
    except websocket.WebSocketConnectionClosedException:
        pass
    assert websocket.ABNF.OPCODE_CLOSE in opcodes, f"frames until the end: {opcodes}"
