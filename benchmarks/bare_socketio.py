"""The least a join costs on ComongUS's stack: python-socketio on eventlet, as shipped.

No Flask, no limits, no storage, no presence rounds: a `join` enters the room,
gets the welcome and is answered with the room's list, as the wire contract's
join asks, and nothing else. `join-floor-10000.sh` runs it beside ComongUS and
the seed, so that ComongUS's cost per join can be read against what the
libraries it is built on cost with an empty chat.

    python benchmarks/bare_socketio.py PORT
"""
import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402  (after the monkey-patching, as eventlet asks)

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

server = socketio.Server(async_mode="eventlet")
names_in_room: dict[str, list[str]] = {}


@server.on("join")
def join(sid, fields):
    room, name = fields["room"], fields["name"]
    names = names_in_room.setdefault(room, [])
    names.append(name)
    server.enter_room(sid, room)
    server.emit("message", {"user": "admin", "text": f"{name}, welcome to room {room}."},
                to=sid)
    return None, {"user": {"name": name, "room": room},
                  "users": [{"name": each} for each in names]}


if __name__ == "__main__":
    listener = eventlet.listen(("127.0.0.1", int(sys.argv[1])), backlog=16384)
    eventlet.wsgi.server(listener, socketio.WSGIApp(server), log_output=False,
                         max_size=20000)
